package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/dcc"
)

func init() {
	register(&command{
		name:    "dcc",
		summary: "send a message to dccifd as Exim's dcc ACL condition and print $dcc_result and $dcc_header",
		run:     runDCC,
	})
}

func runDCC(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newFlagSet("dcc", "-ip IP -helo NAME -sender ADDR -rcpt ADDR[,ADDR...] -message FILE [flags]", stdout, stderr)
	var (
		address   = f.String("address", dcc.DefaultAddress, "dccifd `ADDR`ess as Exim's dccifd_address: a UNIX socket path, or \"host port\"")
		options   = f.String("options", dcc.DefaultOptions, "dccifd `OPTIONS` line, as Exim's dccifd_options")
		ipText    = f.String("ip", "", "client `IP` address (required; \"\" lets dccifd take it from the Received: headers)")
		name      = f.String("client-name", "", "client host `NAME` (reverse DNS), sent after the IP")
		override  = f.String("override-ip", "", "client `IP` to send instead of -ip, as $acl_m_dcc_override_client_ip")
		helo      = f.String("helo", "", "HELO/EHLO `NAME` the client gave (required; may be \"\")")
		sender    = f.String("sender", "", "envelope sender `ADDR` (required; \"\" is the null sender, sent as <>)")
		rcpts     = f.String("rcpt", "", "envelope recipients, a comma-separated `LIST` (required; \"\" sends none, a query)")
		message   = f.String("message", "", "`FILE` holding the message (header, blank line, body); \"-\" is standard input (required)")
		addHeader = f.String("add-header", "", "extra header `TEXT` to check and print as dcc_add_header, as $acl_m_dcc_add_header")
		deferOK   = f.Bool("defer-ok", false, "turn a defer into a false condition, as the /defer_ok option")
		timeout   = f.Duration("timeout", 30*time.Second, "limit for the whole exchange with dccifd, a `duration`")
		asJSON    = f.Bool("json", false, "print one JSON object instead of name=value lines")
	)
	if code, ok := f.parse(args); !ok {
		return code
	}
	if code, ok := f.noArgs(); !ok {
		return code
	}
	if code, ok := f.require("ip", "helo", "sender", "rcpt", "message"); !ok {
		return code
	}
	addr, err := dcc.ParseAddress(*address)
	if err != nil {
		return f.usageError("-address: %v", err)
	}
	var ip netip.Addr
	if *ipText != "" {
		if ip, err = netip.ParseAddr(*ipText); err != nil {
			return f.usageError("-ip: invalid IP address %q", *ipText)
		}
	}
	if *timeout <= 0 {
		return f.usageError("-timeout: must be positive, not %v", *timeout)
	}
	extra, err := dcc.CheckAddHeader(*addHeader)
	if err != nil {
		return f.usageError("-add-header: %v", err)
	}
	var recipients []dcc.Recipient
	if *rcpts != "" {
		for _, r := range strings.Split(*rcpts, ",") {
			r = strings.TrimSpace(r)
			if r == "" {
				return f.usageError("-rcpt: empty address in %q", *rcpts)
			}
			recipients = append(recipients, dcc.Recipient{Addr: r})
		}
	}
	msg, err := readMessage(*message)
	if err != nil {
		return f.usageError("-message: %v", err)
	}
	header, body := dcc.SplitMessage(msg)

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	client := &dcc.Client{Address: addr, Options: *options}
	res, err := client.Check(ctx, dcc.Request{
		ClientIP:         ip,
		OverrideClientIP: *override,
		ClientName:       *name,
		HELO:             *helo,
		Sender:           *sender,
		Recipients:       recipients,
		Header:           header,
		Body:             strings.NewReader(string(body)),
	})
	var re *dcc.RequestError
	if errors.As(err, &re) {
		return f.usageError("%v", err)
	}
	// A failure to reach dccifd or a bad reply is a defer, a policy
	// result: it is printed and the exit status is 0.
	if err != nil {
		fmt.Fprintf(stderr, "policycheck dcc: %s\n", oneLine(err.Error()))
	}
	if err := writeVars(stdout, dccVariables(res, err, *deferOK, recipients, extra), *asJSON); err != nil {
		fmt.Fprintf(stderr, "policycheck dcc: writing output: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// dccVariables lists what the dcc subcommand prints: the condition's
// value, $dcc_result, $dcc_header (unfolded to one line), the
// per-recipient letters and, with -add-header, the checked extra text.
func dccVariables(res *dcc.Result, err error, deferOK bool, rcpts []dcc.Recipient, extra string) []variable {
	result, header, letters := "", "", ""
	if res != nil {
		result = res.DCCResult
		header = strings.ReplaceAll(strings.TrimSuffix(res.Header, "\n"), "\n\t", " ")
		letters = string(res.Recipients)
	} else {
		var rerr *dcc.ReplyError
		if errors.As(err, &rerr) {
			result = "T" // as Exim for an unknown reply
		}
	}
	vars := []variable{
		{"dcc_condition", dcc.Decide(res, err, deferOK).String()},
		{"dcc_result", result},
		{"dcc_header", header},
		{"dcc_recipients", letters},
	}
	for i, r := range rcpts {
		v := r.Addr
		if i < len(letters) {
			v += " " + letters[i:i+1]
		}
		vars = append(vars, variable{"dcc_rcpt_" + strconv.Itoa(i+1), v})
	}
	if extra != "" {
		vars = append(vars, variable{"dcc_add_header", strings.TrimSuffix(extra, "\n")})
	}
	return vars
}
