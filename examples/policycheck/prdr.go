package main

// prdr-send: one SMTP transaction with PRDR (draft-hall-prdr-00), as
// Exim's smtp transport with hosts_try_prdr does it.
//
//	policycheck prdr-send -server host:port -from ADDR -to ADDR[,ADDR...] -data FILE
//	        [-helo NAME] [-bdat] [-chunk-size N] [-no-prdr] [-timeout 30s] [-json]
//
// The message FILE ("-" for standard input) is sent as is, bare LF line
// ends becoming CRLF, with DATA or, with -bdat and a server offering
// CHUNKING, with BDAT. PRDR is requested when the server offers it and
// there are at least two recipients. Output, one name=value per line:
//
//	prdr_offered=yes              the EHLO reply listed PRDR
//	prdr_requested=yes            MAIL carried the PRDR parameter
//	prdr_used=yes                 the server answered with the 353 block
//	data_command=DATA             or "BDAT 123 LAST"; empty if no data was sent
//	final_reply=250 id=... message accepted for some recipients
//	rcpt_count=2
//	rcpt_1=a@example.org delivered 250 PRDR R=<a@example.org> acceptance
//	rcpt_2=b@example.org failed 550 PRDR R=<b@example.org> refusal
//
// Each rcpt_N is the address, its status (delivered, deferred, failed)
// and the reply that decided it (a RCPT refusal, the per-recipient
// reply, or the final reply when that overrides it), combined with
// Exim's rules (see prdr.Combine). The exit status is 0 when
// the transaction ran, whatever the replies; 1 when the connection
// failed, the server refused the greeting or EHLO, or a reply was
// malformed or cut short (what is known is still printed); 2 for a
// usage error.

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/prdr"
)

func init() {
	register(&command{
		name:    "prdr-send",
		summary: "send a message over SMTP with PRDR and print each recipient's outcome",
		run:     runPRDRSend,
	})
}

func runPRDRSend(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newFlagSet("prdr-send", "-server host:port -from ADDR -to ADDR[,ADDR...] -data FILE [flags]", stdout, stderr)
	var (
		server    = f.String("server", "", "SMTP server `host:port` (required)")
		from      = f.String("from", "", "envelope sender `ADDR` (required; \"\" is the null sender)")
		to        = f.String("to", "", "comma-separated recipient `ADDRS` (required)")
		dataFile  = f.String("data", "", "message `FILE`, \"-\" for standard input (required)")
		helo      = f.String("helo", "localhost", "EHLO `NAME`")
		bdat      = f.Bool("bdat", false, "send with BDAT when the server offers CHUNKING")
		chunkSize = f.Int("chunk-size", 0, "BDAT chunk size in `bytes`; 0 sends one chunk")
		noPRDR    = f.Bool("no-prdr", false, "never request PRDR")
		timeout   = f.Duration("timeout", 30*time.Second, "limit for the whole session, a `duration`")
		asJSON    = f.Bool("json", false, "print one JSON object instead of name=value lines")
	)
	if code, ok := f.parse(args); !ok {
		return code
	}
	if code, ok := f.noArgs(); !ok {
		return code
	}
	if code, ok := f.require("server", "from", "to", "data"); !ok {
		return code
	}
	if *timeout <= 0 {
		return f.usageError("-timeout: must be positive, not %v", *timeout)
	}
	if *chunkSize < 0 {
		return f.usageError("-chunk-size: must not be negative")
	}
	var rcpts []string
	for _, a := range strings.Split(*to, ",") {
		if a = strings.TrimSpace(a); a != "" {
			rcpts = append(rcpts, a)
		}
	}
	if len(rcpts) == 0 {
		return f.usageError("-to: no recipient given")
	}
	for _, a := range append([]string{*from}, rcpts...) {
		if strings.ContainsAny(a, "<> \t\r\n,") {
			return f.usageError("invalid address %q", a)
		}
	}
	var data io.Reader = os.Stdin
	if *dataFile != "-" {
		fh, err := os.Open(*dataFile)
		if err != nil {
			return f.usageError("-data: %v", err)
		}
		defer fh.Close()
		data = fh
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	opts := []prdr.Option{prdr.WithHelo(*helo)}
	if *bdat {
		opts = append(opts, prdr.WithBDAT(*chunkSize))
	}
	if *noPRDR {
		opts = append(opts, prdr.WithoutPRDR())
	}
	res, err := prdr.Send(ctx, *server, *from, rcpts, data, opts...)
	code := exitOK
	if err != nil {
		fmt.Fprintf(stderr, "policycheck prdr-send: %s\n", oneLine(err.Error()))
		code = exitFailed
	}
	if res == nil || res.Recipients == nil {
		return exitFailed
	}
	if werr := writeVars(stdout, prdrVariables(res), *asJSON); werr != nil {
		fmt.Fprintf(stderr, "policycheck prdr-send: writing output: %v\n", werr)
		return exitFailed
	}
	return code
}

// prdrVariables lists the outcome in output order.
func prdrVariables(res *prdr.SendResult) []variable {
	final := ""
	used := false
	if res.Data != nil {
		used = res.Data.PRDR
		if res.Data.Final.Code != 0 {
			final = res.Data.Final.String()
		}
	}
	vars := []variable{
		{"prdr_offered", prdrYesNo(res.Offered)},
		{"prdr_requested", prdrYesNo(res.Requested)},
		{"prdr_used", prdrYesNo(used)},
		{"data_command", res.DataCmd},
		{"final_reply", final},
		{"rcpt_count", strconv.Itoa(len(res.Recipients))},
	}
	for i, o := range res.Recipients {
		reply := "-"
		switch {
		case o.Reply.Code != 0:
			reply = o.Reply.String()
		case o.Err != nil:
			reply = "- " + o.Err.Error()
		}
		vars = append(vars, variable{"rcpt_" + strconv.Itoa(i+1), o.Recipient + " " + o.Status.String() + " " + reply})
	}
	return vars
}

// prdrYesNo is "yes" or "no", as Exim prints booleans.
func prdrYesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
