package dmarc_test

import (
	"context"
	"testing"

	msgdmarc "github.com/emersion/go-msgauth/dmarc"

	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/spf"

	"github.com/mailpolicy/mailpolicy/dkim"
)

// cachedResolver stands for a caching resolver that already holds the
// record: one map read, no allocation, so the benchmark measures
// Evaluate itself.
type cachedResolver map[string][]string

func (c cachedResolver) LookupTXT(_ context.Context, name string) ([]string, bool, error) {
	if v, ok := c[name]; ok {
		return v, false, nil
	}
	return nil, false, dmarc.ErrNotFound
}

const benchRecord = "v=DMARC1; p=reject; sp=quarantine; adkim=r; aspf=r; pct=100; rua=mailto:agg@example.com; ruf=mailto:f@example.com; fo=1"

func BenchmarkEvaluate(b *testing.B) {
	res := cachedResolver{"_dmarc.example.com": {benchRecord}}
	cases := []struct {
		name string
		in   dmarc.Input
		want dmarc.Status
	}{
		{"aligned-dkim", dmarc.Input{HeaderFrom: []string{"Alice <alice@example.com>"}, SPF: spf.Pass, SPFDomain: "bounces.example.net",
			DKIM: []dkim.Result{{Domain: "mail.example.com", Selector: "s1", Algorithm: "rsa-sha256", Status: dkim.StatusPass}}}, dmarc.StatusAccept},
		{"subdomain-fail", dmarc.Input{HeaderFrom: []string{"Alice <alice@news.example.com>"}, SPF: spf.Fail, SPFDomain: "evil.example"}, dmarc.StatusQuarantine},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			opts := []dmarc.Option{dmarc.WithResolver(res), dmarc.WithAuthservID("mx.example.org")}
			if o := dmarc.Evaluate(context.Background(), c.in, opts...); o.Status != c.want {
				b.Fatalf("status %s (%v), want %s", o.Status, o.Err, c.want)
			}
			b.ReportAllocs()
			for b.Loop() {
				dmarc.Evaluate(context.Background(), c.in, opts...)
			}
		})
	}
}

// ParseRecord against go-msgauth's dmarc.Parse on the same record.
func BenchmarkParseRecord(b *testing.B) {
	b.Run("mailpolicy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := dmarc.ParseRecord(benchRecord); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go-msgauth", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := msgdmarc.Parse(benchRecord); err != nil {
				b.Fatal(err)
			}
		}
	})
}
