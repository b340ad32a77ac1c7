package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dsninfo"
)

func TestDSNParse(t *testing.T) {
	msg, err := dsninfo.Compose(dsninfo.Report{
		ReportingMTA:       "mx.example.org",
		To:                 "sender@example.com",
		Date:               time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		MessageID:          "<b1@mx.example.org>",
		Boundary:           "b1",
		OriginalEnvelopeID: "ENV1",
		ArrivalDate:        time.Date(2026, 1, 2, 2, 0, 0, 0, time.UTC),
		Recipients: []dsninfo.Recipient{{
			FinalRecipient:    dsninfo.Rfc822("user@example.net"),
			OriginalRecipient: dsninfo.Rfc822("User@example.net"),
			Action:            dsninfo.Failed,
			RemoteMTA:         "mx.example.net",
			RemoteIP:          netip.MustParseAddr("192.0.2.1"),
			RemotePort:        587,
			Greeting:          "220 mx.example.net ESMTP",
			HELOResponse:      "250 mx.example.net",
			Diagnostic:        "SMTP error from remote mail server after RCPT TO:<user@example.net>: 550 no such user",
		}, {
			FinalRecipient: dsninfo.Rfc822("late@example.com"),
			Action:         dsninfo.Delayed,
			WillRetryUntil: time.Date(2026, 1, 6, 3, 4, 5, 0, time.UTC),
			Extra:          []dsninfo.Field{{Name: "X-Note", Value: "kept"}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "dsn.eml")
	if err := os.WriteFile(file, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	want := `dsn_reporting_mta=mx.example.org
dsn_reporting_mta_type=dns
dsn_original_envelope_id=ENV1
dsn_arrival_date=2026-01-02T02:00:00Z
dsn_from=Mail Delivery System <Mailer-Daemon@mx.example.org>
dsn_to=sender@example.com
dsn_subject=Mail delivery failed: returning message to sender
dsn_message_id=<b1@mx.example.org>
dsn_return=none
dsn_plain_text=no
dsn_rcpt_count=2
dsn_rcpt_1_final_recipient=rfc822;user@example.net
dsn_rcpt_1_original_recipient=rfc822;User@example.net
dsn_rcpt_1_action=failed
dsn_rcpt_1_status=5.0.0
dsn_rcpt_1_remote_mta=mx.example.net
dsn_rcpt_1_remote_ip=192.0.2.1
dsn_rcpt_1_remote_port=587
dsn_rcpt_1_greeting=220 mx.example.net ESMTP
dsn_rcpt_1_helo_response=250 mx.example.net
dsn_rcpt_1_diagnostic=SMTP error from remote mail server after RCPT TO:<user@example.net>: 550 no such user
dsn_rcpt_1_diagnostic_code=smtp;550 no such user
dsn_rcpt_1_last_attempt_date=
dsn_rcpt_1_will_retry_until=
dsn_rcpt_2_final_recipient=rfc822;late@example.com
dsn_rcpt_2_original_recipient=
dsn_rcpt_2_action=delayed
dsn_rcpt_2_status=4.0.0
dsn_rcpt_2_remote_mta=
dsn_rcpt_2_remote_ip=
dsn_rcpt_2_remote_port=
dsn_rcpt_2_greeting=
dsn_rcpt_2_helo_response=
dsn_rcpt_2_diagnostic=
dsn_rcpt_2_diagnostic_code=
dsn_rcpt_2_last_attempt_date=
dsn_rcpt_2_will_retry_until=2026-01-06T03:04:05Z
dsn_rcpt_2_extra_1=X-Note: kept
`
	code, out, errOut := runCLI(t, "dsn-parse", file)
	if code != 0 || out != want || errOut != "" {
		t.Errorf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", code, errOut, out, want)
	}

	// -json: the same names and values.
	code, out, _ = runCLI(t, "dsn-parse", "-json", file)
	if code != 0 || !strings.HasPrefix(out, `{"dsn_reporting_mta":"mx.example.org","dsn_reporting_mta_type":"dns",`) ||
		!strings.Contains(out, `"dsn_rcpt_1_diagnostic_code":"smtp;550 no such user"`) || strings.Count(out, "\n") != 1 {
		t.Errorf("json: exit %d %s", code, out)
	}

	// Standard input.
	old := os.Stdin
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	os.Stdin = fh
	code, out, _ = runCLI(t, "dsn-parse", "-")
	os.Stdin = old
	if code != 0 || out != want {
		t.Errorf("stdin: exit %d\n%s", code, out)
	}

	// A real bounce (sisimai sample 09: unknown per-message fields).
	code, out, _ = runCLI(t, "dsn-parse", filepath.Join("..", "..", "dsninfo", "testdata", "sisimai-rfc3464", "rfc3464-09.eml"))
	for _, w := range []string{"dsn_reporting_mta=mx4.gr3.example.jp\n", "dsn_extra_1=X-Postfix-Queue-ID: F0000000000\n",
		"dsn_rcpt_1_action=delayed\n", "dsn_rcpt_1_status=4.3.0\n", "dsn_return=hdrs\n",
		"dsn_rcpt_1_final_recipient=rfc822;kijitora-cat@mx4.gr3.example.jp\n"} {
		if code != 0 || !strings.Contains(out, w) {
			t.Errorf("sample 09: exit %d, no %q in\n%s", code, w, out)
		}
	}

	// Not a DSN: exit 1 with the reason; a limit likewise.
	plain := filepath.Join(t.TempDir(), "plain.eml")
	os.WriteFile(plain, []byte("From: a@b\nSubject: hi\n\nhello\n"), 0o600)
	code, out, _ = runCLI(t, "dsn-parse", plain)
	if code != 1 || !strings.Contains(out, "dsn_error=dsninfo: ") || !strings.HasSuffix(out, "dsn_error_kind=not_dsn\n") {
		t.Errorf("not a DSN: exit %d %q", code, out)
	}
	code, out, _ = runCLI(t, "dsn-parse", "-max-size", "100", file)
	if code != 1 || !strings.HasSuffix(out, "dsn_error_kind=limit\n") {
		t.Errorf("limit: exit %d %q", code, out)
	}
	code, out, errOut = runCLI(t, "dsn-parse", filepath.Join(t.TempDir(), "missing.eml"))
	if code != 1 || out != "" || !strings.Contains(errOut, "missing.eml") {
		t.Errorf("missing file: exit %d %q %q", code, out, errOut)
	}

	for _, args := range [][]string{
		{"dsn-parse"},
		{"dsn-parse", file, "extra"},
		{"dsn-parse", "-nope", file},
		{"dsn-parse", "-max-size", "0", file},
	} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if code, out, _ := runCLI(t, "dsn-parse", "-h"); code != 0 || !strings.Contains(out, "usage: policycheck dsn-parse") {
		t.Errorf("-h: exit %d %q", code, out)
	}
}
