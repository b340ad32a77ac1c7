package main

// Black-box tests: the policycheck binary TestMain built, run against an
// in-process DNS server. Expected strings are what Exim (through
// libspf2) puts in its $spf_* variables for the same check.

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

// spfNames are the spf subcommand's variables, in output order.
var spfNames = []string{
	"spf_result",
	"spf_header_comment",
	"spf_received",
	"spf_smtp_comment",
	"spf_used_domain",
	"spf_result_guessed",
	"spf_explanation",
	"spf_mechanism",
}

// testZone is the DNS the black-box tests see.
var testZone = []string{
	// A plain policy: 192.0.2.0/24 may send, everything else fails.
	`example.com. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"`,
	// No SPF record, but an A record: the best guess (a/24 ...) passes
	// 192.0.2.10.
	`guess.test. 300 IN A 192.0.2.10`,
	// For the null sender, checked as postmaster@helo.test.
	`helo.test. 300 IN TXT "v=spf1 ip4:192.0.2.20 -all"`,
	// An unknown mechanism: permerror.
	`broken.test. 300 IN TXT "v=spf1 bogus:example.com -all"`,
}

// startDNS serves testZone and returns its address.
func startDNS(t *testing.T) string {
	t.Helper()
	z := resolvertest.NewZone()
	for _, rr := range testZone {
		z.MustAdd(t, rr)
	}
	return resolvertest.Start(t, z).Addr
}

// policycheck runs the binary with args and returns its exit status and
// output.
func policycheck(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		code = ee.ExitCode()
	default:
		t.Fatalf("policycheck %q: %v\nstderr: %s", args, err, errOut.String())
	}
	return code, out.String(), errOut.String()
}

