package main

// bmi: scan a message with spamd as Exim's BMI would, and show each
// recipient's $bmi_* variables; bmi-eval: the same variables and router
// preconditions from a stored verdict list or spool line.
//
//	policycheck bmi -spamd ADDR -sender ADDR -rcpt "ADDR [OPTIN]" [-rcpt ...] -message FILE [flags]
//	policycheck bmi-eval (-verdicts LIST | -spool LINE) -rcpt ADDR [-rule 5:8:11]

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/bmi"
)

func init() {
	register(&command{
		name:    "bmi",
		summary: "scan a message with spamd into per-recipient BMI verdicts and print $bmi_verdicts and each recipient's $bmi_* variables",
		run:     runBMI,
	})
	register(&command{
		name:    "bmi-eval",
		summary: "print one address's $bmi_* variables and router preconditions from a verdict list or -bmi_verdicts spool line",
		run:     runBMIEval,
	})
}

func runBMI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newFlagSet("bmi", "-spamd ADDR -sender ADDR -rcpt \"ADDR [OPTIN]\" [-rcpt ...] -message FILE [flags]", stdout, stderr)
	var (
		rcpts, rules stringsFlag
		addr         = f.String("spamd", bmi.DefaultSpamdAddr, "spamd `ADDR`ess: host:port, or a UNIX socket path starting with /")
		ipText       = f.String("ip", "", "client `IP` address ($sender_host_address); empty for a local message")
		sender       = f.String("sender", "", "envelope sender `ADDR` (\"\" is the null sender)")
		message      = f.String("message", "", "`FILE` holding the message (header, blank line, body); \"-\" is standard input (required)")
		command      = f.String("command", "symbols", "spamd request: symbols, report or check")
		altScore     = f.Float64("alt-score", 0, "`SCORE` at or above which recipients go to the alternate location (0: spamd's required_score)")
		noneScore    = f.Float64("none-score", 0, "`SCORE` at or above which the message is not delivered (0: never)")
		altLocation  = f.String("alt-location", bmi.DefaultSpamdAltLocation, "alternate `LOCATION` named by $bmi_alt_location")
		timeout      = f.Duration("timeout", 60*time.Second, "limit for each spamd request, a `duration`")
		asJSON       = f.Bool("json", false, "print one JSON object instead of name=value lines")
	)
	f.Var(&rcpts, "rcpt", "recipient `\"ADDR [OPTIN]\"`, repeatable: the address, then optionally a blank and its bmi_optin colon list (the first feature is the spamd user)")
	f.Var(&rules, "rule", "`SYMBOL=N`, repeatable: the SpamAssassin rule SYMBOL fires BMI rule number N")
	if code, ok := f.parse(args); !ok {
		return code
	}
	if code, ok := f.noArgs(); !ok {
		return code
	}
	if code, ok := f.require("rcpt", "message"); !ok {
		return code
	}
	s := &bmi.Spamd{Addr: *addr, AltScore: *altScore, NoneScore: *noneScore, AltLocation: *altLocation, Timeout: *timeout}
	if strings.HasPrefix(*addr, "/") {
		s.Network = "unix"
	}
	switch strings.ToLower(*command) {
	case "symbols":
		s.Command = bmi.SpamdSymbols
	case "report":
		s.Command = bmi.SpamdReport
	case "check":
		s.Command = bmi.SpamdCheck
	default:
		return f.usageError("-command: want symbols, report or check, not %q", *command)
	}
	if *timeout <= 0 {
		return f.usageError("-timeout: must be positive, not %v", *timeout)
	}
	if len(rules) > 0 {
		s.Rules = make(map[string]int, len(rules))
		for _, r := range rules {
			sym, num, ok := strings.Cut(r, "=")
			n, err := strconv.Atoi(num)
			if !ok || sym == "" || err != nil || n <= 0 {
				return f.usageError("-rule: want SYMBOL=N with N > 0, not %q", r)
			}
			s.Rules[sym] = n
		}
	}
	m := &bmi.Message{Sender: *sender}
	if *ipText != "" {
		ip, err := netip.ParseAddr(*ipText)
		if err != nil {
			return f.usageError("-ip: invalid IP address %q", *ipText)
		}
		m.ClientIP = ip
	}
	var env bmi.Envelope
	for _, r := range rcpts {
		a, optin, _ := strings.Cut(strings.TrimSpace(r), " ")
		if a == "" {
			return f.usageError("-rcpt: empty address in %q", r)
		}
		env.BeginRcpt()
		env.SetOptIn(strings.TrimSpace(optin))
		env.AddRecipient(a)
	}
	m.Recipients = env.Recipients
	msg, err := readMessage(*message)
	if err != nil {
		return f.usageError("-message: %v", err)
	}
	m.Header, m.Body = bmi.SplitMessage(msg)

	vs, err := s.Scan(ctx, m)
	if err != nil {
		// As Exim: a failed scan leaves the message unscanned, which
		// delivers to the default destination. A result, not a failure.
		fmt.Fprintf(stderr, "policycheck bmi: %s\n", oneLine(err.Error()))
	}
	for _, e := range vs.Errors() {
		fmt.Fprintf(stderr, "policycheck bmi: %s\n", e)
	}
	vars := []variable{{"bmi_verdicts", vs.String()}}
	for i, r := range m.Recipients {
		n := strconv.Itoa(i + 1)
		vars = append(vars, variable{"bmi_rcpt_" + n, r.Address})
		vars = eximVars(vars, vs.ForRecipient(r.Address).Variables(), "_"+n)
	}
	if err := writeVars(stdout, vars, *asJSON); err != nil {
		fmt.Fprintf(stderr, "policycheck bmi: writing output: %v\n", err)
		return exitFailed
	}
	return exitOK
}

