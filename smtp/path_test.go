package smtp

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	for _, tc := range []struct {
		in, addr, params string
		ok               bool
	}{
		{"<a@b.c>", "a@b.c", "", true},
		{" <a@b.c> SIZE=1", "a@b.c", "SIZE=1", true},
		{"<a@b.c>  SIZE=1 PRDR ", "a@b.c", "SIZE=1 PRDR", true},
		{"<a@b.c> SIZE=1\t", "a@b.c", "SIZE=1", true},
		{"<a@b.c> \t", "a@b.c", "", true},
		{"<a@b.c>\tSIZE=1", "", "", false},
		{"<>", "", "", true},
		{"<> BODY=8BITMIME", "", "BODY=8BITMIME", true},
		{"<@x.y,@z.w:a@b.c>", "a@b.c", "", true},
		{"<\"a b\"@b.c>", "\"a b\"@b.c", "", true},
		{"<\"a>b\"@b.c>", "\"a>b\"@b.c", "", true},
		{"<\"a\\\"b\"@b.c>", "\"a\\\"b\"@b.c", "", true},
		{"<a@[192.0.2.1]>", "a@[192.0.2.1]", "", true},
		{"<a@[IPv6:2001:db8::1]>", "a@[IPv6:2001:db8::1]", "", true},
		{"<a@[ipv6:2001:db8::1]>", "a@[ipv6:2001:db8::1]", "", true}, // RFC 5234 §2.3: the tag is case-insensitive
		{"<a_b@under_score.test>", "a_b@under_score.test", "", true},
		{"a@b.c", "", "", false},
		{"<a@b.c", "", "", false},
		{"<a@b.c>x", "", "", false},
		{"<a..b@c>", "", "", false},
		{"<.a@c>", "", "", false},
		{"<a.@c>", "", "", false},
		{"<a@-b.c>", "", "", false},
		{"<a@b-.c>", "", "", false},
		{"<a@b..c>", "", "", false},
		{"<a@b.c.>", "", "", false},
		{"<a b@c.d>", "", "", false},
		{"<a@b\x00.c>", "", "", false},
		{"<@x.y>", "", "", false},
		{"<a@[192.0.2.300]>", "", "", false},
		{"<a@[IPv6:192.0.2.1]>", "", "", false},
		{"<a@[2001:db8::1]>", "", "", false},
		{"<a@[IPv6:fe80::1%eth0]>", "", "", false},
		{"<" + strings.Repeat("a", 65) + "@b.c>", "", "", false},
		{"<\"" + strings.Repeat("a", 65) + "\"@b.c>", "\"" + strings.Repeat("a", 65) + "\"@b.c", "", true},
		{"<a@" + strings.Repeat("b", 64) + ".c>", "", "", false},
		{"<" + strings.Repeat("a.", 100) + "a@" + strings.Repeat("b.", 30) + "c>", "", "", false},
		{"<jöe@example.com>", "", "", false},
	} {
		p, err := ParsePath(tc.in)
		if (err == nil) != tc.ok || p.Mailbox != tc.addr || p.Params != tc.params {
			t.Errorf("ParsePath(%q) = %+v, %v", tc.in, p, err)
		}
		var pe *PathError
		if err != nil && !errors.As(err, &pe) {
			t.Errorf("ParsePath(%q): %T", tc.in, err)
		}
	}
}

func TestUTF8Syntax(t *testing.T) {
	for _, tc := range []struct {
		s    string
		utf8 bool
	}{
		{"jöe@example.com", true},
		{"\"jö e\"@example.com", true},
		{"joe@bücher.example", true},
		{"用户@例子.广告", true},
		{"j\xffe@example.com", false},   // invalid UTF-8
		{"j\u0085e@example.com", false}, // C1 control
	} {
		if ValidMailbox(tc.s) {
			t.Errorf("%q valid without SMTPUTF8", tc.s)
		}
		if ValidMailbox(tc.s, WithUTF8(true)) != tc.utf8 {
			t.Errorf("%q with SMTPUTF8: %v", tc.s, !tc.utf8)
		}
	}
	if _, err := ParsePath("<jöe@example.com> SMTPUTF8", WithUTF8(true)); err != nil {
		t.Error(err)
	}
	if ValidDomain("bücher.example", WithUTF8(false)) || !ValidDomain("bücher.example", WithUTF8(true)) {
		t.Error("ValidDomain UTF-8")
	}
}

func TestMailboxHelpers(t *testing.T) {
	m, err := ParseMailbox("Joe.Q@Example.COM")
	if err != nil || m.Local != "Joe.Q" || m.Domain != "Example.COM" || m.String() != "Joe.Q@Example.COM" {
		t.Errorf("%+v %v", m, err)
	}
	if l, d := SplitAddress("Joe@Example.COM"); l != "Joe" || d != "example.com" {
		t.Errorf("SplitAddress %q %q", l, d)
	}
	if l, d := SplitAddress("postmaster"); l != "postmaster" || d != "" {
		t.Errorf("SplitAddress %q %q", l, d)
	}
	for s, ok := range map[string]bool{"mx.test": true, "mx.test.": true, "[192.0.2.1]": true, "mx..test": false, "mx test": false, "": false, "[1.2.3]": false} {
		if ValidHelo(s) != ok {
			t.Errorf("ValidHelo(%q) = %v", s, !ok)
		}
	}
	if !ValidLocalPart("a+b") || ValidLocalPart("a b") || ValidLocalPart("") {
		t.Error("ValidLocalPart")
	}
}

func TestAddressLiteral(t *testing.T) {
	for _, tc := range []struct{ s, ip, back string }{
		{"[192.0.2.1]", "192.0.2.1", "[192.0.2.1]"},
		{"[IPv6:2001:db8::1]", "2001:db8::1", "[IPv6:2001:db8::1]"},
		{"[ipv6:2001:DB8::1]", "2001:db8::1", "[IPv6:2001:db8::1]"},
		{"[IPv6:::ffff:192.0.2.1]", "::ffff:192.0.2.1", "[192.0.2.1]"},
	} {
		a, err := ParseAddressLiteral(tc.s)
		if err != nil || a.String() != tc.ip || AddressLiteral(a) != tc.back {
			t.Errorf("%q: %v %v %q", tc.s, a, err, AddressLiteral(a))
		}
	}
	for _, s := range []string{"192.0.2.1", "[]", "[x]", "[IPv6:]", "[tag:text]", "[IPv4:192.0.2.1]"} {
		if _, err := ParseAddressLiteral(s); !errors.Is(err, ErrAddressLiteral) {
			t.Errorf("%q accepted", s)
		}
	}
	if AddressLiteral(netip.Addr{}) != "" {
		t.Error("invalid Addr")
	}
}
