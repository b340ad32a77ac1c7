package dmarc_test

import (
	"context"
	"testing"

	"github.com/mailpolicy/mailpolicy/dkim"
	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/spf"
)

// BenchmarkEvaluateMode: Evaluate in ModeRFC7489 (PSL organizational
// domains) against ModeRFC9989 (tree walks), through the cached
// resolver of BenchmarkEvaluate, so the difference is the evaluation
// itself plus the extra lookups the walk makes (counted per op).
func BenchmarkEvaluateMode(b *testing.B) {
	cases := []struct {
		name string
		in   dmarc.Input
		want dmarc.Status
	}{
		{"aligned-dkim-exact", dmarc.Input{HeaderFrom: []string{"Alice <alice@example.com>"}, SPF: spf.Fail, SPFDomain: "bounces.example.net",
			DKIM: []dkim.Result{{Domain: "example.com", Selector: "s1", Algorithm: "rsa-sha256", Status: dkim.StatusPass}}}, dmarc.StatusAccept},
		{"aligned-dkim-relaxed", dmarc.Input{HeaderFrom: []string{"Alice <alice@example.com>"}, SPF: spf.Pass, SPFDomain: "bounces.example.net",
			DKIM: []dkim.Result{{Domain: "mail.example.com", Selector: "s1", Algorithm: "rsa-sha256", Status: dkim.StatusPass}}}, dmarc.StatusAccept},
		{"subdomain-fail", dmarc.Input{HeaderFrom: []string{"Alice <alice@news.example.com>"}, SPF: spf.Fail, SPFDomain: "evil.example"}, dmarc.StatusQuarantine},
	}
	for _, m := range []dmarc.Mode{dmarc.ModeRFC7489, dmarc.ModeRFC9989} {
		for _, c := range cases {
			b.Run(m.String()+"/"+c.name, func(b *testing.B) {
				res := &countingResolver{m: cachedResolver{"_dmarc.example.com": {benchRecord}}}
				opts := []dmarc.Option{dmarc.WithResolver(res), dmarc.WithMode(m)}
				if o := dmarc.Evaluate(context.Background(), c.in, opts...); o.Status != c.want {
					b.Fatalf("status %s (%v), want %s", o.Status, o.Err, c.want)
				}
				res.n = 0
				b.ReportAllocs()
				for b.Loop() {
					dmarc.Evaluate(context.Background(), c.in, opts...)
				}
				b.ReportMetric(float64(res.n)/float64(b.N), "lookups/op")
			})
		}
	}
}

type countingResolver struct {
	m cachedResolver
	n int
}

func (c *countingResolver) LookupTXT(ctx context.Context, name string) ([]string, bool, error) {
	c.n++
	return c.m.LookupTXT(ctx, name)
}

// ParseRecordRFC9989 against ParseRecord on the same record.
func BenchmarkParseRecordMode(b *testing.B) {
	for _, p := range []struct {
		name  string
		parse func(string) (*dmarc.Record, error)
	}{{"rfc7489", dmarc.ParseRecord}, {"rfc9989", dmarc.ParseRecordRFC9989}} {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.parse(benchRecord); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
