package dmarc

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// History is an append-only DMARC history file shared with other
// writers: goroutines using the same History, other Histories on the
// same path, and other processes (Exim itself, or several instances of
// a milter).
//
// Each block is written with a single write(2) on a descriptor opened
// with O_APPEND. On a local POSIX file system the kernel moves to the
// end of the file and writes the whole buffer in one step, so blocks of
// concurrent appenders follow each other whole and are never
// interleaved. The guarantee does not hold on NFS, and a write cut short
// by a full disk can leave a partial block: Append reports it, and
// ParseHistory will most likely reject the file at that point.
// The mutex only orders goroutines sharing this History and protects
// its buffer; it is not what keeps blocks whole.
type History struct {
	mu     sync.Mutex
	f      *os.File
	buf    []byte
	closed bool
}

// OpenHistory opens path for appending, creating it with mode 0640
// (before umask) if it does not exist, as Exim's log-file open does.
func OpenHistory(path string) (*History, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("dmarc: opening history file: %w", err)
	}
	return &History{f: f}, nil
}

// Append writes e's block (AppendTo) to the end of the file in one
// write.
func (h *History) Append(e *HistoryEntry) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return fmt.Errorf("dmarc: appending to history file: %w", os.ErrClosed)
	}
	h.buf = e.AppendTo(h.buf[:0])
	n, err := h.f.Write(h.buf)
	if err == nil && n != len(h.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("dmarc: appending to history file: %w", err)
	}
	return nil
}

// Close closes the file; later Appends fail with os.ErrClosed.
func (h *History) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	return h.f.Close()
}
