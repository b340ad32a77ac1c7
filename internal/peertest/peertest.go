// Package peertest holds what the interop tests (build tag interop)
// share to find, start and stop the real peers on loopback: the scripts
// of ../shared/peers and the repository's scripts/peer-*.sh. It is
// test plumbing; no engine imports it.
//
// A peer that cannot be reached skips the test, unless
// MAILPOLICY_INTEROP_REQUIRED is set (scripts/interop.sh sets it), when
// it fails the test instead.
package peertest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Env returns the environment variable name, or def when it is unset
// or empty.
func Env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Required reports whether a missing peer fails the test rather than
// skipping it.
func Required() bool { return os.Getenv("MAILPOLICY_INTEROP_REQUIRED") != "" }

// Unavailable skips t (or fails it when Required) because peer cannot
// be used.
func Unavailable(t testing.TB, peer, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if !Required() {
		t.Skipf("%s interop peer unavailable: %s; run scripts/interop.sh", peer, msg)
	}
	t.Fatalf("%s interop peer unavailable and MAILPOLICY_INTEROP_REQUIRED is set: %s", peer, msg)
}

// SharedScript returns the absolute path of a script of the shared
// peers directory: $MAILPOLICY_SHARED/peers (MAILPOLICY_SHARED may also
// name the peers directory itself), by default ../shared/peers beside
// the repository.
func SharedScript(name string) string {
	shared := os.Getenv("MAILPOLICY_SHARED")
	if shared == "" {
		shared = filepath.Join(repoRoot(), "..", "shared")
	}
	for _, d := range []string{filepath.Join(shared, "peers"), shared} {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			if abs, err := filepath.Abs(p); err == nil {
				return abs
			}
			return p
		}
	}
	return filepath.Join(shared, "peers", name)
}

// RepoScript returns the absolute path of scripts/<name> of this
// repository.
func RepoScript(name string) string {
	return filepath.Join(repoRoot(), "scripts", name)
}

// repoRoot is the directory holding go.mod, found upwards from the
// working directory (a test runs in its package's directory).
func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}

// Listening reports whether a TCP connection to addr succeeds within a
// second.
func Listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Run runs a peer script (with bash) with the arguments and extra
// environment, bounded by five minutes (a first start installs
// packages), and returns its combined output.
func Run(script string, env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", filepath.Base(script), strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Ensure takes the peer's Lock for t, then makes sure something listens
// on addr: when nothing does, it runs "script start" and, on t's
// cleanup, "script stop", so a peer that was already running is left
// alone. The lock keeps another package's test from stopping the peer
// under this one. peer names it in messages and in the lock.
func Ensure(t testing.TB, peer, addr, script string) {
	t.Helper()
	Lock(t, strings.ToLower(peer))
	if Listening(addr) {
		return
	}
	if _, err := os.Stat(script); err != nil {
		Unavailable(t, peer, "%s not listening and %v", addr, err)
	}
	if _, err := Run(script, nil, "start"); err != nil {
		Unavailable(t, peer, "%v", err)
	}
	t.Cleanup(func() { Run(script, nil, "stop") })
	for deadline := time.Now().Add(10 * time.Second); !Listening(addr); {
		if time.Now().After(deadline) {
			Unavailable(t, peer, "%s not listening after %s start", addr, filepath.Base(script))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
