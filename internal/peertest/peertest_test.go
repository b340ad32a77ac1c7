package peertest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPaths(t *testing.T) {
	root := repoRoot()
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repoRoot %q has no go.mod", root)
	}
	if got := RepoScript("peer-spamd.sh"); got != filepath.Join(root, "scripts", "peer-spamd.sh") {
		t.Errorf("RepoScript = %q", got)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "peers"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "peers", "x.sh"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, shared := range []string{dir, filepath.Join(dir, "peers")} {
		t.Setenv("MAILPOLICY_SHARED", shared)
		if got := SharedScript("x.sh"); got != filepath.Join(dir, "peers", "x.sh") {
			t.Errorf("MAILPOLICY_SHARED=%s: SharedScript = %q", shared, got)
		}
	}
	t.Setenv("PEERTEST_X", "")
	if Env("PEERTEST_X", "d") != "d" {
		t.Error("empty variable not defaulted")
	}
	t.Setenv("PEERTEST_X", "v")
	if Env("PEERTEST_X", "d") != "v" {
		t.Error("variable ignored")
	}
}

func TestRun(t *testing.T) {
	script := filepath.Join(t.TempDir(), "s.sh")
	if err := os.WriteFile(script, []byte("echo \"$1 $PEERTEST_Y\"; [ \"$1\" = ok ]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := Run(script, []string{"PEERTEST_Y=y"}, "ok")
	if err != nil || out != "ok y\n" {
		t.Errorf("Run ok: %q, %v", out, err)
	}
	if _, err := Run(script, nil, "bad"); err == nil {
		t.Error("failing script gave no error")
	}
}

func TestUnavailableSkips(t *testing.T) {
	t.Setenv("MAILPOLICY_INTEROP_REQUIRED", "")
	skipped := false
	t.Run("inner", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		Unavailable(t, "test", "reason %d", 1)
	})
	if !skipped {
		t.Error("Unavailable did not skip")
	}
}

func TestLockReentrantInProcess(t *testing.T) {
	t.Setenv("PEERTEST_LOCK_DIR", t.TempDir())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t.Run("outer", func(t *testing.T) {
			Lock(t, "x")
			t.Run("inner", func(t *testing.T) { Lock(t, "x") }) // must not deadlock
		})
	}()
	<-done
	heldMu.Lock()
	defer heldMu.Unlock()
	if len(held) != 0 {
		t.Errorf("locks still held after cleanup: %v", held)
	}
}
