package dmarc

import (
	"strings"
	"testing"
)

func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{
		"v=DMARC1; p=reject", "v=DMARC1; p=none; rua=mailto:a@b.example!10m,mailto:c@d.example",
		"V = DMARC1 ; P = reject ;\tSP=none; adkim=s; fo=0:1:d:s; rf=afrf; ri=3600; pct=0",
		"v=DMARC1; rua=mailto:x@y.example; sp=bad", "v=DMARC1;;", "v=DMARC1; psd=y; np=reject; t=y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRecord(s)
		if err != nil {
			if r != nil {
				t.Fatal("record with error")
			}
			return
		}
		if r.Percent < 0 || r.Percent > 100 {
			t.Fatalf("pct %d", r.Percent)
		}
		switch r.Policy {
		case PolicyNone, PolicyQuarantine, PolicyReject:
		default:
			t.Fatalf("policy %q", r.Policy)
		}
		if r.ADKIM != Relaxed && r.ADKIM != Strict || r.ASPF != Relaxed && r.ASPF != Strict {
			t.Fatal("bad alignment mode")
		}
		for _, u := range append(r.RUA, r.RUF...) {
			if !strings.Contains(u.Address, ":") {
				t.Fatalf("uri %q", u.Address)
			}
			_ = u.MaxBytes()
		}
	})
}

func FuzzFromDomains(f *testing.F) {
	for _, s := range []string{"A <a@example.com>", "a@example.com, b@EXAMPLE.org", "\"x@y\" <z@w.example>", "undisclosed:;", "=?utf-8?q?x?= <a@b.example>", "<@route:a@b.example>", "a@[192.0.2.1]"} {
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ds, _ := fromDomains([]string{a, b})
		for _, d := range ds {
			if d == "" || d != strings.ToLower(d) || !plausibleDomain(d) {
				t.Fatalf("bad domain %q from %q / %q", d, a, b)
			}
			if strings.ContainsAny(d, "\r\n\x00 ;<>") {
				t.Fatalf("domain %q has junk", d)
			}
		}
	})
}
