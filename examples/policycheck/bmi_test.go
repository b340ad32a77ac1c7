package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/bmi"
)

func TestBMIEval(t *testing.T) {
	vs := bmi.Verdicts{
		{Recipients: []string{"alice@example.com"}, Destination: bmi.Alternate, AltLocation: "Junk", Rules: []int{5, 8}},
		{Recipients: []string{"bob@example.com"}, Destination: bmi.None, Rules: []int{11}},
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"-verdicts", vs.String(), "-rcpt", "Alice@Example.com", "-rule", "1:8"},
			[]string{"bmi_deliver=1\n", "bmi_alt_location=Junk\n", "bmi_base64_verdict=" + vs[0].Base64() + "\n",
				"bmi_base64_tracker_verdict=" + vs[0].TrackerBase64() + "\n",
				"bmi_deliver_default=no\n", "bmi_deliver_alternate=yes\n", "bmi_dont_deliver=no\n", "bmi_rule=yes\n"}},
		{[]string{"-spool", vs.SpoolLine(), "-rcpt", "bob@example.com", "-rule", "5"},
			[]string{"bmi_deliver=0\n", "bmi_alt_location=\n", "bmi_dont_deliver=yes\n", "bmi_rule=no\n"}},
		{[]string{"-verdicts", vs.String(), "-rcpt", "carol@example.com"},
			[]string{"bmi_deliver=1\n", "bmi_base64_verdict=\n", "bmi_deliver_default=yes\n"}},
	} {
		code, out, errOut := runCLI(t, append([]string{"bmi-eval"}, c.args...)...)
		if code != 0 || errOut != "" {
			t.Errorf("%q: exit %d, stderr %q", c.args, code, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%q: output %q lacks %q", c.args, out, w)
			}
		}
		if strings.Contains(out, "bmi_rule=") != strings.Contains(strings.Join(c.args, " "), "-rule") {
			t.Errorf("%q: bmi_rule printed without -rule or missing: %q", c.args, out)
		}
	}
	// A damaged list: the message counts as unscanned, deliver default.
	code, out, errOut := runCLI(t, "bmi-eval", "-verdicts", vs.String()+":!!", "-rcpt", "bob@example.com")
	if code != 0 || !strings.Contains(out, "bmi_deliver=1\n") || !strings.Contains(out, "bmi_deliver_default=yes\n") || errOut == "" {
		t.Errorf("damaged list: exit %d %q %q", code, out, errOut)
	}
	for _, args := range [][]string{
		{"bmi-eval", "-rcpt", "a@b"},
		{"bmi-eval", "-verdicts", "", "-spool", "-bmi_verdicts ", "-rcpt", "a@b"},
		{"bmi-eval", "-verdicts", ""},
		{"bmi-eval", "-verdicts", "", "-rcpt", "a@b", "extra"},
	} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}

func TestBMIUnreachableSpamd(t *testing.T) {
	// A port nothing listens on: the scan fails per profile, the
	// verdicts carry the error and every recipient delivers default.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	msg := filepath.Join(t.TempDir(), "m.eml")
	if err := os.WriteFile(msg, []byte("Subject: hi\r\n\r\nbody\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "bmi", "-spamd", addr, "-sender", "s@example.net",
		"-rcpt", "a@example.com strict", "-rcpt", "b@example.com", "-message", msg)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, w := range []string{"bmi_rcpt_1=a@example.com\n", "bmi_deliver_1=1\n", "bmi_alt_location_1=\n", "bmi_rcpt_2=b@example.com\n", "bmi_deliver_2=1\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("output %q lacks %q", out, w)
		}
	}
	if !strings.Contains(errOut, "spamd: connection failed") {
		t.Errorf("stderr %q does not report the failure", errOut)
	}
	vs, err := bmi.ParseVerdicts(strings.TrimPrefix(strings.Split(out, "\n")[0], "bmi_verdicts="))
	if err != nil || len(vs) != 2 || vs[0].Err == "" {
		t.Errorf("bmi_verdicts: %+v, %v", vs, err)
	}
	for _, args := range [][]string{
		{"bmi", "-message", msg},
		{"bmi", "-rcpt", "a@b"},
		{"bmi", "-rcpt", "a@b", "-message", msg, "-command", "tell"},
		{"bmi", "-rcpt", "a@b", "-message", msg, "-rule", "GTUBE"},
		{"bmi", "-rcpt", "a@b", "-message", msg, "-rule", "GTUBE=0"},
		{"bmi", "-rcpt", " ", "-message", msg},
		{"bmi", "-rcpt", "a@b", "-message", msg, "-ip", "nope"},
		{"bmi", "-rcpt", "a@b", "-message", msg, "-timeout", "0s"},
	} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
