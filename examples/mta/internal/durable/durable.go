// Package durable creates files that survive a crash once the call
// returns: written and fsynced under a name of their own, published
// without ever replacing a file, with the directory fsynced after. The
// Maildir and the spool are both built on it.
package durable

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// MaxNameTries bounds a search for a free file name: a collision needs
// the same clock, PID, counter and random draw, so running out means
// something else is wrong (a directory that refuses every create with
// EEXIST).
const MaxNameTries = 8

// WriteFile creates name, which must not exist (O_EXCL: an error
// satisfying errors.Is(err, fs.ErrExist) otherwise, and the existing
// file is untouched), writes data and fsyncs it; on a later failure the
// new file is removed.
func WriteFile(name string, data []byte) error {
	return WriteFrom(name, Bytes(data))
}

// Bytes is data as an io.WriterTo that can be written any number of
// times (a bytes.Reader is spent after one), as a retry under another
// name needs.
type Bytes []byte

func (b Bytes) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(b)
	return int64(n), err
}

// WriteFrom is WriteFile for data that src writes: src.WriteTo gets the
// *os.File itself, so that a copy from another file can be made in the
// kernel (os.File.ReadFrom). Callers that retry must give a src that
// writes the same data every time.
func WriteFrom(name string, src io.WriterTo) error {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = src.WriteTo(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
	}
	return err
}

// SyncDir fsyncs a directory, making the names created in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// Publish makes tmp visible as final and never replaces a file already
// there: link(2) fails with EEXIST where rename(2) would overwrite.
// Where hard links are not supported the fallback is a check before
// rename, racy against another process on the same directory but not
// against this one, whose names are unique.
func Publish(tmp, final string) error {
	err := os.Link(tmp, final)
	if err == nil {
		// tmp is only a second name now; a leftover is harmless.
		os.Remove(tmp)
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return err
	}
	if _, serr := os.Lstat(final); serr == nil {
		return &fs.PathError{Op: "publish", Path: final, Err: fs.ErrExist}
	} else if !errors.Is(serr, fs.ErrNotExist) {
		return serr
	}
	return os.Rename(tmp, final)
}
