package dmarc

import (
	"errors"
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

// FuzzParseRecordRFC9989: any text gives a record that satisfies RFC
// 9989's value rules, ErrNotDMARC or a *RecordError, never a panic; and
// where RFC 7489's parser accepts the text too, both read the same
// policy and alignment.
func FuzzParseRecordRFC9989(f *testing.F) {
	for _, s := range []string{
		"v=DMARC1", "v=DMARC1; p=reject", "v=DMARC1; sp=none; p=reject; psd=n", "v=DMARC1; psd=y; np=reject; t=y",
		"v=DMARC1; p=bogus; rua=mailto:a@b.example, junk", "v=DMARC1; p=none; p=reject", "v=DMARC1; pct=0; rf=x; ri=-1",
		"v=DMARC1; fo=0:1:d:s; rua=mailto:a@b.example!99999999999999999999999", "v=DMARC1;; bogus; x_y=1; adkim=S\t",
		"V = DMARC1 ; P = reject ;\tSP=none; unknown = x; RUF=mailto:f@x.example  ,\t\tmailto:g@y.example!0G",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRecordRFC9989(s)
		var re *RecordError
		switch {
		case err != nil && r != nil:
			t.Fatal("record with error")
		case err != nil && !errors.Is(err, ErrNotDMARC) && !errors.As(err, &re):
			t.Fatalf("error %T %v", err, err)
		case err != nil:
			return
		}
		if r.Raw != s {
			t.Fatal("raw text lost")
		}
		for _, p := range []Policy{r.Policy, r.SubdomainPolicy, r.NPPolicy} {
			switch p {
			case PolicyNone, PolicyQuarantine, PolicyReject:
			case "":
				if p == r.Policy {
					t.Fatal("no p")
				}
			default:
				t.Fatalf("policy %q", p)
			}
		}
		if r.ADKIM != Relaxed && r.ADKIM != Strict || r.ASPF != Relaxed && r.ASPF != Strict {
			t.Fatal("bad alignment mode")
		}
		if r.PSD != 0 && r.PSD != 'y' && r.PSD != 'n' && r.PSD != 'u' {
			t.Fatalf("psd %q", r.PSD)
		}
		if r.Percent < 0 || r.Percent > 100 {
			t.Fatalf("pct %d", r.Percent)
		}
		if _, ok := parseFO9989(strings.Join(r.FailureOptions, ":")); !ok {
			t.Fatalf("fo %q", r.FailureOptions)
		}
		for _, u := range append(r.RUA, r.RUF...) {
			if !strings.Contains(u.Address, ":") || strings.ContainsAny(u.Address, ",!; \t") {
				t.Fatalf("uri %q", u.Address)
			}
			_ = u.MaxBytes()
		}
		if old, err := ParseRecord(s); err == nil {
			if old.Policy != r.Policy || old.SubdomainPolicy != r.SubdomainPolicy || old.ADKIM != r.ADKIM || old.ASPF != r.ASPF {
				t.Fatalf("RFC 7489 reads p=%s sp=%s %c %c, RFC 9989 p=%s sp=%s %c %c", old.Policy, old.SubdomainPolicy,
					old.ADKIM, old.ASPF, r.Policy, r.SubdomainPolicy, r.ADKIM, r.ASPF)
			}
		}
	})
}

// FuzzWalkNames: the tree walk never asks more than eight names (RFC
// 9989 §4.10), starts at the domain, and each name is a parent of the
// one before, down to the last label.
func FuzzWalkNames(f *testing.F) {
	for _, s := range []string{"example.com", "a.b.c.d.e.f.g.h.i.j.mail.example.com", "com", "a.b.c.d.e.f.example.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, d string) {
		d, ok := aLabelDomain(d)
		if !ok {
			return
		}
		names := walkNames(d)
		if len(names) > maxWalkQueries || names[0] != d {
			t.Fatalf("%q: %q", d, names)
		}
		for i := 1; i < len(names); i++ {
			if !strings.HasSuffix(names[i-1], "."+names[i]) {
				t.Fatalf("%q: %q is not below %q", d, names[i-1], names[i])
			}
		}
		last := names[len(names)-1]
		if strings.Contains(last, ".") || !strings.HasSuffix(d, last) {
			t.Fatalf("%q: walk ends at %q", d, last)
		}
		if labels := strings.Count(d, ".") + 1; labels <= 8 && len(names) != labels {
			t.Fatalf("%q: %d names for %d labels", d, len(names), labels)
		}
	})
}
