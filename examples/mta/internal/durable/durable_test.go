package durable

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Publish, which the spool's commit and the Maildir's use, refuses to
// replace a file where rename would.
func TestPublishNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	tmp, final := filepath.Join(dir, "a.tmp"), filepath.Join(dir, "a")
	for name, data := range map[string]string{tmp: "new", final: "old"} {
		if err := os.WriteFile(name, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := Publish(tmp, final); !errors.Is(err, fs.ErrExist) {
		t.Errorf("publish over an existing file: %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(final); string(b) != "old" {
		t.Errorf("existing file now holds %q", b)
	}
	if b, _ := os.ReadFile(tmp); string(b) != "new" {
		t.Errorf("tmp file now holds %q", b)
	}
	os.Remove(final)
	if err := Publish(tmp, final); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(tmp); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("tmp left after publish: %v", err)
	}
}
