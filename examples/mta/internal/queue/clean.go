package queue

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Clean removes what a crash left in the spool, looking only at files
// older than started (the start of this process, so nothing of its own
// in flight): a message file without its envelope (written, never
// committed, so never acknowledged), a temporary envelope beside no
// envelope (a Prepare that did not commit: its message goes too) or
// beside one (a Save that crashed), an envelope without its message
// file, and lock files of messages that are gone. It returns the names
// removed. Messages that are locked (a queue command working on them)
// are left alone.
func (s *Spool) Clean(started time.Time) ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, e := range entries {
		have[e.Name()] = true
	}
	var removed []string
	rm := func(name string) {
		if err := os.Remove(filepath.Join(s.dir, name)); err == nil || !errors.Is(err, fs.ErrNotExist) {
			removed = append(removed, name)
		}
	}
	for _, e := range entries {
		name := e.Name()
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || !info.ModTime().Before(started) {
			continue
		}
		id, ext, ok := splitName(name)
		if !ok {
			continue
		}
		switch ext {
		case ".msg":
			if !have[id+".env"] && !have[id+".env.tmp"] {
				rm(name)
			}
		case ".env.tmp":
			if unlock, err := s.Lock(id); err == nil {
				if !have[id+".env"] {
					rm(id + ".msg")
					os.Remove(s.path(id, ".lock")) // made by the Lock just now
				}
				rm(name)
				unlock()
			}
		case ".env":
			if !have[id+".msg"] {
				if unlock, err := s.Lock(id); err == nil {
					rm(name)
					os.Remove(s.path(id, ".lock"))
					unlock()
				}
			}
		case ".lock":
			if !have[id+".env"] && !have[id+".env.tmp"] {
				rm(name)
			}
		}
	}
	if len(removed) > 0 {
		syncDirQuiet(s.dir)
	}
	// Files a crash left between a receive file's creation and its
	// unlinking, a moment apart.
	tmps, _ := os.ReadDir(s.TempDir())
	for _, e := range tmps {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && info.ModTime().Before(started) {
			if os.Remove(filepath.Join(s.TempDir(), e.Name())) == nil {
				removed = append(removed, filepath.Join(tempDir, e.Name()))
			}
		}
	}
	return removed, nil
}

// splitName splits a spool file name into id and extension.
func splitName(name string) (id, ext string, ok bool) {
	for _, x := range []string{".env.tmp", ".env", ".msg", ".lock"} {
		if strings.HasSuffix(name, x) && len(name) > len(x) {
			return strings.TrimSuffix(name, x), x, true
		}
	}
	return "", "", false
}
