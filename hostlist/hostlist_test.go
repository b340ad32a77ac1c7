package hostlist

import (
	"net/netip"
	"testing"
)

func TestMatch(t *testing.T) {
	ip := netip.MustParseAddr
	cases := []struct {
		list string
		host string
		addr string
		want bool
	}{
		{"*", "mx.example.com", "192.0.2.1", true},
		{"*", "", "", true},
		{"", "mx.example.com", "192.0.2.1", false},
		{"mx.example.com", "MX.Example.COM.", "", true},
		{"mx.example.com", "mx2.example.com", "", false},
		{"*.example.com", "a.b.example.com", "", true},
		{"*.example.com", "example.com", "", false},
		{"*example.com", "myexample.com", "", true},
		{"192.0.2.0/24", "", "192.0.2.77", true},
		{"192.0.2.0/24", "", "::ffff:192.0.2.77", true},
		{"192.0.2.0/24", "", "192.0.3.1", false},
		{"192.0.2.1", "x.example", "192.0.2.1", true},
		{"<; 2001:db8::/32 ; mx.example.com", "", "2001:db8::25", true},
		{"2001::db8::::/32", "", "2001:db8::25", true},
		{"!192.0.2.1 : 192.0.2.0/24", "", "192.0.2.1", false},
		{"!192.0.2.1 : 192.0.2.0/24", "", "192.0.2.2", true},
		{"!*.bad.example : *", "mx.bad.example", "192.0.2.9", false},
		{"!*.bad.example : *", "mx.good.example", "192.0.2.9", true},
		{"!mx.example.com", "mx.example.com", "", false},
		{"!mx.example.com", "other.example", "", false},
		{" mx.example.com : : other.example ", "other.example", "", true},
	}
	for _, c := range cases {
		l, err := Parse(c.list)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.list, err)
		}
		var a netip.Addr
		if c.addr != "" {
			a = ip(c.addr)
		}
		if got := l.Match(c.host, a); got != c.want {
			t.Errorf("%q.Match(%q, %s) = %v, want %v", c.list, c.host, c.addr, got, c.want)
		}
	}
	var nilList *List
	if nilList.Match("x.example", ip("192.0.2.1")) || !nilList.Empty() {
		t.Error("nil list matched or is not empty")
	}
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{"net-lsearch;/etc/hosts", "@mx_any", "+relay_hosts", "/etc/hosts", "*", "!", "*.*.example", "bad host", "^regex"} {
		if s == "*" {
			continue
		}
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) accepted", s)
		}
	}
	if MustParse("a.example : b.example").String() != "a.example : b.example" {
		t.Error("String does not return the text")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"*", "!192.0.2.1 : 192.0.2.0/24", "<; 2001:db8::/32 ; *.example.com", "a::b", "!*"} {
		f.Add(s, "mx.example.com", "192.0.2.1")
	}
	f.Fuzz(func(t *testing.T, list, host, addr string) {
		l, err := Parse(list)
		if err != nil {
			return
		}
		a, _ := netip.ParseAddr(addr)
		_ = l.Match(host, a)
		// "*" first matches everything; "!*" first matches nothing.
		if all, _ := Parse("* : " + list); all != nil && !all.Match(host, a) {
			t.Fatal("* did not match")
		}
	})
}
