package main

// tlsrpt-parse: read a received SMTP TLS report (RFC 8460 §4.4, plain
// JSON or gzip, package tlsrpt) and print what it holds.
//
//	policycheck tlsrpt-parse [-message] [-max-size N] [-max-decompressed-size N] [-json] FILE
//
// FILE "-" is standard input. With -message FILE is the report mail
// (RFC 8460 §5.3, tlsrpt.ParseMessage) rather than the report itself. Output, one name=value per line, always
// in this order and with every name present (values may be empty),
// policies numbered from 1 (N), their policy-string elements, mx-host
// elements and failure-details too (M):
//
//	organization_name=Example Sender
//	contact_info=tlsrpt@sender.example
//	report_id=20260314.0123456789abcdef@sender.example
//	date_range_start=2026-03-14T00:00:00Z      (RFC 3339, UTC)
//	date_range_end=2026-03-14T23:59:59Z
//	policy_count=1
//	policy_1_type=sts                          (sts, tlsa or no-policy-found)
//	policy_1_domain=example.com
//	policy_1_string_1=version: STSv1           (one line per policy-string element)
//	policy_1_mx_host_1=*.mx.example.com        (one line per mx-host element)
//	policy_1_successful_sessions=1200
//	policy_1_failed_sessions=7
//	policy_1_failure_count=1
//	policy_1_failure_1_result_type=certificate-expired
//	policy_1_failure_1_sending_mta_ip=192.0.2.25
//	policy_1_failure_1_receiving_mx_hostname=a.mx.example.com
//	policy_1_failure_1_receiving_mx_helo=
//	policy_1_failure_1_receiving_ip=198.51.100.10
//	policy_1_failure_1_failed_sessions=7
//	policy_1_failure_1_additional_information=
//	policy_1_failure_1_failure_reason_code=
//
// The exit status is 0 when a report was printed; 1 when FILE cannot
// be read, or is not a TLS report or exceeds a limit (then
// tlsrpt_error, the reason, and tlsrpt_error_kind, "invalid" or
// "limit", are printed instead); 2 for a usage error.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/mailpolicy/mailpolicy/tlsrpt"
)

func init() {
	register(&command{
		name:    "tlsrpt-parse",
		summary: "read an SMTP TLS report (RFC 8460, JSON or gzip) and print its fields",
		run:     runTLSRPTParse,
	})
}

func runTLSRPTParse(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newFlagSet("tlsrpt-parse", "[flags] FILE", stdout, stderr)
	var (
		maxSize = f.Int64("max-size", tlsrpt.DefaultMaxSize, "largest input to read, in `bytes`")
		maxJSON = f.Int64("max-decompressed-size", tlsrpt.DefaultMaxDecompressedSize, "largest report after gunzip, in `bytes`")
		asJSON  = f.Bool("json", false, "print one JSON object instead of name=value lines")
		message = f.Bool("message", false, "FILE is a report mail (RFC 8460 §5.3), not the report")
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
	if *maxSize <= 0 || *maxJSON <= 0 {
		return f.usageError("-max-size and -max-decompressed-size must be positive")
	}
	var in io.Reader = os.Stdin
	if name := f.Arg(0); name != "-" {
		fh, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "policycheck tlsrpt-parse: %v\n", err)
			return exitFailed
		}
		defer fh.Close()
		in = fh
	}
	parser := tlsrpt.Parser{MaxSize: *maxSize, MaxDecompressedSize: *maxJSON}
	parse := parser.Parse
	if *message {
		parse = parser.ParseMessage
	}
	rep, err := parse(in)
	var vars []variable
	code := exitOK
	switch {
	case err == nil:
		vars = tlsrptVariables(rep)
	case errors.Is(err, tlsrpt.ErrInvalidReport), errors.Is(err, tlsrpt.ErrTooLarge), errors.Is(err, tlsrpt.ErrNoReport):
		kind := "invalid"
		if errors.Is(err, tlsrpt.ErrTooLarge) {
			kind = "limit"
		}
		vars = []variable{{"tlsrpt_error", err.Error()}, {"tlsrpt_error_kind", kind}}
		code = exitFailed
	default:
		fmt.Fprintf(stderr, "policycheck tlsrpt-parse: %s\n", oneLine(err.Error()))
		return exitFailed
	}
	if err := writeVars(stdout, vars, *asJSON); err != nil {
		fmt.Fprintf(stderr, "policycheck tlsrpt-parse: writing output: %v\n", err)
		return exitFailed
	}
	return code
}

// tlsrptVariables lists the report in output order.
func tlsrptVariables(rep *tlsrpt.Report) []variable {
	vars := []variable{
		{"organization_name", rep.OrganizationName},
		{"contact_info", rep.ContactInfo},
		{"report_id", rep.ReportID},
		{"date_range_start", utcTime(rep.DateRange.Start)},
		{"date_range_end", utcTime(rep.DateRange.End)},
		{"policy_count", strconv.Itoa(len(rep.Policies))},
	}
	for i, pr := range rep.Policies {
		p := "policy_" + strconv.Itoa(i+1) + "_"
		vars = append(vars,
			variable{p + "type", string(pr.Policy.Type)},
			variable{p + "domain", pr.Policy.Domain},
		)
		for j, s := range pr.Policy.Strings {
			vars = append(vars, variable{p + "string_" + strconv.Itoa(j+1), s})
		}
		for j, s := range pr.Policy.MXHosts {
			vars = append(vars, variable{p + "mx_host_" + strconv.Itoa(j+1), s})
		}
		vars = append(vars,
			variable{p + "successful_sessions", strconv.FormatInt(pr.Summary.TotalSuccessfulSessionCount, 10)},
			variable{p + "failed_sessions", strconv.FormatInt(pr.Summary.TotalFailureSessionCount, 10)},
			variable{p + "failure_count", strconv.Itoa(len(pr.FailureDetails))},
		)
		for j, d := range pr.FailureDetails {
			q := p + "failure_" + strconv.Itoa(j+1) + "_"
			vars = append(vars,
				variable{q + "result_type", string(d.ResultType)},
				variable{q + "sending_mta_ip", d.SendingMTAIP},
				variable{q + "receiving_mx_hostname", d.ReceivingMXHostname},
				variable{q + "receiving_mx_helo", d.ReceivingMXHelo},
				variable{q + "receiving_ip", d.ReceivingIP},
				variable{q + "failed_sessions", strconv.FormatInt(d.FailedSessionCount, 10)},
				variable{q + "additional_information", d.AdditionalInformation},
				variable{q + "failure_reason_code", d.FailureReasonCode},
			)
		}
	}
	return vars
}
