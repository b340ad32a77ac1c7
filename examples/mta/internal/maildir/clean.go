package maildir

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// StaleAge is how old a file in tmp/ that is not ours must be before
// Clean removes it: the 36 hours of the Maildir specification, since a
// local delivery agent or mail reader may share the directory.
const StaleAge = 36 * time.Hour

// ourName matches the unique names Write makes (uniqueName): no other
// writer puts R<16 hex digits>Q<counter> in a name.
var ourName = regexp.MustCompile(`^[0-9]+\.M[0-9]+P[0-9]+R[0-9a-f]{16}Q[0-9]+\.`)

// Clean removes what a crash left in tmp/ of the inbox and of every
// folder: files of our own naming older than started (written by an
// earlier run, which was killed before it could commit or abort them,
// so nobody acknowledged them), and anyone's files older than StaleAge.
// It returns the names removed; errors of single files are skipped, as
// the next start tries again.
func (m *Maildir) Clean(started time.Time) ([]string, error) {
	dirs := []string{m.root}
	entries, err := os.ReadDir(m.root)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), ".") && e.Name() != "." && e.Name() != ".." {
			dirs = append(dirs, filepath.Join(m.root, e.Name()))
		}
	}
	var removed []string
	for _, d := range dirs {
		tmp := filepath.Join(d, "tmp")
		files, err := os.ReadDir(tmp)
		if err != nil {
			continue
		}
		for _, f := range files {
			info, err := f.Info()
			if err != nil || !info.Mode().IsRegular() {
				continue
			}
			mine := ourName.MatchString(f.Name()) && info.ModTime().Before(started)
			if mine || m.now().Sub(info.ModTime()) > StaleAge {
				name := filepath.Join(tmp, f.Name())
				if os.Remove(name) == nil {
					removed = append(removed, name)
				}
			}
		}
	}
	return removed, nil
}
