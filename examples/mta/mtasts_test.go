package main

import (
	"path/filepath"
	"testing"
)

// mta_sts builds the policy cache the courier and serve's refresh loop
// share, its file in the spool; without it there is none.
func TestMTASTSBuilt(t *testing.T) {
	spool := t.TempDir()
	a := buildFrom(t, "-hostname", "mx.example", "-domains", "example.com", "-spool", spool, "-mta-sts")
	if a.mtasts == nil {
		t.Fatal("mta_sts: no policy cache")
	}
	if a.mtasts.File != filepath.Join(spool, "db", "mta-sts") {
		t.Errorf("cache file %q", a.mtasts.File)
	}
	if a := buildFrom(t, "-hostname", "mx.example", "-domains", "example.com", "-spool", t.TempDir()); a.mtasts != nil {
		t.Error("a policy cache without mta_sts")
	}
}
