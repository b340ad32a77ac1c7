package resolvertest

import (
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

func q(name string, qtype uint16) dns.Question {
	return dns.Question{Name: dns.Fqdn(name), Qtype: qtype, Qclass: dns.ClassINET}
}

// summary renders an answer compactly so table cases stay readable.
func summary(a answer) string {
	if a.drop {
		return "DROP"
	}
	var b strings.Builder
	b.WriteString(dns.RcodeToString[a.rcode])
	for _, rr := range a.records {
		h := rr.Header()
		b.WriteString(" " + strings.ToLower(h.Name) + "/" + dns.TypeToString[h.Rrtype])
	}
	return b.String()
}

func TestZoneAddErrors(t *testing.T) {
	z := NewZone()
	for _, bad := range []string{"example.com. IN A not-an-ip", "", "; only a comment"} {
		if err := z.Add(bad); err == nil {
			t.Errorf("Add(%q) = nil, want error", bad)
		}
	}
	// Relative owner names and a missing TTL are fine.
	if err := z.Add("example.com A 192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if got := summary(z.lookup(q("example.com", dns.TypeA))); got != "NOERROR example.com./A" {
		t.Errorf("got %q", got)
	}
	rr := z.lookup(q("example.com", dns.TypeA)).records[0]
	if rr.Header().Ttl != 3600 {
		t.Errorf("default TTL = %d", rr.Header().Ttl)
	}
	z.AddRR(nil) // ignored, not a panic
}

func TestZoneLookup(t *testing.T) {
	z := NewZone()
	z.MustAdd(t,
		`Example.COM. 300 IN A 192.0.2.1`,
		`example.com. 300 IN TXT "v=spf1 -all"`,
		`a.b.example.com. 300 IN A 192.0.2.2`,
		`alias.example.com. CNAME mid.example.com.`,
		`mid.example.com. CNAME example.com.`,
		`dangling.example.com. CNAME gone.example.com.`,
		`loop1.example.com. CNAME loop2.example.com.`,
		`loop2.example.com. CNAME loop1.example.com.`,
	)
	z.AddName("empty.example.com")

	tests := []struct {
		name string
		q    dns.Question
		want string
	}{
		{"exact", q("example.com", dns.TypeA), "NOERROR example.com./A"},
		{"case-insensitive", q("EXAMPLE.com", dns.TypeTXT), "NOERROR example.com./TXT"},
		{"nodata", q("example.com", dns.TypeMX), "NOERROR"},
		{"nxdomain", q("nope.example.com", dns.TypeA), "NXDOMAIN"},
		{"no empty non-terminal", q("b.example.com", dns.TypeA), "NXDOMAIN"},
		{"added empty name", q("empty.example.com", dns.TypeTXT), "NOERROR"},
		{"any", q("example.com", dns.TypeANY), "NOERROR example.com./A example.com./TXT"},
		{"cname chain", q("alias.example.com", dns.TypeA),
			"NOERROR alias.example.com./CNAME mid.example.com./CNAME example.com./A"},
		{"cname query not followed", q("alias.example.com", dns.TypeCNAME), "NOERROR alias.example.com./CNAME"},
		{"cname chain to nodata", q("alias.example.com", dns.TypeMX),
			"NOERROR alias.example.com./CNAME mid.example.com./CNAME"},
		{"cname to missing name", q("dangling.example.com", dns.TypeA), "NXDOMAIN dangling.example.com./CNAME"},
		{"cname loop", q("loop1.example.com", dns.TypeA),
			"NOERROR loop1.example.com./CNAME loop2.example.com./CNAME"},
		{"class not served", dns.Question{Name: "example.com.", Qtype: dns.TypeA, Qclass: dns.ClassCHAOS}, "REFUSED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summary(z.lookup(tt.q)); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestZoneCNAMEChainCapped(t *testing.T) {
	z := NewZone()
	// c0 -> c1 -> ... -> c9 -> target: one CNAME more than the cap.
	const n = maxCNAMEChain + 2
	for i := range n {
		next := "c" + string(rune('0'+i+1)) + ".example."
		if i == n-1 {
			next = "target.example."
		}
		z.MustAdd(t, "c"+string(rune('0'+i))+".example. CNAME "+next)
	}
	z.MustAdd(t, "target.example. A 192.0.2.1")
	a := z.lookup(q("c0.example", dns.TypeA))
	if len(a.records) != maxCNAMEChain {
		t.Fatalf("got %d records, want %d", len(a.records), maxCNAMEChain)
	}
	for _, rr := range a.records {
		if rr.Header().Rrtype != dns.TypeCNAME {
			t.Errorf("unexpected %v", rr)
		}
	}
}

func TestZoneOverrides(t *testing.T) {
	z := NewZone()
	z.MustAdd(t, "example.com. A 192.0.2.1", "example.com. TXT hi")
	check := func(qq dns.Question, want string) {
		t.Helper()
		if got := summary(z.lookup(qq)); got != want {
			t.Errorf("%s %s: got %q, want %q", qq.Name, dns.TypeToString[qq.Qtype], got, want)
		}
	}
	txt, a := q("example.com", dns.TypeTXT), q("example.com", dns.TypeA)

	z.SetRcode("example.com", dns.TypeTXT, dns.RcodeServerFailure)
	check(txt, "SERVFAIL")
	check(a, "NOERROR example.com./A") // other types unaffected

	z.SetRcode("EXAMPLE.COM.", 0, dns.RcodeRefused)
	check(txt, "SERVFAIL") // the type-specific override wins
	check(a, "REFUSED")

	z.SetRcode("example.com", 0, dns.RcodeSuccess)
	z.SetRcode("example.com", dns.TypeTXT, dns.RcodeSuccess)
	check(txt, "NOERROR example.com./TXT") // RcodeSuccess clears

	z.SetTimeout("example.com", dns.TypeA)
	check(a, "DROP")
	check(txt, "NOERROR example.com./TXT")
	z.SetTimeout("other.example", 0)
	check(q("other.example", dns.TypeMX), "DROP")

	if z.lookup(txt).authentic {
		t.Error("authentic before SetAuthentic")
	}
	z.SetAuthentic(true)
	if !z.lookup(txt).authentic {
		t.Error("not authentic after SetAuthentic(true)")
	}
	if got := z.Queries(); got != 10 {
		t.Errorf("Queries() = %d, want 10", got)
	}
}

// TestZoneConcurrent is for the race detector: tests mutate zones while a
// server answers from them.
func TestZoneConcurrent(t *testing.T) {
	z := NewZone()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			name := "n" + string(rune('a'+i)) + ".example."
			for j := range 100 {
				if err := z.Add(name + " A 192.0.2.1"); err != nil {
					t.Error(err)
					return
				}
				z.SetRcode(name, dns.TypeMX, dns.RcodeRefused)
				z.SetTimeout(name, dns.TypeSRV)
				z.SetAuthentic(j%2 == 0)
				z.AddName(name)
				z.lookup(q(name, dns.TypeA))
			}
		})
	}
	wg.Wait()
	if got := z.Queries(); got != 800 {
		t.Errorf("Queries() = %d, want 800", got)
	}
}
