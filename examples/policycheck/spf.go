package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"

	"github.com/mailpolicy/mailpolicy/spf"
)

func init() {
	register(&command{
		name:    "spf",
		summary: "evaluate SPF as Exim's spf ACL condition and print the $spf_* variables",
		run:     runSPF,
	})
	register(&command{
		name:    "spf-lookup",
		summary: "print the bare SPF result, as Exim's ${lookup{ADDR}spf{IP}}",
		run:     runSPFLookup,
	})
}

func runSPF(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newFlagSet("spf", "-ip IP -sender ADDR -helo NAME [flags]", stdout, stderr)
	var (
		dns      dnsFlags
		lhPass   = localhostPassFlag(f)
		ipText   = f.String("ip", "", "client `IP` address (required)")
		sender   = f.String("sender", "", "envelope sender `ADDR` (required; \"\" is the null sender, checked as postmaster@HELO)")
		helo     = f.String("helo", "", "HELO/EHLO `NAME` the client gave (required; may be \"\")")
		guess    = f.Bool("guess", false, "evaluate the best-guess record when the domain has none, as Exim's spf_guess condition")
		receiver = f.String("receiver", "", "receiving host `NAME` (Exim's primary_hostname) for the header comment, Received-SPF and %{r}")
		asJSON   = f.Bool("json", false, "print one JSON object instead of name=value lines")
		verbose  = f.Bool("v", false, "report the evaluation error, if any, on stderr")
	)
	dns.add(f)
	if code, ok := f.parse(args); !ok {
		return code
	}
	if code, ok := f.noArgs(); !ok {
		return code
	}
	if code, ok := f.require("ip", "sender", "helo"); !ok {
		return code
	}
	ip, err := netip.ParseAddr(*ipText)
	if err != nil {
		return f.usageError("-ip: invalid IP address %q", *ipText)
	}
	if code, ok := dns.check(f); !ok {
		return code
	}

	opts := spfOptions(&dns, *lhPass)
	if *receiver != "" {
		opts = append(opts, spf.WithReceiver(*receiver))
	}
	ctx, cancel := dns.context(ctx)
	defer cancel()
	check := spf.Check
	if *guess {
		check = spf.CheckGuess
	}
	o := check(ctx, ip, *sender, *helo, opts...)
	if o == nil {
		fmt.Fprintln(stderr, "policycheck spf: internal error: no outcome")
		return exitFailed
	}

	// A temperror or permerror is a policy result like any other: it is
	// printed and the exit status is 0. -v only adds the reason.
	if *verbose && o.Err != nil {
		fmt.Fprintf(stderr, "policycheck spf: %s: %s\n", o.Result, oneLine(o.Err.Error()))
	}
	if err := writeVars(stdout, spfVariables(o), *asJSON); err != nil {
		fmt.Fprintf(stderr, "policycheck spf: writing output: %v\n", err)
		return exitFailed
	}
	return exitOK
}

func runSPFLookup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newFlagSet("spf-lookup", "-ip IP [flags] ADDR", stdout, stderr)
	var (
		dns    dnsFlags
		lhPass = localhostPassFlag(f)
		ipText = f.String("ip", "", "client `IP` address (required)")
		asJSON = f.Bool("json", false, "print {\"spf_lookup\":RESULT} instead of the bare result")
	)
	dns.add(f)
	if code, ok := f.parse(args); !ok {
		return code
	}
	switch f.NArg() {
	case 0:
		return f.usageError("missing ADDR, the sender address to check")
	case 1:
	default:
		return f.unexpected(f.Arg(1))
	}
	if code, ok := f.require("ip"); !ok {
		return code
	}
	ip, err := netip.ParseAddr(*ipText)
	if err != nil {
		return f.usageError("-ip: invalid IP address %q", *ipText)
	}
	if code, ok := dns.check(f); !ok {
		return code
	}

	ctx, cancel := dns.context(ctx)
	defer cancel()
	res, err := spf.Lookup(ctx, ip, f.Arg(0), spfOptions(&dns, *lhPass)...)
	if err != nil {
		// Only unusable arguments make Lookup fail, where Exim's
		// lookup fails; DNS trouble is a temperror result.
		return f.usageError("%s", oneLine(err.Error()))
	}
	if *asJSON {
		err = writeJSON(stdout, []variable{{"spf_lookup", res.String()}})
	} else {
		_, err = fmt.Fprintln(stdout, oneLine(res.String()))
	}
	if err != nil {
		fmt.Fprintf(stderr, "policycheck spf-lookup: writing output: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// spfVariables returns o's Exim variables, in the spf package's order.
func spfVariables(o *spf.Outcome) []variable {
	return eximVars(nil, o.Variables(), "")
}

// localhostPassFlag defines -localhost-pass. Its default is Exim's, not
// the spf library's (false), so the CLI answers as Exim would.
func localhostPassFlag(f *flagSet) *bool {
	return f.Bool("localhost-pass", true, "loopback clients (127.0.0.0/8, ::1) pass SPF without DNS, as in Exim (libspf2); "+
		"false is the spf library's default, right when a proxy or NAT in front makes remote clients look local")
}

// spfOptions turns the DNS flags and -localhost-pass into spf options.
func spfOptions(d *dnsFlags, localhostPass bool) []spf.Option {
	return []spf.Option{spf.WithResolver(d.resolver), spf.WithLocalhostPass(localhostPass)}
}
