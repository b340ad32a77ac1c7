package main

// Black-box tests of the dcc subcommand: the policycheck binary against
// the fake dccifd of package dcctest on a UNIX socket.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/dcc/dcctest"
)

const dccMessage = "From: sender@example.net\nSubject: test\n\nbody text\n"

func writeMessage(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "msg.eml")
	if err := os.WriteFile(p, []byte(dccMessage), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDCC(t *testing.T) {
	srv := dcctest.StartUnix(t, dcctest.Fixed(dcctest.Reply('S', "AR",
		"X-DCC-EXAMPLE-Metrics: mx.example.com 1234; bulk Body=many Fuz1=many Fuz2=many IP=1 env_From=2 From=3\n\n")))
	msg := writeMessage(t)
	code, stdout, stderr := policycheck(t, "dcc", "-address", srv.Spec, "-ip", "192.0.2.25",
		"-client-name", "mail.example.net", "-helo", "mail.example.net", "-sender", "sender@example.net",
		"-rcpt", "alice@example.com,bob@example.com", "-message", msg, "-timeout", "10s")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	want := "dcc_condition=ok\n" +
		"dcc_result=A\n" +
		"dcc_header=X-DCC-EXAMPLE-Metrics: mx.example.com 1234; bulk Body=many Fuz1=many Fuz2=many IP=1 env_From=2 From=3\n" +
		"dcc_recipients=AR\n" +
		"dcc_rcpt_1=alice@example.com A\n" +
		"dcc_rcpt_2=bob@example.com R\n"
	if stdout != want {
		t.Errorf("stdout\n got %q\nwant %q", stdout, want)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	wantReq := "header\n192.0.2.25\rmail.example.net\nmail.example.net\nsender@example.net\n" +
		"alice@example.com\nbob@example.com\n\n" +
		"From: sender@example.net\r\nSubject: test\r\n\r\nbody text\r\n"
	if got := string(reqs[0].Raw); got != wantReq {
		t.Errorf("request\n got %q\nwant %q", got, wantReq)
	}
}

func TestDCCJSONAndDefer(t *testing.T) {
	srv := dcctest.StartUnix(t, dcctest.Fixed([]byte("T\n\n")))
	msg := writeMessage(t)
	base := []string{"dcc", "-address", srv.Spec, "-ip", "", "-helo", "", "-sender", "", "-rcpt", "a@example.com", "-message", msg, "-json"}
	code, stdout, stderr := policycheck(t, base...)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v: %q", err, stdout)
	}
	if got["dcc_condition"] != "defer" || got["dcc_result"] != "T" || got["dcc_rcpt_1"] != "a@example.com" {
		t.Errorf("got %v", got)
	}
	if r := string(srv.Requests()[0].Raw); !strings.HasPrefix(r, "header\n\n\n<>\na@example.com\n\n") {
		t.Errorf("request %q", r)
	}

	code, stdout, _ = policycheck(t, append(base, "-defer-ok")...)
	if code != 0 || !strings.Contains(stdout, `"dcc_condition":"fail"`) {
		t.Errorf("defer-ok: exit %d, %q", code, stdout)
	}
}

func TestDCCUnreachable(t *testing.T) {
	msg := writeMessage(t)
	code, stdout, stderr := policycheck(t, "dcc", "-address", filepath.Join(t.TempDir(), "none"), "-ip", "192.0.2.1",
		"-helo", "h", "-sender", "s@example.net", "-rcpt", "r@example.com", "-message", msg)
	if code != 0 || !strings.HasPrefix(stdout, "dcc_condition=defer\ndcc_result=\n") || !strings.Contains(stderr, "dial") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestDCCUsageErrors(t *testing.T) {
	const usage = "usage: policycheck dcc -ip IP"
	ok := []string{"-ip", "192.0.2.1", "-helo", "h", "-sender", "s@example.net", "-rcpt", "r@example.com", "-message", "/nonexistent"}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"dcc"}, "policycheck dcc: -ip is required"},
		{append([]string{"dcc", "-address", "nohost"}, ok...), `policycheck dcc: -address: dcc: invalid dccifd address "nohost": want "/socket/path" or "host port"`},
		{[]string{"dcc", "-ip", "x", "-helo", "h", "-sender", "s", "-rcpt", "r", "-message", "m"}, `policycheck dcc: -ip: invalid IP address "x"`},
		{append([]string{"dcc", "-timeout", "0"}, ok...), "policycheck dcc: -timeout: must be positive, not 0s"},
		{append([]string{"dcc", "-add-header", "bad header"}, ok...), `policycheck dcc: -add-header: dcc: extra header line 1: not a "Name: value" header field`},
		{[]string{"dcc", "-ip", "192.0.2.1", "-helo", "h", "-sender", "s", "-rcpt", "a,,b", "-message", "m"}, `policycheck dcc: -rcpt: empty address in "a,,b"`},
		{append([]string{"dcc", "x"}, ok...), `policycheck dcc: unexpected argument "x"`},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		first, _, _ := strings.Cut(stderr, "\n")
		if code != 2 || stdout != "" || first != tc.msg || !strings.Contains(stderr, usage) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", tc.args, code, stdout, stderr)
		}
	}
	code, _, stderr := runCLI(t, append([]string{"dcc"}, ok...)...)
	if code != 2 || !strings.HasPrefix(stderr, "policycheck dcc: -message: open /nonexistent") {
		t.Errorf("missing message: exit %d, %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "dcc", "-address", filepath.Join(t.TempDir(), "none"), "-ip", "192.0.2.1",
		"-helo", "a\nb", "-sender", "s", "-rcpt", "r", "-message", writeMessage(t))
	if code != 2 || !strings.HasPrefix(stderr, "policycheck dcc: dcc: request field HELO") {
		t.Errorf("bad HELO: exit %d, %q", code, stderr)
	}
	code, stdout, _ := runCLI(t, "dcc", "-h")
	if code != 0 || !strings.Contains(stdout, usage) || !strings.Contains(stdout, "-defer-ok") {
		t.Errorf("-h: exit %d, %q", code, stdout)
	}
}
