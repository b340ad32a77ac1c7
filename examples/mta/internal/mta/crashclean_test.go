package mta

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// At start the server removes what a kill -9 left: a Maildir tmp/ file
// of ours, and spool files without their envelope or half-written; a
// queued message stays and is delivered as usual.
func TestCrashLeftoversCleaned(t *testing.T) {
	maildir, spool := t.TempDir(), t.TempDir()
	for _, d := range []string{"tmp", "new", "cur"} {
		os.MkdirAll(filepath.Join(maildir, d), 0o700)
	}
	old := time.Now().Add(-time.Minute)
	leftovers := []string{
		filepath.Join(maildir, "tmp", "1700000000.M1P7R0123456789abcdefQ1.mx.example"),
		filepath.Join(spool, "1xYrXb-0006NX-RUM5.msg"),
		filepath.Join(spool, "1xYrXb-0006NX-RUM6.msg"),
		filepath.Join(spool, "1xYrXb-0006NX-RUM6.env.tmp"),
	}
	for _, f := range leftovers {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(f, old, old)
	}
	ts := start(t, func(c *Config) { c.Maildir, c.Spool = maildir, spool })
	ts.dir = maildir
	c := dial(t, ts.addr) // Serve has cleaned before accepting
	c.ok("QUIT", 221)
	for _, f := range leftovers {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s left: %v", f, err)
		}
	}
}
