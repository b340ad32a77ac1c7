package dmarc_test

import (
	"context"
	"fmt"

	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/spf"
)

// exampleDNS holds the one record this example needs; a server passes
// its *resolver.Resolver (or nothing, for resolver.Default) instead.
type exampleDNS struct{}

func (exampleDNS) LookupTXT(_ context.Context, name string) ([]string, bool, error) {
	if name == "_dmarc.example.com" {
		return []string{"v=DMARC1; p=reject; sp=quarantine"}, false, nil
	}
	return nil, false, dmarc.ErrNotFound
}

func ExampleEvaluate() {
	in := dmarc.Input{
		HeaderFrom: []string{"Alice <alice@news.example.com>"},
		MailFrom:   "bounce@mailer.example.net",
		SPF:        spf.Pass,
		SPFDomain:  "mailer.example.net", // passes, but is not aligned
	}
	o := dmarc.Evaluate(context.Background(), in, dmarc.WithResolver(exampleDNS{}), dmarc.WithAuthservID("mx.example.org"))
	fmt.Println(o.Status, "|", o.StatusText, "|", o.UsedDomain, "|", o.DomainPolicy)
	ok, _ := dmarc.Match(o.Status, "reject : quarantine")
	fmt.Println(ok)
	// Output:
	// quarantine | Quarantine | example.com | quarantine
	// true
}
