package bmi_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/mailpolicy/mailpolicy/bmi"
)

func Example() {
	// RCPT time: the ACL sets an opt-in, then accepts or rejects.
	var env bmi.Envelope
	env.Run = true // control = bmi_run

	env.BeginRcpt()
	env.SetOptIn("strict") // bmi_optin = strict
	env.AddRecipient("alice@example.com")

	env.BeginRcpt()
	env.SetOptIn("lenient")
	env.RejectRcpt() // the opt-in goes with the rejected RCPT

	env.BeginRcpt()
	env.AddRecipient("bob@example.com")

	// After DATA: scan. A real MTA uses &bmi.Spamd{...}; this scanner
	// quarantines recipients that opted in to "strict".
	scanner := bmi.ScannerFunc(func(ctx context.Context, m *bmi.Message) (bmi.Verdicts, error) {
		var vs bmi.Verdicts
		for _, r := range m.Recipients {
			v := bmi.Verdict{Recipients: []string{r.Address}}
			if slices.Contains(r.OptIn, "strict") {
				v.Destination, v.AltLocation, v.Rules = bmi.Alternate, "Junk", []int{5}
			}
			vs = append(vs, v)
		}
		return vs, nil
	})
	var verdicts bmi.Verdicts
	if env.Run {
		verdicts, _ = scanner.Scan(context.Background(), &bmi.Message{
			Sender: "sender@example.net", Recipients: env.Recipients,
		})
	}

	// Spool, then read back at delivery time.
	line := verdicts.SpoolLine()
	verdicts, _ = bmi.ParseSpoolLine(line)

	// Routing: alice forwards to another address, which inherits her verdict.
	alice := &bmi.Address{LocalPart: "alice", Domain: "example.com"}
	fwd := &bmi.Address{LocalPart: "a.smith", Domain: "home.example", Parent: alice}
	for _, a := range []*bmi.Address{fwd, {LocalPart: "bob", Domain: "example.com"}} {
		e := verdicts.For(a)
		fmt.Printf("%s@%s deliver_alternate=%v alt=%q rule5=%v\n", a.LocalPart, a.Domain,
			e.DeliverAlternate(), e.AltLocation(), e.RuleFired("5:8:11"))
	}
	// Output:
	// a.smith@home.example deliver_alternate=true alt="Junk" rule5=true
	// bob@example.com deliver_alternate=false alt="" rule5=false
}
