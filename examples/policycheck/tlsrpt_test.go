package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/tlsrpt"
)

func TestTLSRPTParse(t *testing.T) {
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	rec := tlsrpt.NewRecorder(tlsrpt.WithClock(func() time.Time { return now }))
	sts := tlsrpt.Policy{
		Type:    tlsrpt.PolicySTS,
		Domain:  "example.com",
		Strings: []string{"version: STSv1", "mode: enforce", "mx: *.mx.example.com", "max_age: 86400"},
		MXHosts: []string{"*.mx.example.com"},
	}
	for range 3 {
		rec.Success(sts)
	}
	rec.Failure(sts, tlsrpt.Failure{
		Result:              tlsrpt.ResultCertificateExpired,
		SendingMTAIP:        netip.MustParseAddr("192.0.2.25"),
		ReceivingMXHostname: "a.mx.example.com",
		ReceivingMXHelo:     "a",
		ReceivingIP:         netip.MustParseAddr("198.51.100.10"),
		AdditionalInfo:      "line one\r\nline two", // printed on one line
		FailureReasonCode:   "X509_V_ERR_CERT_HAS_EXPIRED",
	})
	rec.Success(tlsrpt.Policy{Type: tlsrpt.PolicyNone, Domain: "example.com", Strings: []string{}})
	day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	rep := rec.Reports(day, day.AddDate(0, 0, 1), tlsrpt.Organization{Name: "Sender", Contact: "tlsrpt@sender.example"})[0]

	dir := t.TempDir()
	gzFile := filepath.Join(dir, rep.Filename())
	var b bytes.Buffer
	if err := rep.WriteGzip(&b); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(gzFile, b.Bytes(), 0o600)
	jsonFile := filepath.Join(dir, "report.json")
	b.Reset()
	rep.WriteJSON(&b)
	os.WriteFile(jsonFile, b.Bytes(), 0o600)

	want := `organization_name=Sender
contact_info=tlsrpt@sender.example
report_id=` + rep.ReportID + `
date_range_start=2026-03-14T00:00:00Z
date_range_end=2026-03-14T23:59:59Z
policy_count=2
policy_1_type=no-policy-found
policy_1_domain=example.com
policy_1_successful_sessions=1
policy_1_failed_sessions=0
policy_1_failure_count=0
policy_2_type=sts
policy_2_domain=example.com
policy_2_string_1=version: STSv1
policy_2_string_2=mode: enforce
policy_2_string_3=mx: *.mx.example.com
policy_2_string_4=max_age: 86400
policy_2_mx_host_1=*.mx.example.com
policy_2_successful_sessions=3
policy_2_failed_sessions=1
policy_2_failure_count=1
policy_2_failure_1_result_type=certificate-expired
policy_2_failure_1_sending_mta_ip=192.0.2.25
policy_2_failure_1_receiving_mx_hostname=a.mx.example.com
policy_2_failure_1_receiving_mx_helo=a
policy_2_failure_1_receiving_ip=198.51.100.10
policy_2_failure_1_failed_sessions=1
policy_2_failure_1_additional_information=line one  line two
policy_2_failure_1_failure_reason_code=X509_V_ERR_CERT_HAS_EXPIRED
`
	for _, file := range []string{gzFile, jsonFile} {
		code, out, errOut := runCLI(t, "tlsrpt-parse", file)
		if code != 0 || out != want || errOut != "" {
			t.Errorf("%s: exit %d, stderr %q, stdout:\n%s\nwant:\n%s", file, code, errOut, out, want)
		}
	}

	// -message: the report mail the sender's MTA sends.
	b.Reset()
	if err := rep.Mail(&b, tlsrpt.MailOptions{From: "tlsrpt@sender.example", To: "tls@example.com", Date: day, MessageID: "<m1@sender.example>"}); err != nil {
		t.Fatal(err)
	}
	mailFile := filepath.Join(dir, "report.eml")
	os.WriteFile(mailFile, b.Bytes(), 0o600)
	if code, out, errOut := runCLI(t, "tlsrpt-parse", "-message", mailFile); code != 0 || out != want {
		t.Errorf("-message: exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}
	if code, out, _ := runCLI(t, "tlsrpt-parse", "-message", jsonFile); code != 1 || !strings.HasSuffix(out, "\ntlsrpt_error_kind=invalid\n") {
		t.Errorf("-message with a bare report: exit %d %q", code, out)
	}

	// -json: one object, the same names and values in the same order.
	code, out, _ := runCLI(t, "tlsrpt-parse", "-json", gzFile)
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, `{"organization_name":"Sender","contact_info":"tlsrpt@sender.example",`) {
		t.Errorf("json: exit %d %s", code, out)
	}
	var obj map[string]string
	if err := json.Unmarshal([]byte(out), &obj); err != nil || obj["policy_2_failure_1_failure_reason_code"] != "X509_V_ERR_CERT_HAS_EXPIRED" || len(obj) != strings.Count(want, "\n") {
		t.Errorf("json: %v %v", obj, err)
	}

	// Standard input.
	old := os.Stdin
	fh, err := os.Open(gzFile)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	os.Stdin = fh
	code, out, _ = runCLI(t, "tlsrpt-parse", "-")
	os.Stdin = old
	if code != 0 || out != want {
		t.Errorf("stdin: exit %d\n%s", code, out)
	}

	// Not a report, over a limit: exit 1 with the reason.
	notReport := filepath.Join(dir, "dmarc.xml")
	os.WriteFile(notReport, []byte(`<?xml version="1.0"?><feedback/>`), 0o600)
	code, out, _ = runCLI(t, "tlsrpt-parse", notReport)
	if code != 1 || !strings.HasPrefix(out, "tlsrpt_error=tlsrpt: invalid report") || !strings.HasSuffix(out, "\ntlsrpt_error_kind=invalid\n") {
		t.Errorf("not a report: exit %d %q", code, out)
	}
	code, out, _ = runCLI(t, "tlsrpt-parse", "-max-decompressed-size", "100", gzFile)
	if code != 1 || !strings.HasSuffix(out, "\ntlsrpt_error_kind=limit\n") || !strings.Contains(out, "after decompression") {
		t.Errorf("limit: exit %d %q", code, out)
	}
	code, out, _ = runCLI(t, "tlsrpt-parse", "-json", "-max-size", "10", jsonFile)
	if code != 1 || !strings.HasSuffix(out, `"tlsrpt_error_kind":"limit"}`+"\n") {
		t.Errorf("limit -json: exit %d %q", code, out)
	}
	code, out, errOut := runCLI(t, "tlsrpt-parse", filepath.Join(dir, "missing.json"))
	if code != 1 || out != "" || !strings.Contains(errOut, "missing.json") {
		t.Errorf("missing file: exit %d %q %q", code, out, errOut)
	}

	for _, args := range [][]string{
		{"tlsrpt-parse"},
		{"tlsrpt-parse", gzFile, "extra"},
		{"tlsrpt-parse", gzFile, "-json"},
		{"tlsrpt-parse", "-nope", gzFile},
		{"tlsrpt-parse", "-max-size", "0", gzFile},
		{"tlsrpt-parse", "-max-decompressed-size", "-1", gzFile},
	} {
		if code, _, errOut := runCLI(t, args...); code != 2 || !strings.Contains(errOut, "usage: policycheck tlsrpt-parse") {
			t.Errorf("%q: exit %d, want 2 with the usage; stderr %q", args, code, errOut)
		}
	}
	if code, out, _ := runCLI(t, "tlsrpt-parse", "-h"); code != 0 || !strings.Contains(out, "usage: policycheck tlsrpt-parse") {
		t.Errorf("-h: exit %d %q", code, out)
	}
	if code, out, _ := runCLI(t, "help"); code != 0 || !strings.Contains(out, "tlsrpt-parse") {
		t.Errorf("help does not list tlsrpt-parse: %q", out)
	}
}
