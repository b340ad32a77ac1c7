package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"

	"github.com/mailpolicy/mailpolicy/iprev"
)

func init() {
	register(&command{
		name:    "iprev",
		summary: "check the client address's reverse DNS (RFC 8601 iprev) and print Exim's host-lookup variables",
		run:     runIPrev,
	})
}

func runIPrev(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newFlagSet("iprev", "-ip IP [flags]", stdout, stderr)
	var (
		dns     dnsFlags
		ipText  = f.String("ip", "", "client `IP` address (required)")
		asJSON  = f.Bool("json", false, "print one JSON object instead of name=value lines")
		verbose = f.Bool("v", false, "report the DNS error, if any, on stderr")
	)
	dns.add(f)
	if code, ok := f.parse(args); !ok {
		return code
	}
	if code, ok := f.noArgs(); !ok {
		return code
	}
	if code, ok := f.require("ip"); !ok {
		return code
	}
	ip, err := netip.ParseAddr(*ipText)
	if err != nil || ip.Zone() != "" {
		return f.usageError("-ip: invalid IP address %q", *ipText)
	}
	if code, ok := dns.check(f); !ok {
		return code
	}
	ctx, cancel := dns.context(ctx)
	defer cancel()
	o := iprev.Check(ctx, ip, iprev.WithResolver(dns.resolver))
	if *verbose && o.Err != nil {
		fmt.Fprintf(stderr, "policycheck iprev: %s: %s\n", o.Result, oneLine(o.Err.Error()))
	}
	vars := eximVars(nil, o.Variables(), "")
	// iprev_authresults is iprev's ARResult, Exim's text, not
	// authres.FromIPrev's: authres quotes an IPv6 smtp.remote-ip
	// (RFC 8601's value syntax; Exim writes it bare) and writes a
	// sanitised comment for a PTR name that is not a host name (Exim's
	// ARResult leaves the comment out). For IPv4 and host names the
	// two are the same.
	vars = append(vars, variable{"iprev_result", o.Result.String()}, variable{"iprev_authresults", o.ARResult()})
	if err := writeVars(stdout, vars, *asJSON); err != nil {
		fmt.Fprintf(stderr, "policycheck iprev: writing output: %v\n", err)
		return exitFailed
	}
	return exitOK
}
