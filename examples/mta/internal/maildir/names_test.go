package maildir

// Spool and Maildir names across a restart: a process that comes back
// with the same PID in the same second (PID 1 in a container) restarts
// its counters, so its first names are those of the previous run. No
// file already on disk may be overwritten, and both messages survive.

import (
	"bytes"
	"crypto/rand"
	"io"
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
func replayMaildir(t *testing.T, root string) *Maildir {
	t.Helper()
	m, err := Open(root, "mx.test")
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
		p, err := m.Write("", []byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Commit(); err != nil {
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
	p, err := m.Write("", []byte("crashed\n"))
	if err != nil {
		t.Fatal(err)
	}
	m = replayMaildir(t, root)
	q, err := m.Write("", []byte("new\n"))
	if err != nil {
		t.Fatal(err)
	}
	if q.tmp == p.tmp {
		t.Fatalf("second write reused %s", p.tmp)
	}
	if b, _ := os.ReadFile(p.tmp); string(b) != "crashed\n" {
		t.Errorf("the earlier tmp file now holds %q", b)
	}
	if err := q.Commit(); err != nil {
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
		m, err := Open(root, "mx.test")
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
