package main

// Spool and Maildir names across a restart: a process that comes back
// with the same PID in the same second (PID 1 in a container) restarts
// its counters, so its first names are those of the previous run. No
// file already on disk may be overwritten, and both messages survive.

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// replayMaildir opens a Maildir whose unique-name inputs are those of
// a fresh process with a fixed clock and PID: the sequence restarts at
// zero and the first random bytes read are zeros, as if the previous
// run had drawn the same ones.
func replayMaildir(t *testing.T, root string) *maildir {
	t.Helper()
	m, err := openMaildir(root, "mx.test")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1700000000, 123456000)
	m.now = func() time.Time { return at }
	m.pid = 1
	m.rand = io.MultiReader(bytes.NewReader(make([]byte, 8)), rand.Reader)
	return m
}

func maildirContents(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(b))
	}
	sort.Strings(got)
	return got
}

func TestMaildirNameCollisionAfterRestart(t *testing.T) {
	root := t.TempDir()
	for _, msg := range []string{"first run\n", "second run\n"} {
		m := replayMaildir(t, root)
		p, err := m.write("", []byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.commit(); err != nil {
			t.Fatal(err)
		}
	}
	if got := maildirContents(t, filepath.Join(root, "new")); strings.Join(got, "|") != "first run\n|second run\n" {
		t.Errorf("new/ holds %q, want both messages", got)
	}
	if got := maildirContents(t, filepath.Join(root, "tmp")); len(got) != 0 {
		t.Errorf("tmp/ left with %q", got)
	}
}

// A name already taken in tmp/ (a delivery of the previous run that
// crashed before its rename) is neither reused nor truncated.
func TestMaildirTmpCollisionAfterRestart(t *testing.T) {
	root := t.TempDir()
	m := replayMaildir(t, root)
	p, err := m.write("", []byte("crashed\n"))
	if err != nil {
		t.Fatal(err)
	}
	m = replayMaildir(t, root)
	q, err := m.write("", []byte("new\n"))
	if err != nil {
		t.Fatal(err)
	}
	if q.tmp == p.tmp {
		t.Fatalf("second write reused %s", p.tmp)
	}
	if b, _ := os.ReadFile(p.tmp); string(b) != "crashed\n" {
		t.Errorf("the earlier tmp file now holds %q", b)
	}
	if err := q.commit(); err != nil {
		t.Fatal(err)
	}
	if got := maildirContents(t, filepath.Join(root, "new")); len(got) != 1 || got[0] != "new\n" {
		t.Errorf("new/ holds %q", got)
	}
}

// With the real random source two fresh processes with the same clock,
// PID and counter still make different names.
func TestMaildirNamesUniqueAcrossRestarts(t *testing.T) {
	root := t.TempDir()
	at := time.Unix(1700000000, 0)
	names := map[string]bool{}
	for range 50 {
		m, err := openMaildir(root, "mx.test")
		if err != nil {
			t.Fatal(err)
		}
		m.now = func() time.Time { return at }
		m.pid = 1
		n, err := m.uniqueName()
		if err != nil {
			t.Fatal(err)
		}
		if names[n] {
			t.Fatalf("name %s made twice", n)
		}
		names[n] = true
	}
}

func spoolEnvelopes(t *testing.T, dir string) map[string]string {
	t.Helper()
	envs, _ := filepath.Glob(filepath.Join(dir, "*.env"))
	got := map[string]string{} // envelope sender → message file content
	for _, name := range envs {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var env envelope
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
		q, err := openQueue(nil, dir)
		if err != nil {
			t.Fatal(err)
		}
		p, err := q.prepare(id, from, []string{"rcpt@remote.test"}, []byte("from "+from+"\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.commit(); err != nil {
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
	q, err := openQueue(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := q.prepare(id, "c@third.test", []string{"rcpt@remote.test"}, []byte("new\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.commit(); err != nil {
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
	q, err := openQueue(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	const id = "1RzYzL-000001-0003"
	p, err := q.prepare(id, "d@fourth.test", []string{"rcpt@remote.test"}, []byte("m\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.commit(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, id+".env.tmp"), []byte("stale"), 0o600); err != nil {
		t.Fatal(err)
	}
	env, err := q.load(filepath.Join(dir, id+".env"))
	if err != nil {
		t.Fatal(err)
	}
	env.Attempts = 7
	if err := q.save(env); err != nil {
		t.Fatal(err)
	}
	if env, err = q.load(filepath.Join(dir, id+".env")); err != nil || env.Attempts != 7 {
		t.Errorf("after save: %+v, %v", env, err)
	}
}

// The message id's sequence part starts at a random offset in each
// process, so a restart with the same PID in the same second does not
// make the previous run's ids again.
func TestMessageIDSequenceSalted(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		idSalt = newIDSalt()
		id := (&Server{}).newMessageID()
		if seen[id[len(id)-4:]] {
			t.Fatalf("sequence part %s repeated across restarts", id[len(id)-4:])
		}
		seen[id[len(id)-4:]] = true
	}
}

// publish, which the spool's commit and the Maildir's use, refuses to
// replace a file where rename would.
func TestPublishNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	tmp, final := filepath.Join(dir, "a.tmp"), filepath.Join(dir, "a")
	for name, data := range map[string]string{tmp: "new", final: "old"} {
		if err := os.WriteFile(name, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := publish(tmp, final); !errors.Is(err, fs.ErrExist) {
		t.Errorf("publish over an existing file: %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(final); string(b) != "old" {
		t.Errorf("existing file now holds %q", b)
	}
	if b, _ := os.ReadFile(tmp); string(b) != "new" {
		t.Errorf("tmp file now holds %q", b)
	}
	os.Remove(final)
	if err := publish(tmp, final); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(tmp); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("tmp left after publish: %v", err)
	}
}
