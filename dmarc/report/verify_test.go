package report_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc/report"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

// The Resolver interface is what *resolver.Resolver offers.
var _ report.Resolver = (*resolver.Resolver)(nil)

func verifyResolver(t *testing.T) (*resolvertest.Zone, *resolver.Resolver) {
	t.Helper()
	z := resolvertest.MustParseZone(t, `
$ORIGIN example.
$TTL 300
@ IN SOA ns hostmaster 1 3600 600 86400 60
example.com._report._dmarc.reports.example.      IN TXT "v=DMARC1"
example.org._report._dmarc.reports.example.      IN TXT "v=DMARC1; rua=mailto:other-box@reports.example!1m"
example.net._report._dmarc.reports.example.      IN TXT "v=DMARC1; rua=mailto:thief@elsewhere.example"
spaced.example._report._dmarc.reports.example.   IN TXT "v = DMARC1 ; "
wrong.example._report._dmarc.reports.example.    IN TXT "v=DMARC2"
notfirst.example._report._dmarc.reports.example. IN TXT "p=none; v=DMARC1"
garbage.example._report._dmarc.reports.example.  IN TXT "hello world" "v=DMARC1"
two.example._report._dmarc.reports.example.      IN TXT "spf stuff"
two.example._report._dmarc.reports.example.      IN TXT "v=DMARC1; ruf=mailto:f@reports.example"
`)
	z.SetFault("slow.example._report._dmarc.reports.example", 0, resolvertest.FaultTimeout)
	z.SetFault("broken.example._report._dmarc.reports.example", 0, resolvertest.FaultServFail)
	srv := resolvertest.Start(t, z)
	r, err := resolver.New(resolver.WithNameservers(srv.Addr), resolver.WithTimeout(time.Second), resolver.WithRetries(1))
	if err != nil {
		t.Fatal(err)
	}
	return z, r
}

func TestVerifyDestination(t *testing.T) {
	z, r := verifyResolver(t)
	ctx := context.Background()
	dest := func(uri string) report.Destination {
		ds, err := report.ParseDestinations(uri)
		if err != nil || len(ds) != 1 {
			t.Fatalf("%s: %v", uri, err)
		}
		return ds[0]
	}
	for _, c := range []struct {
		policy, uri string
		want        bool
	}{
		{"example.com", "mailto:dmarc@reports.example", true},
		{"EXAMPLE.com.", "mailto:dmarc@REPORTS.example", true},
		{"example.org", "mailto:dmarc@reports.example", true},
		{"example.net", "mailto:dmarc@reports.example", false}, // override names another host
		{"spaced.example", "mailto:dmarc@reports.example", true},
		{"wrong.example", "mailto:dmarc@reports.example", false},
		{"notfirst.example", "mailto:dmarc@reports.example", false},
		{"garbage.example", "mailto:dmarc@reports.example", false},
		{"two.example", "mailto:dmarc@reports.example", true},
		{"missing.example", "mailto:dmarc@reports.example", false},
		{"victim.example", "https://reports.example/dmarc", false},
		{"example.com", "https://reports.example/dmarc", true},
		{strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + ".example", "mailto:d@reports.example", false},
	} {
		before := z.Queries()
		got, err := report.VerifyDestination(ctx, r, c.policy, dest(c.uri))
		if err != nil || got != c.want {
			t.Errorf("%s → %s: %v, %v; want %v", c.policy, c.uri, got, err, c.want)
		}
		if z.Queries() == before && len(c.policy) < 100 {
			t.Errorf("%s → %s: no query made", c.policy, c.uri)
		}
	}

	// Same organizational domain: authorized without a lookup.
	before := z.Queries()
	for _, c := range [][2]string{
		{"example.co.uk", "mailto:dmarc@reports.example.co.uk"},
		{"mail.example.com", "mailto:dmarc@example.com"},
		{"example.com", "mailto:dmarc@Example.COM"},
	} {
		v, err := report.CheckDestination(ctx, r, c[0], dest(c[1]), "rua")
		if err != nil || !v.Authorized || v.External || v.Name != "" {
			t.Errorf("%s → %s: %+v, %v", c[0], c[1], v, err)
		}
	}
	// Different registrable domains under one public suffix are external.
	if v, _ := report.CheckDestination(ctx, r, "a.co.uk", dest("mailto:d@b.co.uk"), "rua"); !v.External || v.Authorized {
		t.Errorf("a.co.uk → b.co.uk: %+v", v)
	}
	if z.Queries() != before+1 {
		t.Errorf("%d queries for same-organization destinations, want only the co.uk one", z.Queries()-before)
	}

	// The override of RFC 9990 §4 step 9, and the ruf= tag for failure
	// reports.
	v, err := report.CheckDestination(ctx, r, "example.org", dest("mailto:dmarc@reports.example"), "rua")
	if err != nil || !v.Authorized || v.Name != "example.org._report._dmarc.reports.example" ||
		len(v.Override) != 1 || v.Override[0].Addr != "other-box@reports.example" || v.Override[0].MaxSize != 1<<20 {
		t.Errorf("override: %+v, %v", v, err)
	}
	v, err = report.CheckDestination(ctx, r, "two.example", dest("mailto:dmarc@reports.example"), "ruf")
	if err != nil || !v.Authorized || len(v.Override) != 1 || v.Override[0].Addr != "f@reports.example" {
		t.Errorf("ruf override: %+v, %v", v, err)
	}

	// Lookup failures are errors the caller may retry.
	for _, name := range []string{"slow.example", "broken.example"} {
		ok, err := report.VerifyDestination(ctx, r, name, dest("mailto:d@reports.example"))
		var ve *report.VerifyError
		if ok || !errors.As(err, &ve) || !errors.Is(err, resolver.ErrTemporary) ||
			ve.Name != name+"._report._dmarc.reports.example" {
			t.Errorf("%s: %v, %v", name, ok, err)
		}
	}
	// A destination without a host, or a policy domain that is none.
	for _, c := range [][2]string{{"example.com", "urn:x:y"}, {"bad domain", "mailto:d@reports.example"}} {
		if ok, err := report.VerifyDestination(ctx, r, c[0], dest(c[1])); ok || err != nil {
			t.Errorf("%v: %v, %v", c, ok, err)
		}
	}
}
