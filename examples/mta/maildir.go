package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// maildir delivers into one Maildir++ directory: new messages in
// ROOT/new, sub-folders as ROOT/.Name/{tmp,new,cur}. Each file is
// written and fsynced in tmp/ and then renamed into new/, so a reader
// never sees a partial message and an accepted message survives a
// crash.
type maildir struct {
	root string
	host string // for the unique names; no '/' or ':'
	seq  atomic.Uint64
}

func openMaildir(root, host string) (*maildir, error) {
	if root == "" {
		return nil, fmt.Errorf("no maildir directory")
	}
	m := &maildir{root: root, host: strings.NewReplacer("/", "\\057", ":", "\\072").Replace(host)}
	if err := makeMaildir(root); err != nil {
		return nil, err
	}
	return m, nil
}

func makeMaildir(dir string) error {
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return err
		}
	}
	return nil
}

// folderName turns a bmi alternate location (or any label) into a safe
// Maildir++ folder name: ".Name" with only letters, digits, '-' and '_'.
func folderName(loc string) string {
	var b strings.Builder
	for _, r := range loc {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 64 {
			break
		}
	}
	name := strings.Trim(b.String(), "_")
	if name == "" {
		name = "Junk"
	}
	return "." + name
}

// pending is a message written to tmp/ and not yet in new/.
type pending struct {
	tmp, final, dir string
}

// write stores data in folder ("" for the inbox, else a folderName)
// under tmp/, fsynced.
func (m *maildir) write(folder string, data []byte) (*pending, error) {
	dir := m.root
	if folder != "" {
		dir = filepath.Join(m.root, folder)
		if err := makeMaildir(dir); err != nil {
			return nil, err
		}
		// Maildir++ marks sub-folders with an empty maildirfolder file.
		if f, err := os.OpenFile(filepath.Join(dir, "maildirfolder"), os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			f.Close()
		}
	}
	now := time.Now()
	name := fmt.Sprintf("%d.M%dP%dQ%d.%s", now.Unix(), now.Nanosecond()/1000, pid, m.seq.Add(1), m.host)
	tmp := filepath.Join(dir, "tmp", name)
	if err := writeFileSync(tmp, data, os.O_EXCL); err != nil {
		return nil, err
	}
	return &pending{tmp: tmp, final: filepath.Join(dir, "new", name), dir: filepath.Join(dir, "new")}, nil
}

// commit moves the message into new/ and syncs the directory.
func (p *pending) commit() error {
	if err := os.Rename(p.tmp, p.final); err != nil {
		os.Remove(p.tmp)
		return err
	}
	return syncDir(p.dir)
}

func (p *pending) abort() { os.Remove(p.tmp) }
