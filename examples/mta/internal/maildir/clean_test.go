package maildir

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// A crash leaves files in tmp/: ours from before the start go, a
// reader's recent file stays, anyone's file past StaleAge goes, and a
// committed message is never touched.
func TestClean(t *testing.T) {
	root := t.TempDir()
	m, err := Open(root, "mx.test")
	if err != nil {
		t.Fatal(err)
	}
	// One committed message and two left in tmp/ (inbox and a folder).
	p, err := m.Write("", []byte("kept\n"))
	if err != nil || p.Commit() != nil {
		t.Fatal(err)
	}
	left1, _ := m.Write("", []byte("crash\n"))
	left2, _ := m.Write(FolderName("Junk"), []byte("crash\n"))
	started := time.Now().Add(time.Minute) // they were written "before" this start
	foreignRecent := filepath.Join(root, "tmp", "1700000000.M1P2.mx.test")
	foreignOld := filepath.Join(root, "tmp", "1600000000.M1P3.mx.test")
	for _, f := range []string{foreignRecent, foreignOld} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-StaleAge - time.Hour)
	os.Chtimes(foreignOld, old, old)

	removed, err := m.Clean(started)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	want := []string{left1.tmp, left2.tmp, foreignOld}
	slices.Sort(want)
	if !slices.Equal(removed, want) {
		t.Errorf("removed %q, want %q", removed, want)
	}
	if _, err := os.Stat(foreignRecent); err != nil {
		t.Errorf("a recent file of another writer was removed: %v", err)
	}
	if news, _ := os.ReadDir(filepath.Join(root, "new")); len(news) != 1 {
		t.Errorf("new/ holds %d files, want the committed one", len(news))
	}

	// Files of this run (written after the start) are in flight: kept.
	inFlight, _ := m.Write("", []byte("in flight\n"))
	if removed, _ := m.Clean(time.Now().Add(-time.Hour)); len(removed) != 0 {
		t.Errorf("in-flight files removed: %q", removed)
	}
	if _, err := os.Stat(inFlight.tmp); err != nil {
		t.Error(err)
	}
}
