package resolvertest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// records renders what the zone answers for name and qtype with owner
// and TTL, one "owner ttl TYPE rdata" per record.
func records(z *Zone, name string, qtype uint16) string {
	a := z.lookup(q(name, qtype))
	var out []string
	for _, rr := range a.records {
		h := rr.Header()
		rdata := strings.TrimPrefix(rr.String(), h.String())
		out = append(out, fmt.Sprintf("%s %d %s %s", h.Name, h.Ttl, dns.TypeToString[h.Rrtype], rdata))
	}
	return strings.Join(out, "; ")
}

const masterFile = `
; A whole-line comment, then directives.
$ORIGIN example.com.
$TTL 300
@       IN  SOA ns hostmaster (
                2024010101 ; serial
                3600       ; refresh
                600        ; retry
                86400      ; expire
                60 )       ; minimum
        IN  NS  ns                     ; owner carried over from the SOA
        IN  MX  10 mail
@       IN  TXT "v=spf1 mx -all"       ; quoted, with spaces
mail    600 IN  A   192.0.2.25         ; explicit TTL wins over $TTL
mail        AAAA    2001:db8::25       ; class and TTL omitted
www         CNAME   mail
abs.example.net. IN A 192.0.2.80      ; absolute name ignores $ORIGIN
long    IN  TXT ( "first part "
                  "second part" )
$ORIGIN sub.example.com.
host    IN  A   192.0.2.99
@       IN  TXT "sub apex"
`

func TestParseZone(t *testing.T) {
	z, err := ParseZone(masterFile)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		qtype uint16
		want  string
	}{
		{"example.com", dns.TypeSOA,
			"example.com. 300 SOA ns.example.com. hostmaster.example.com. 2024010101 3600 600 86400 60"},
		{"example.com", dns.TypeNS, "example.com. 300 NS ns.example.com."},
		{"example.com", dns.TypeMX, "example.com. 300 MX 10 mail.example.com."},
		{"example.com", dns.TypeTXT, `example.com. 300 TXT "v=spf1 mx -all"`},
		{"mail.example.com", dns.TypeA, "mail.example.com. 600 A 192.0.2.25"},
		{"mail.example.com", dns.TypeAAAA, "mail.example.com. 300 AAAA 2001:db8::25"},
		{"www.example.com", dns.TypeCNAME, "www.example.com. 300 CNAME mail.example.com."},
		{"abs.example.net", dns.TypeA, "abs.example.net. 300 A 192.0.2.80"},
		{"long.example.com", dns.TypeTXT, `long.example.com. 300 TXT "first part " "second part"`},
		{"host.sub.example.com", dns.TypeA, "host.sub.example.com. 300 A 192.0.2.99"},
		{"sub.example.com", dns.TypeTXT, `sub.example.com. 300 TXT "sub apex"`},
		// Nothing is taken relative to the wrong origin.
		{"host.example.com", dns.TypeA, ""},
		{"abs.example.net.example.com", dns.TypeA, ""},
	}
	for _, tt := range tests {
		if got := records(z, tt.name, tt.qtype); got != tt.want {
			t.Errorf("%s %s:\n got  %q\n want %q", tt.name, dns.TypeToString[tt.qtype], got, tt.want)
		}
	}
}

// The example in ParseZone's documentation, served and queried.
func TestParseZoneDocExample(t *testing.T) {
	// Not indented: leading blanks mean "same owner as before" in a
	// master file, so an indented $ORIGIN would be a syntax error.
	z, err := ParseZone(`
$ORIGIN example.com.
$TTL 300
@    IN SOA ns hostmaster 1 3600 600 86400 60
@    IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
mail IN A   192.0.2.25
`)
	if err != nil {
		t.Fatal(err)
	}
	s := Start(t, z)
	r, err := exchange(t, "udp", s.Addr, query("mail.example.com.", dns.TypeA, 1232, false))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.25" || r.Answer[0].Header().Ttl != 300 {
		t.Errorf("answer %v", r.Answer)
	}
}

