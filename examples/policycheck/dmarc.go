package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"github.com/mailpolicy/mailpolicy/authres"
	"github.com/mailpolicy/mailpolicy/dkim"
	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/iprev"
	"github.com/mailpolicy/mailpolicy/spf"
)

// unfoldAR puts an Authentication-Results field on one line, each
// fold a space.
func unfoldAR(s string) string {
	return strings.NewReplacer("\r\n\t\t", " ", "\r\n\t", " ").Replace(s)
}

func init() {
	register(&command{
		name:    "dmarc",
		summary: "run SPF, DKIM and DMARC on a message file and print the $dmarc_* and $spf_* variables",
		run:     runDMARC,
	})
}

func runDMARC(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newFlagSet("dmarc", "-ip IP -sender ADDR -helo NAME -message FILE [flags]", stdout, stderr)
	var (
		dns       dnsFlags
		lhPass    = localhostPassFlag(f)
		ipText    = f.String("ip", "", "client `IP` address (required)")
		sender    = f.String("sender", "", "envelope sender `ADDR` (required; \"\" is the null sender)")
		helo      = f.String("helo", "", "HELO/EHLO `NAME` the client gave (required; may be \"\")")
		message   = f.String("message", "", "message `FILE` (RFC 5322, headers and body; \"-\" reads standard input)")
		receiver  = f.String("receiver", "", "receiving host `NAME`: SPF's primary_hostname and the Authentication-Results authserv-id")
		pslFile   = f.String("psl", "", "Public Suffix List `FILE` (Exim's dmarc_tld_file); default: the list built into the program")
		treeWalk  = f.Bool("tree-walk", false, "DMARCbis tree-walk policy discovery instead of RFC 7489's")
		rfc9989   = f.Bool("rfc9989", false, "evaluate DMARC as RFC 9989 (tree walk for the policy and for alignment's organizational domains, t=, np=, p= optional, pct= historic) instead of RFC 7489; the variables keep Exim's words, dmarc_ar_header gets RFC 9989's (policy.dmarc); implies -tree-walk, ignores -psl")
		withIPrev = f.Bool("iprev", false, "also check -ip's reverse DNS (iprev, same nameservers) and put the iprev method first in dmarc_ar_header, as Exim's ${authresults} does; without -iprev the field has no iprev method")
		asJSON    = f.Bool("json", false, "print one JSON object instead of name=value lines")
		verbose   = f.Bool("v", false, "report evaluation errors, if any, on stderr")
	)
	dns.add(f)
	if code, ok := f.parse(args); !ok {
		return code
	}
	if code, ok := f.noArgs(); !ok {
		return code
	}
	if code, ok := f.require("ip", "sender", "helo", "message"); !ok {
		return code
	}
	ip, err := netip.ParseAddr(*ipText)
	if err != nil {
		return f.usageError("-ip: invalid IP address %q", *ipText)
	}
	if code, ok := dns.check(f); !ok {
		return code
	}
	msg, err := readMessage(*message)
	if err != nil {
		return f.usageError("-message: %v", err)
	}
	ctx, cancel := dns.context(ctx)
	defer cancel()

	spfOpts := spfOptions(&dns, *lhPass)
	dmarcOpts := []dmarc.Option{dmarc.WithResolver(dns.resolver), dmarc.WithTreeWalk(*treeWalk)}
	if *rfc9989 {
		dmarcOpts = append(dmarcOpts, dmarc.WithMode(dmarc.ModeRFC9989))
	}
	if *receiver != "" {
		spfOpts = append(spfOpts, spf.WithReceiver(*receiver))
		dmarcOpts = append(dmarcOpts, dmarc.WithAuthservID(*receiver))
	}
	if *pslFile != "" {
		psl, err := dmarc.LoadPSL(*pslFile)
		if err != nil {
			return f.usageError("-psl: %v", err)
		}
		dmarcOpts = append(dmarcOpts, dmarc.WithPSL(psl))
	}

	so := spf.Check(ctx, ip, *sender, *helo, spfOpts...)
	from, err := dmarc.FromHeaders(bytes.NewReader(msg))
	switch {
	case errors.Is(err, dmarc.ErrMalformedHeader):
		// The values are still there: evaluate them, as a receiver must.
		if *verbose {
			fmt.Fprintf(stderr, "policycheck dmarc: %s\n", oneLine(err.Error()))
		}
	case err != nil:
		return f.usageError("-message: %v", err)
	}
	sigs, err := dkim.Verify(ctx, bytes.NewReader(msg), dkim.WithResolver(dns.resolver))
	if err != nil && *verbose {
		fmt.Fprintf(stderr, "policycheck dmarc: dkim: %s\n", oneLine(err.Error()))
	}
	var ipo *iprev.Outcome // nil without -iprev: no iprev method
	if *withIPrev {
		ipo = iprev.Check(ctx, ip, iprev.WithResolver(dns.resolver))
		if *verbose && ipo.Err != nil {
			fmt.Fprintf(stderr, "policycheck dmarc: iprev: %s: %s\n", ipo.Result, oneLine(ipo.Err.Error()))
		}
	}
	o := dmarc.Evaluate(ctx, dmarc.Input{
		HeaderFrom: from, MailFrom: *sender, HELO: *helo, ClientIP: ip,
		SPF: so.Result, SPFDomain: so.UsedDomain, DKIM: sigs,
	}, dmarcOpts...)
	if *verbose {
		if o.Err != nil {
			fmt.Fprintf(stderr, "policycheck dmarc: %s: %s\n", o.Status, oneLine(o.Err.Error()))
		}
		for _, d := range sigs {
			fmt.Fprintf(stderr, "policycheck dmarc: dkim d=%s s=%s a=%s: %s %s\n", oneLine(d.Domain), oneLine(d.Selector), d.Algorithm, d.Status, d.Reason)
		}
	}
	// $dmarc_ar_header: the field package authres writes, unfolded,
	// after $dmarc_domain_policy as Exim lists it; with -iprev the
	// iprev method too (Build puts it first, as Exim does).
	id := *receiver
	if id == "" {
		id, _ = os.Hostname()
	}
	ar := authres.Build(id, append([]authres.Method{authres.FromIPrev(ipo), authres.FromSPF(so), authres.FromDMARC(o)}, authres.FromDKIM(sigs)...)...)
	var vars []variable
	for _, v := range o.Variables() {
		vars = append(vars, variable{v.Name, v.Value})
		if v.Name == "dmarc_domain_policy" {
			vars = append(vars, variable{"dmarc_ar_header", unfoldAR(ar.String())})
		}
	}
	vars = append(vars, spfVariables(so)...)
	if err := writeVars(stdout, vars, *asJSON); err != nil {
		fmt.Fprintf(stderr, "policycheck dmarc: writing output: %v\n", err)
		return exitFailed
	}
	return exitOK
}