func runBMIEval(_ context.Context, args []string, stdout, stderr io.Writer) int {
	f := newFlagSet("bmi-eval", "(-verdicts LIST | -spool LINE) -rcpt ADDR [-rule 5:8:11]", stdout, stderr)
	var (
		list   = f.String("verdicts", "", "$bmi_verdicts: base64 verdicts joined with ':'")
		spool  = f.String("spool", "", "a -bmi_verdicts (or --bmi_verdicts) spool `LINE`")
		rcpt   = f.String("rcpt", "", "the address's top-level ancestor, the envelope recipient `ADDR` (required)")
		rule   = f.String("rule", "", "bmi_rule `LIST` to test, e.g. 5:8:11")
		asJSON = f.Bool("json", false, "print one JSON object instead of name=value lines")
	)
	if code, ok := f.parse(args); !ok {
		return code
	}
	if code, ok := f.noArgs(); !ok {
		return code
	}
	if code, ok := f.require("rcpt"); !ok {
		return code
	}
	if f.isSet("verdicts") == f.isSet("spool") {
		return f.usageError("give exactly one of -verdicts and -spool")
	}
	var (
		vs  bmi.Verdicts
		err error
	)
	if f.isSet("spool") {
		vs, err = bmi.ParseSpoolLine(*spool)
	} else {
		vs, err = bmi.ParseVerdicts(*list)
	}
	if err != nil {
		// Exim treats undecodable verdicts as none: deliver default.
		fmt.Fprintf(stderr, "policycheck bmi-eval: %s\n", oneLine(err.Error()))
		vs = nil
	}
	e := vs.ForRecipient(*rcpt)
	vars := eximVars(nil, e.Variables(), "")
	vars = append(vars,
		variable{"bmi_deliver_default", yesNo(e.DeliverDefault())},
		variable{"bmi_deliver_alternate", yesNo(e.DeliverAlternate())},
		variable{"bmi_dont_deliver", yesNo(e.DontDeliver())},
	)
	if f.isSet("rule") {
		vars = append(vars, variable{"bmi_rule", yesNo(e.RuleFired(*rule))})
	}
	if err := writeVars(stdout, vars, *asJSON); err != nil {
		fmt.Fprintf(stderr, "policycheck bmi-eval: writing output: %v\n", err)
		return exitFailed
	}
	return exitOK
}
