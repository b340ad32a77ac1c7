package main

// dsn-parse: read a delivery status notification (RFC 3464 bounce or
// delay warning, Exim's EXPERIMENTAL_DSN_INFO fields included) with
// package dsninfo and print what it holds.
//
//	policycheck dsn-parse [-json] FILE
//
// FILE "-" is standard input. Output, one name=value per line, always
// in this order and with every name present (values may be empty):
//
//	dsn_reporting_mta=mx.example.org
//	dsn_reporting_mta_type=dns
//	dsn_original_envelope_id=
//	dsn_arrival_date=2026-01-02T03:04:05Z   (RFC 3339, UTC; empty when absent)
//	dsn_from=Mail Delivery System <Mailer-Daemon@mx.example.org>
//	dsn_to=sender@example.com
//	dsn_subject=Mail delivery failed: returning message to sender
//	dsn_message_id=<...>
//	dsn_return=full                          (full, hdrs or none)
//	dsn_plain_text=no                        (yes: a plain-text bounce, recipients read from its prose)
//	dsn_extra_1=X-Postfix-Queue-ID: 12345    (one per unknown per-message field)
//	dsn_rcpt_count=1
//	dsn_rcpt_1_final_recipient=rfc822;user@example.net
//	dsn_rcpt_1_original_recipient=
//	dsn_rcpt_1_action=failed
//	dsn_rcpt_1_status=5.0.0
//	dsn_rcpt_1_remote_mta=mx.example.net
//	dsn_rcpt_1_remote_ip=192.0.2.1           (Exim's Remote-MTA: X-ip)
//	dsn_rcpt_1_remote_port=25
//	dsn_rcpt_1_greeting=220 ...              (X-Remote-MTA-smtp-greeting)
//	dsn_rcpt_1_helo_response=250 ...         (X-Remote-MTA-helo-response)
//	dsn_rcpt_1_diagnostic=SMTP error ...     (X-Exim-Diagnostic, or -diagnostic-field)
//	dsn_rcpt_1_diagnostic_code=smtp;550 ...
//	dsn_rcpt_1_last_attempt_date=
//	dsn_rcpt_1_will_retry_until=
//	dsn_rcpt_1_extra_1=X-Actual-Recipient: rfc822; ...
//
// The exit status is 0 when a report was printed; 1 when FILE cannot
// be read, or is not a DSN or exceeds a limit (then dsn_error, the
// reason, and dsn_error_kind, "not_dsn" or "limit", are printed
// instead); 2 for a usage error.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/mailpolicy/mailpolicy/dsninfo"
)

func init() {
	register(&command{
		name:    "dsn-parse",
		summary: "read a delivery status notification (RFC 3464, Exim DSN info) and print its fields",
		run:     runDSNParse,
	})
}

func runDSNParse(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newFlagSet("dsn-parse", "[flags] FILE", stdout, stderr)
	var (
		diagField = f.String("diagnostic-field", dsninfo.DefaultDiagnosticField, "`NAME` of Exim's extra diagnostic field")
		maxSize   = f.Int64("max-size", dsninfo.DefaultMaxSize, "largest message to read, in `bytes`")
		maxRcpts  = f.Int("max-recipients", dsninfo.DefaultMaxRecipients, "most per-recipient blocks to read, a `number`")
		asJSON    = f.Bool("json", false, "print one JSON object instead of name=value lines")
	)
	if code, ok := f.parse(args); !ok {
		return code
	}
	switch f.NArg() {
	case 0:
		return f.usageError("missing FILE (\"-\" for standard input)")
	case 1:
	default:
		return f.unexpected(f.Arg(1))
	}
	if *maxSize <= 0 || *maxRcpts <= 0 {
		return f.usageError("-max-size and -max-recipients must be positive")
	}
	var in io.Reader = os.Stdin
	if name := f.Arg(0); name != "-" {
		fh, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "policycheck dsn-parse: %v\n", err)
			return exitFailed
		}
		defer fh.Close()
		in = fh
	}
	p := dsninfo.Parser{MaxSize: *maxSize, MaxRecipients: *maxRcpts, DiagnosticField: *diagField}
	r, err := p.Parse(in)
	var vars []variable
	code := exitOK
	switch {
	case err == nil:
		vars = dsnVariables(r)
	case errors.Is(err, dsninfo.ErrNotDSN), errors.Is(err, dsninfo.ErrLimit):
		kind := "not_dsn"
		if errors.Is(err, dsninfo.ErrLimit) {
			kind = "limit"
		}
		vars = []variable{{"dsn_error", err.Error()}, {"dsn_error_kind", kind}}
		code = exitFailed
	default:
		fmt.Fprintf(stderr, "policycheck dsn-parse: %s\n", oneLine(err.Error()))
		return exitFailed
	}
	if err := writeVars(stdout, vars, *asJSON); err != nil {
		fmt.Fprintf(stderr, "policycheck dsn-parse: writing output: %v\n", err)
		return exitFailed
	}
	return code
}

// dsnVariables lists the report in output order.
func dsnVariables(r *dsninfo.Report) []variable {
	vars := []variable{
		{"dsn_reporting_mta", r.ReportingMTA},
		{"dsn_reporting_mta_type", r.ReportingMTAType},
		{"dsn_original_envelope_id", r.OriginalEnvelopeID},
		{"dsn_arrival_date", utcTime(r.ArrivalDate)},
		{"dsn_from", r.From},
		{"dsn_to", r.To},
		{"dsn_subject", r.Subject},
		{"dsn_message_id", r.MessageID},
		{"dsn_return", r.Return.String()},
		{"dsn_plain_text", yesNo(r.PlainText)},
	}
	for i, x := range r.Extra {
		vars = append(vars, variable{"dsn_extra_" + strconv.Itoa(i+1), x.Name + ": " + x.Value})
	}
	vars = append(vars, variable{"dsn_rcpt_count", strconv.Itoa(len(r.Recipients))})
	for i, rc := range r.Recipients {
		p := "dsn_rcpt_" + strconv.Itoa(i+1) + "_"
		ip, port := "", ""
		if rc.RemoteIP.IsValid() {
			ip, port = rc.RemoteIP.String(), strconv.Itoa(rc.RemotePort)
		}
		orcpt := ""
		if !rc.OriginalRecipient.IsZero() {
			orcpt = rc.OriginalRecipient.String()
		}
		vars = append(vars,
			variable{p + "final_recipient", rc.FinalRecipient.String()},
			variable{p + "original_recipient", orcpt},
			variable{p + "action", rc.Action.String()},
			variable{p + "status", rc.Status},
			variable{p + "remote_mta", rc.RemoteMTA},
			variable{p + "remote_ip", ip},
			variable{p + "remote_port", port},
			variable{p + "greeting", rc.Greeting},
			variable{p + "helo_response", rc.HELOResponse},
			variable{p + "diagnostic", rc.Diagnostic},
			variable{p + "diagnostic_code", rc.DiagnosticCode.String()},
			variable{p + "last_attempt_date", utcTime(rc.LastAttemptDate)},
			variable{p + "will_retry_until", utcTime(rc.WillRetryUntil)},
		)
		for j, x := range rc.Extra {
			vars = append(vars, variable{p + "extra_" + strconv.Itoa(j+1), x.Name + ": " + x.Value})
		}
	}
	return vars
}
