package queue

// Spool and Maildir names across a restart: a process that comes back
// with the same PID in the same second (PID 1 in a container) restarts
// its counters, so its first names are those of the previous run. No
// file already on disk may be overwritten, and both messages survive.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func spoolEnvelopes(t *testing.T, dir string) map[string]string {
	t.Helper()
	envs, _ := filepath.Glob(filepath.Join(dir, "*.env"))
	got := map[string]string{} // envelope sender → message file content
	for _, name := range envs {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var env Envelope
		if err := json.Unmarshal(b, &env); err != nil {
			t.Fatal(err)
		}
		if env.ID+".env" != filepath.Base(name) {
			t.Errorf("envelope %s has id %s", name, env.ID)
		}
		msg, err := os.ReadFile(filepath.Join(dir, env.ID+".msg"))
		if err != nil {
			t.Fatal(err)
		}
		got[env.From] = string(msg)
	}
	return got
}

func TestSpoolIDCollisionAfterRestart(t *testing.T) {
	dir := t.TempDir()
	const id = "1RzYzL-000001-0001" // what a restarted PID 1 makes again in the same second
	for _, from := range []string{"a@first.test", "b@second.test"} {
		q, err := OpenSpool(dir)
		if err != nil {
			t.Fatal(err)
		}
		p, err := q.Prepare(id, from, []string{"rcpt@remote.test"}, []byte("from "+from+"\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	got := spoolEnvelopes(t, dir)
	if len(got) != 2 || got["a@first.test"] != "from a@first.test\r\n" || got["b@second.test"] != "from b@second.test\r\n" {
		t.Errorf("spool holds %q, want both messages with their own data", got)
	}
}

// Files a crash left behind under the id (a message without its
// envelope, a temporary envelope) are not overwritten by a new message
// that gets the same id.
func TestSpoolLeftoversNotOverwritten(t *testing.T) {
	dir := t.TempDir()
	const id = "1RzYzL-000001-0002"
	for _, name := range []string{id + ".msg", id + ".env.tmp"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("left by a crash"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	q, err := OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := q.Prepare(id, "c@third.test", []string{"rcpt@remote.test"}, []byte("new\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{id + ".msg", id + ".env.tmp"} {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); string(b) != "left by a crash" {
			t.Errorf("%s now holds %q", name, b)
		}
	}
	if got := spoolEnvelopes(t, dir); len(got) != 1 || got["c@third.test"] != "new\r\n" {
		t.Errorf("spool holds %q", got)
	}
}

// A stale temporary envelope from a save that crashed does not stop the
// envelope from being updated.
func TestSpoolSaveAfterStaleTmp(t *testing.T) {
	dir := t.TempDir()
	q, err := OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	const id = "1RzYzL-000001-0003"
	p, err := q.Prepare(id, "d@fourth.test", []string{"rcpt@remote.test"}, []byte("m\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, id+".env.tmp"), []byte("stale"), 0o600); err != nil {
		t.Fatal(err)
	}
	env, err := q.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	env.Attempts = 7
	if err := q.Save(env); err != nil {
		t.Fatal(err)
	}
	if env, err = q.Load(id); err != nil || env.Attempts != 7 {
		t.Errorf("after save: %+v, %v", env, err)
	}
}

// The message id's sequence part starts at a random offset in each
// process, so a restart with the same PID in the same second does not
// make the previous run's ids again.
func TestMessageIDSequenceSalted(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		id := newIDGen().next()
		if seen[id[len(id)-4:]] {
			t.Fatalf("sequence part %s repeated across restarts", id[len(id)-4:])
		}
		seen[id[len(id)-4:]] = true
	}
}