// spfCheck runs "policycheck spf" against ns, requires exit 0 and the
// eight variables in order, one per line, and returns them.
func spfCheck(t *testing.T, ns string, args ...string) map[string]string {
	t.Helper()
	args = append([]string{"spf", "-nameserver", ns, "-timeout", "2s"}, args...)
	code, stdout, stderr := policycheck(t, args...)
	if code != 0 {
		t.Fatalf("%q: exit %d, want 0\nstderr: %s", args, code, stderr)
	}
	if stderr != "" {
		t.Errorf("%q: stderr %q, want none", args, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if !strings.HasSuffix(stdout, "\n") || len(lines) != len(spfNames) {
		t.Fatalf("%q: want %d lines, got:\n%s", args, len(spfNames), stdout)
	}
	vars := map[string]string{}
	for i, line := range lines {
		name, value, ok := strings.Cut(line, "=")
		if !ok || name != spfNames[i] {
			t.Fatalf("%q: line %d is %q, want %s=...", args, i+1, line, spfNames[i])
		}
		vars[name] = value
	}
	return vars
}

// wantVars reports each variable in want that vars does not hold as
// given.
func wantVars(t *testing.T, vars, want map[string]string) {
	t.Helper()
	for _, name := range spfNames {
		w, ok := want[name]
		if !ok {
			continue
		}
		if got := vars[name]; got != w {
			t.Errorf("%s=%q\n want %q", name, got, w)
		}
	}
}

func TestSPFPass(t *testing.T) {
	ns := startDNS(t)
	vars := spfCheck(t, ns, "-ip", "192.0.2.1", "-sender", "user@example.com", "-helo", "mail.example.com", "-receiver", "mx.test")
	wantVars(t, vars, map[string]string{
		"spf_result":         "pass",
		"spf_header_comment": "mx.test: domain of example.com designates 192.0.2.1 as permitted sender",
		"spf_received": "Received-SPF: pass (mx.test: domain of example.com designates 192.0.2.1 as permitted sender)" +
			" client-ip=192.0.2.1; envelope-from=user@example.com; helo=mail.example.com;" +
			// The issue asks for RFC 7208 §9.1's receiver, identity and
			// mechanism keys after libspf2's three.
			" receiver=mx.test; identity=mailfrom; mechanism=ip4:192.0.2.0/24;",
		"spf_smtp_comment":   "",
		"spf_used_domain":    "example.com",
		"spf_result_guessed": "no",
	})
}

func TestSPFFail(t *testing.T) {
	ns := startDNS(t)
	vars := spfCheck(t, ns, "-ip", "198.51.100.7", "-sender", "user@example.com", "-helo", "mail.example.com", "-receiver", "mx.test")
	wantVars(t, vars, map[string]string{
		"spf_result":         "fail",
		"spf_header_comment": "mx.test: domain of example.com does not designate 198.51.100.7 as permitted sender",
		"spf_received": "Received-SPF: fail (mx.test: domain of example.com does not designate 198.51.100.7 as permitted sender)" +
			" client-ip=198.51.100.7; envelope-from=user@example.com; helo=mail.example.com;" +
			" receiver=mx.test; identity=mailfrom; mechanism=-all;",
		// libspf2's "%s : Reason: %s" with Exim's default
		// spf_smtp_comment_template and a mechanism match.
		"spf_smtp_comment":   "Please see http://www.open-spf.org/Why : Reason: mechanism",
		"spf_used_domain":    "example.com",
		"spf_result_guessed": "no",
		"spf_explanation":    "Please see http://www.open-spf.org/Why",
	})
	if m := vars["spf_mechanism"]; !strings.Contains(m, "all") {
		t.Errorf("spf_mechanism=%q, want the -all term", m)
	}
}

func TestSPFGuess(t *testing.T) {
	ns := startDNS(t)
	args := []string{"-ip", "192.0.2.10", "-sender", "user@guess.test", "-helo", "mail.guess.test", "-receiver", "mx.test"}

	vars := spfCheck(t, ns, args...)
	wantVars(t, vars, map[string]string{
		"spf_result":         "none",
		"spf_used_domain":    "guess.test",
		"spf_result_guessed": "no",
	})

	vars = spfCheck(t, ns, append([]string{"-guess"}, args...)...)
	wantVars(t, vars, map[string]string{
		"spf_result":         "pass",
		"spf_header_comment": "mx.test: domain of guess.test designates 192.0.2.10 as permitted sender",
		"spf_used_domain":    "guess.test",
		"spf_result_guessed": "yes",
	})

	// -guess changes nothing when the domain has a record.
	vars = spfCheck(t, ns, "-guess", "-ip", "192.0.2.1", "-sender", "user@example.com", "-helo", "mail.example.com")
	wantVars(t, vars, map[string]string{"spf_result": "pass", "spf_result_guessed": "no"})
}

func TestSPFNullSender(t *testing.T) {
	ns := startDNS(t)
	vars := spfCheck(t, ns, "-ip", "192.0.2.20", "-sender", "", "-helo", "helo.test")
	wantVars(t, vars, map[string]string{
		"spf_result":      "pass",
		"spf_used_domain": "helo.test",
	})
}

// TestSPFErrorResults checks that permerror and temperror are results:
// printed, exit 0, and -v only adds a note on stderr.
func TestSPFErrorResults(t *testing.T) {
	ns := startDNS(t)
	args := []string{"spf", "-nameserver", ns, "-ip", "192.0.2.1", "-sender", "user@broken.test", "-helo", "mail.broken.test"}
	vars := spfCheck(t, ns, args[3:]...)
	wantVars(t, vars, map[string]string{"spf_result": "permerror", "spf_used_domain": "broken.test"})

	_, plain, _ := policycheck(t, args...)
	code, verbose, _ := policycheck(t, append([]string{"spf", "-v"}, args[1:]...)...)
	if code != 0 || verbose != plain {
		t.Errorf("-v: exit %d, stdout\n%s\nwant exit 0 and\n%s", code, verbose, plain)
	}

	// A nameserver that does not answer: temperror, still exit 0.
	dead := deadAddr(t)
	vars = spfCheck(t, dead, "-timeout", "300ms", "-ip", "192.0.2.1", "-sender", "user@example.com", "-helo", "mail.example.com")
	wantVars(t, vars, map[string]string{"spf_result": "temperror", "spf_used_domain": "example.com"})
}

// deadAddr returns a local UDP address with nothing listening.
func deadAddr(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := c.LocalAddr().String()
	c.Close()
	return addr
}

func TestSPFJSON(t *testing.T) {
	ns := startDNS(t)
	args := []string{"-ip", "198.51.100.7", "-sender", "user@example.com", "-helo", "mail.example.com", "-receiver", "mx.test"}
	text := spfCheck(t, ns, args...)

	jargs := append([]string{"spf", "-json", "-nameserver", ns}, args...)
	code, stdout, stderr := policycheck(t, jargs...)
	if code != 0 || stderr != "" {
		t.Fatalf("%q: exit %d, stderr %q", jargs, code, stderr)
	}
	if strings.Count(stdout, "\n") != 1 || !strings.HasSuffix(stdout, "\n") {
		t.Errorf("-json: not one line: %q", stdout)
	}
	keys, vals := jsonKeys(t, stdout)
	if strings.Join(keys, " ") != strings.Join(spfNames, " ") {
		t.Errorf("-json keys %q\n want %q", keys, spfNames)
	}
	for _, name := range spfNames {
		if vals[name] != text[name] {
			t.Errorf("-json %s=%q, text gave %q", name, vals[name], text[name])
		}
	}
	if vals["spf_result"] != "fail" {
		t.Errorf("-json spf_result=%q, want fail", vals["spf_result"])
	}
}

func TestSPFLookup(t *testing.T) {
	ns := startDNS(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-ip", "198.51.100.7", "user@example.com"}, "fail\n"},
		{[]string{"-ip", "192.0.2.1", "user@example.com"}, "pass\n"},
		{[]string{"-ip", "192.0.2.1", "user@guess.test"}, "none\n"},
		{[]string{"-json", "-ip", "198.51.100.7", "user@example.com"}, `{"spf_lookup":"fail"}` + "\n"},
	} {
		args := append([]string{"spf-lookup", "-nameserver", ns, "-timeout", "2s"}, tc.args...)
		code, stdout, stderr := policycheck(t, args...)
		if code != 0 || stdout != tc.want || stderr != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 0, %q, none", args, code, stdout, stderr, tc.want)
		}
	}
}

// TestSPFLookupBadAddress checks that an address spf.Lookup refuses (it
// documents the empty one) is a usage error, as the lookup fails in Exim.
func TestSPFLookupBadAddress(t *testing.T) {
	ns := startDNS(t)
	for _, addr := range []string{""} {
		args := []string{"spf-lookup", "-nameserver", ns, "-ip", "192.0.2.1", addr}
		code, stdout, stderr := policycheck(t, args...)
		first, _, _ := strings.Cut(stderr, "\n")
		if code != 2 || stdout != "" || !strings.HasPrefix(first, "policycheck spf-lookup: ") || first == "policycheck spf-lookup: " {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2, none, a message", args, code, stdout, stderr)
		}
	}
}
