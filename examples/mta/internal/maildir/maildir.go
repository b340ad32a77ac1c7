// Package maildir delivers messages into a Maildir++ directory, each
// file durable before the caller acknowledges it, and cleans what a
// crash left in tmp/.
package maildir

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/durable"
)

// Maildir delivers into one Maildir++ directory: new messages in
// ROOT/new, sub-folders as ROOT/.Name/{tmp,new,cur}. Each file is
// written and fsynced in tmp/ and then renamed into new/, so a reader
// never sees a partial message and an accepted message survives a
// crash.
//
// Names are SECONDS.M<usec>P<pid>R<random>Q<seq>.HOST (the fields
// Dovecot uses): the 64 random bits keep them unique across restarts,
// where PID and counter repeat. Neither the file in tmp/ (O_EXCL) nor
// the one in new/ (link, not rename) ever replaces an existing file; a
// taken name is skipped for a fresh one.
type Maildir struct {
	root string
	host string // for the unique names; no '/' or ':'
	seq  atomic.Uint64
	// The inputs of the unique names; tests set them to replay a
	// restart. rand must be safe for concurrent use (crypto/rand is).
	now  func() time.Time
	pid  int
	rand io.Reader
}

// Open makes root a Maildir (tmp, new, cur) if it is not one; host
// goes into the unique file names.
func Open(root, host string) (*Maildir, error) {
	if root == "" {
		return nil, fmt.Errorf("no maildir directory")
	}
	m := &Maildir{root: root, host: strings.NewReplacer("/", "\\057", ":", "\\072").Replace(host),
		now: time.Now, pid: os.Getpid(), rand: rand.Reader}
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

// FolderName turns a bmi alternate location (or any label) into a safe
// Maildir++ folder name: ".Name" with only letters, digits, '-' and '_'.
func FolderName(loc string) string {
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

// Pending is a message written to tmp/ and not yet in new/.
type Pending struct {
	m               *Maildir
	tmp, final, dir string
}

// uniqueName returns a fresh file name.
func (m *Maildir) uniqueName() (string, error) {
	var r [8]byte
	if _, err := io.ReadFull(m.rand, r[:]); err != nil {
		return "", fmt.Errorf("maildir: unique name: %w", err)
	}
	now := m.now()
	return fmt.Sprintf("%d.M%dP%dR%sQ%d.%s", now.Unix(), now.Nanosecond()/1000, m.pid,
		hex.EncodeToString(r[:]), m.seq.Add(1), m.host), nil
}

// Write stores data in folder ("" for the inbox, else a FolderName)
// under tmp/, fsynced; Commit makes it a delivered message.
func (m *Maildir) Write(folder string, data []byte) (*Pending, error) {
	return m.WriteFrom(folder, durable.Bytes(data))
}

// WriteFrom is Write for a message that src writes (durable.WriteFrom):
// a received message is copied from its file, never held in memory.
func (m *Maildir) WriteFrom(folder string, src io.WriterTo) (*Pending, error) {
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
	for try := 1; ; try++ {
		name, err := m.uniqueName()
		if err != nil {
			return nil, err
		}
		tmp := filepath.Join(dir, "tmp", name)
		err = durable.WriteFrom(tmp, src)
		if errors.Is(err, fs.ErrExist) && try < durable.MaxNameTries {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &Pending{m: m, tmp: tmp, final: filepath.Join(dir, "new", name), dir: filepath.Join(dir, "new")}, nil
	}
}

// Commit moves the message into new/, under a fresh name if its own is
// taken there, and syncs the directory.
func (p *Pending) Commit() error {
	for try := 1; ; try++ {
		err := durable.Publish(p.tmp, p.final)
		if errors.Is(err, fs.ErrExist) && try < durable.MaxNameTries {
			name, nerr := p.m.uniqueName()
			if nerr == nil {
				p.final = filepath.Join(p.dir, name)
				continue
			}
			err = nerr
		}
		if err != nil {
			os.Remove(p.tmp)
			return err
		}
		return durable.SyncDir(p.dir)
	}
}

// Abort removes the message from tmp/.
func (p *Pending) Abort() { os.Remove(p.tmp) }