func TestZoneLoad(t *testing.T) {
	z := NewZone()
	z.MustAdd(t, "before.example. A 192.0.2.1")
	// origin without its dot; relative names and @ use it.
	err := z.Load(strings.NewReader("@ 60 TXT apex\nmx 60 A 192.0.2.2\n"), "example.org", "org.zone")
	if err != nil {
		t.Fatal(err)
	}
	// Empty origin: relative names are relative to the root.
	if err := z.Load(strings.NewReader("tld 60 TXT top\n"), "", "root.zone"); err != nil {
		t.Fatal(err)
	}
	// Loading again adds to what is there.
	if err := z.Load(strings.NewReader("@ 60 TXT again\n"), "example.org.", "org2.zone"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		qtype uint16
		want  string
	}{
		{"before.example", dns.TypeA, "before.example. 3600 A 192.0.2.1"},
		{"example.org", dns.TypeTXT, `example.org. 60 TXT "apex"; example.org. 60 TXT "again"`},
		{"mx.example.org", dns.TypeA, "mx.example.org. 60 A 192.0.2.2"},
		{"tld", dns.TypeTXT, `tld. 60 TXT "top"`},
	} {
		if got := records(z, c.name, c.qtype); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}

	// An empty file is an empty zone, not an error.
	if z, err := ParseZone(""); err != nil || len(z.names) != 0 {
		t.Errorf("empty text: %v, %v", z, err)
	}
	if z, err := ParseZone("; nothing but a comment\n\n"); err != nil || len(z.names) != 0 {
		t.Errorf("comment only: %v, %v", z, err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"$INCLUDE", "$ORIGIN example.com.\n$INCLUDE /etc/hosts\n", "$INCLUDE"},
		{"$INCLUDE with origin", "$INCLUDE other.zone example.net.\n", "$INCLUDE"},
		{"bad address", "$ORIGIN example.com.\n$TTL 60\nmail A 192.0.2.300\n", "line: 3"},
		{"unknown type", "example.com. 60 IN BOGUS x\n", "line: 1"},
		{"unbalanced parenthesis", "example.com. 60 IN TXT ( \"open\"\n", "unbalanced"},
		{"bad $TTL", "$TTL forever\nexample.com. A 192.0.2.1\n", "line: 1"},
		{"relative name, no origin line", "@ IN A 192.0.2.1\nmx IN A nope\n", "line: 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := NewZone()
			z.MustAdd(t, "kept.example. A 192.0.2.1")
			err := z.Load(strings.NewReader(tt.text), "", "test.zone")
			if err == nil {
				t.Fatalf("no error; zone now has %v", z.names)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "resolvertest: ") || !strings.Contains(msg, "test.zone") || !strings.Contains(msg, tt.want) {
				t.Errorf("error %q: want the prefix, the file name and %q", msg, tt.want)
			}
			var pe *dns.ParseError
			if !errors.As(err, &pe) {
				t.Errorf("error %v does not wrap a *dns.ParseError", err)
			}
			// A file that fails adds nothing, not the records before the
			// error.
			if len(z.names) != 1 {
				t.Errorf("zone has %d names after a failed Load, want the 1 it had", len(z.names))
			}
			if _, err := ParseZone(tt.text); err == nil {
				t.Error("ParseZone: no error")
			}
		})
	}
}

// fatalTB records Fatal instead of ending the test.
type fatalTB struct {
	testing.TB
	fatal string
}

func (f *fatalTB) Fatal(args ...any) { f.fatal = fmt.Sprint(args...) }

func TestMustParseZone(t *testing.T) {
	z := MustParseZone(t, "example.com. 60 TXT ok")
	if got := records(z, "example.com", dns.TypeTXT); got != `example.com. 60 TXT "ok"` {
		t.Errorf("got %q", got)
	}
	tb := &fatalTB{TB: t}
	if z := MustParseZone(tb, "example.com. 60 A not-an-address"); z != nil {
		t.Errorf("MustParseZone returned %v after failing", z)
	}
	if !strings.Contains(tb.fatal, "resolvertest: ") || !strings.Contains(tb.fatal, "not-an-address") {
		t.Errorf("Fatal(%q)", tb.fatal)
	}
}
