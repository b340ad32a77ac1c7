package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// binPath is the policycheck binary TestMain builds for the black-box
// tests.
var binPath string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "policycheck-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	name := "policycheck"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	binPath = filepath.Join(dir, name)
	// go test puts $GOROOT/bin first in PATH, so this is the go command
	// that is running the tests.
	build := exec.Command("go", "build", "-o", binPath, ".")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building policycheck: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// runCLI calls run as main would, with args after the program name.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"-help"}, {"--help"}, {"help"}} {
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 {
			t.Errorf("%q: exit %d, want 0", args, code)
		}
		if stderr != "" {
			t.Errorf("%q: stderr %q, want none", args, stderr)
		}
		for _, want := range []string{"usage: policycheck SUBCOMMAND", "\n  spf ", "\n  spf-lookup "} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%q: stdout lacks %q:\n%s", args, want, stdout)
			}
		}
	}
}

func TestSubcommandHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"spf", "-h"}, []string{"usage: policycheck spf -ip IP -sender ADDR -helo NAME", "-guess", "-nameserver", "-timeout", "-receiver", "-json"}},
		{[]string{"help", "spf"}, []string{"usage: policycheck spf -ip IP -sender ADDR -helo NAME"}},
		{[]string{"spf-lookup", "-help"}, []string{"usage: policycheck spf-lookup -ip IP [flags] ADDR", "-nameserver", "-timeout", "-json"}},
		{[]string{"help", "spf-lookup"}, []string{"usage: policycheck spf-lookup"}},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		if code != 0 || stderr != "" {
			t.Errorf("%q: exit %d, stderr %q; want 0 and none", tc.args, code, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("%q: stdout lacks %q:\n%s", tc.args, w, stdout)
			}
		}
	}
}

// TestUsageErrors checks that each command-line mistake exits 2 with a
// message naming it as the first line of stderr, then the usage, and
// nothing on stdout. None of these reaches the policy engine.
func TestUsageErrors(t *testing.T) {
	const (
		top    = "usage: policycheck SUBCOMMAND"
		spfU   = "usage: policycheck spf -ip IP"
		lookup = "usage: policycheck spf-lookup -ip IP"
	)
	ok := []string{"-ip", "192.0.2.1", "-sender", "user@example.com", "-helo", "mail.example.com"}
	for _, tc := range []struct {
		args      []string
		msg       string // the first line of stderr
		usageLine string // must appear in stderr
	}{
		{nil, "policycheck: no subcommand given", top},
		{[]string{"dkim"}, `policycheck: unknown subcommand "dkim"`, top},
		{[]string{"-x"}, `policycheck: unknown flag "-x" (flags go after the subcommand)`, top},
		{[]string{"help", "dkim"}, `policycheck help: unknown subcommand "dkim"`, top},

		{[]string{"spf"}, "policycheck spf: -ip is required", spfU},
		{[]string{"spf", "-sender", "a@example.com", "-helo", "h"}, "policycheck spf: -ip is required", spfU},
		{[]string{"spf", "-ip", "x", "-sender", "a@example.com", "-helo", "h"}, `policycheck spf: -ip: invalid IP address "x"`, spfU},
		{[]string{"spf", "-ip", "", "-sender", "a@example.com", "-helo", "h"}, `policycheck spf: -ip: invalid IP address ""`, spfU},
		{[]string{"spf", "-ip", "192.0.2.1/24", "-sender", "a@example.com", "-helo", "h"}, `policycheck spf: -ip: invalid IP address "192.0.2.1/24"`, spfU},
		{[]string{"spf", "-ip", "192.0.2.1", "-helo", "h"}, "policycheck spf: -sender is required", spfU},
		{[]string{"spf", "-ip", "192.0.2.1", "-sender", ""}, "policycheck spf: -helo is required", spfU},
		{append(append([]string{"spf"}, ok...), "extra"), `policycheck spf: unexpected argument "extra"`, spfU},
		{[]string{"spf", "extra", "-ip", "192.0.2.1"}, `policycheck spf: unexpected argument "extra"`, spfU},
		{[]string{"spf", "-bogus"}, "policycheck spf: flag provided but not defined: -bogus", spfU},
		{append([]string{"spf", "-timeout", "0"}, ok...), "policycheck spf: -timeout: must be positive, not 0s", spfU},
		{append([]string{"spf", "-timeout", "-1s"}, ok...), "policycheck spf: -timeout: must be positive, not -1s", spfU},
		{[]string{"spf", "-timeout", "soon"}, `policycheck spf: invalid value "soon" for flag -timeout: parse error`, spfU},
		{[]string{"spf", "-guess=maybe"}, `policycheck spf: invalid boolean value "maybe" for -guess: parse error`, spfU},

		{[]string{"spf-lookup"}, "policycheck spf-lookup: missing ADDR, the sender address to check", lookup},
		{[]string{"spf", "-ip", "192.0.2.1", "-sender", "a@example.com", "-helo", "h", "-nameserver", "bogus"},
			`policycheck spf: -nameserver: resolver: nameserver "bogus": not an IP address with optional port`, spfU},
		{[]string{"spf-lookup", "-ip", "192.0.2.1", "-nameserver", "bogus", "a@example.com"},
			`policycheck spf-lookup: -nameserver: resolver: nameserver "bogus": not an IP address with optional port`, lookup},
		{[]string{"spf-lookup", "-ip", "192.0.2.1"}, "policycheck spf-lookup: missing ADDR, the sender address to check", lookup},
		{[]string{"spf-lookup", "user@example.com"}, "policycheck spf-lookup: -ip is required", lookup},
		{[]string{"spf-lookup", "-ip", "192.0.2.999", "user@example.com"}, `policycheck spf-lookup: -ip: invalid IP address "192.0.2.999"`, lookup},
		{[]string{"spf-lookup", "-ip", "192.0.2.1", "a@example.com", "b@example.com"}, `policycheck spf-lookup: unexpected argument "b@example.com"`, lookup},
		{[]string{"spf-lookup", "a@example.com", "-ip", "192.0.2.1"}, `policycheck spf-lookup: unexpected argument "-ip" (flags must come before other arguments)`, lookup},
		{[]string{"spf-lookup", "-ip", "192.0.2.1", "-timeout", "0", "a@example.com"}, "policycheck spf-lookup: -timeout: must be positive, not 0s", lookup},
		{[]string{"spf-lookup", "-sender", "x"}, "policycheck spf-lookup: flag provided but not defined: -sender", lookup},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2", tc.args, code)
		}
		if stdout != "" {
			t.Errorf("%q: stdout %q, want none", tc.args, stdout)
		}
		first, _, _ := strings.Cut(stderr, "\n")
		if first != tc.msg {
			t.Errorf("%q: stderr starts %q, want %q", tc.args, first, tc.msg)
		}
		if !strings.Contains(stderr, tc.usageLine) {
			t.Errorf("%q: stderr lacks the usage %q:\n%s", tc.args, tc.usageLine, stderr)
		}
	}
}

// TestSubcommandsRegistered guards the registry: every subcommand is
// listed, with a summary.
func TestSubcommandsRegistered(t *testing.T) {
	for _, name := range []string{"spf", "spf-lookup"} {
		c, ok := commands[name]
		if !ok {
			t.Errorf("subcommand %q not registered", name)
			continue
		}
		if c.summary == "" || c.run == nil {
			t.Errorf("subcommand %q: empty summary or run", name)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a duplicate subcommand did not panic")
		}
	}()
	register(&command{name: "spf"})
}
