package queue

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// What a kill -9 leaves at each step of Prepare, Commit and Save, and
// what Clean makes of it.
func TestSpoolClean(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A queued message, untouched.
	if _, err := s.Enqueue("kept", "a@b.test", []string{"c@d.test"}, []byte("m\r\n")); err != nil {
		t.Fatal(err)
	}
	write("orphan.msg", "x")               // killed after the message, before the envelope
	write("prep.msg", "x")                 // killed before Commit: message and tmp envelope
	write("prep.env.tmp", "{}")            //
	write("kept.env.tmp", "{}")            // a Save that crashed beside its envelope
	write("nomsg.env", `{"id":"nomsg"}`)   // an envelope whose message is gone
	write("gone.lock", "")                 // lock of a removed message
	write("unrelated.txt", "operator's")   // not ours
	write("tmp/rx-1234", "half received")  // a receive file a crash left before its unlink
	started := time.Now().Add(time.Minute) // everything above is "before" the start
	removed, err := s.Clean(started)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	want := []string{"gone.lock", "kept.env.tmp", "nomsg.env", "orphan.msg", "prep.env.tmp", "prep.msg", "tmp/rx-1234"}
	if !slices.Equal(removed, want) {
		t.Errorf("removed %q, want %q", removed, want)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	for i := range left {
		left[i] = filepath.Base(left[i])
	}
	slices.Sort(left)
	if !slices.Equal(left, []string{"kept.env", "kept.lock", "kept.msg", "tmp", "unrelated.txt"}) && !slices.Equal(left, []string{"kept.env", "kept.msg", "tmp", "unrelated.txt"}) {
		t.Errorf("left %q", left)
	}
	if env, err := s.Load("kept"); err != nil || env.From != "a@b.test" {
		t.Errorf("queued message damaged: %+v %v", env, err)
	}
	// Files of this run (newer than the start) are in flight: kept.
	write("inflight.msg", "x")
	if removed, _ := s.Clean(time.Now().Add(-time.Hour)); len(removed) != 0 {
		t.Errorf("in-flight files removed: %q", removed)
	}
}

// A message locked by one holder is busy for every other, and free
// again once released (or once its holder dies: the lock is flock's).
func TestSpoolLock(t *testing.T) {
	s, err := OpenSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock("m1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lock("m1"); !errors.Is(err, ErrBusy) {
		t.Errorf("second Lock: %v, want ErrBusy", err)
	}
	if err := s.Delete("m1"); !errors.Is(err, ErrBusy) {
		t.Errorf("Delete of a locked message: %v", err)
	}
	unlock()
	u2, err := s.Lock("m1")
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	u2()
	for _, bad := range []string{"", "../x", "a/b", "a.env"} {
		if _, err := s.Lock(bad); !errors.Is(err, ErrNotQueued) {
			t.Errorf("Lock(%q): %v", bad, err)
		}
	}
}
