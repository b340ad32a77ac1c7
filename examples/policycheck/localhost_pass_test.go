package main

import (
	"strings"
	"testing"
)

// The spf library no longer passes loopback clients by default; the CLI
// keeps Exim's behaviour (and its output) and lets -localhost-pass=false
// show what the library does by default.
func TestLocalhostPassFlag(t *testing.T) {
	ns := startDNS(t)
	// example.com ends in -all and does not list 127.0.0.1.
	if v := spfCheck(t, ns, "-ip", "127.0.0.1", "-sender", "u@example.com", "-helo", "h.example"); v["spf_result"] != "pass" ||
		!strings.HasSuffix(v["spf_header_comment"], "localhost is always allowed.") {
		t.Errorf("default (Exim's): %v", v)
	}
	if v := spfCheck(t, ns, "-localhost-pass=false", "-ip", "127.0.0.1", "-sender", "u@example.com", "-helo", "h.example"); v["spf_result"] != "fail" {
		t.Errorf("-localhost-pass=false: spf_result=%q, want fail", v["spf_result"])
	}
	for _, tt := range []struct {
		flag, want string
	}{{"-localhost-pass=true", "pass"}, {"-localhost-pass=false", "fail"}} {
		code, stdout, stderr := policycheck(t, "spf-lookup", "-nameserver", ns, "-timeout", "2s", tt.flag, "-ip", "127.0.0.1", "u@example.com")
		if code != 0 || stdout != tt.want+"\n" {
			t.Errorf("spf-lookup %s: exit %d, %q, stderr %q; want %s", tt.flag, code, stdout, stderr, tt.want)
		}
	}
	// dmarc runs SPF with the same choice.
	_, vars := dmarcCheck(t, ns, "-localhost-pass=false", "-ip", "127.0.0.1", "-sender", "u@example.com", "-helo", "h.example", "-message", writeFile(t, []byte("From: u@example.com\r\n\r\nhi\r\n")))
	if vars["spf_result"] != "fail" {
		t.Errorf("dmarc -localhost-pass=false: spf_result=%q, want fail", vars["spf_result"])
	}
	// The help says whose default it is and what it costs.
	for _, cmd := range []string{"spf", "spf-lookup", "dmarc"} {
		code, stdout, stderr := runCLI(t, cmd, "-h")
		if code != 0 || !strings.Contains(stdout, "-localhost-pass") || !strings.Contains(stdout, "as in Exim") {
			t.Errorf("%s -h: exit %d, stderr %q, no -localhost-pass with Exim's default in:\n%s", cmd, code, stderr, stdout)
		}
	}
}
