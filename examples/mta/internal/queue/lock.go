package queue

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// A message is worked on by one process at a time: the server's runner
// delivering it, or a queue command (flush, remove, bounce) run by the
// operator while the server runs. Each holds an flock(2) on ID.lock, a
// file of its own (the envelope is replaced by rename on every save,
// so a lock on it would not outlive the first save). The kernel drops
// the lock when its holder dies, so kill -9 never leaves a message
// locked.

// ErrBusy is returned by Lock when another process works on the
// message.
var ErrBusy = errors.New("message is being worked on by another process")

// Lock takes the lock of message id without waiting; the returned
// function releases it.
func (s *Spool) Lock(id string) (unlock func(), err error) {
	if !validID(id) {
		return nil, fmt.Errorf("%q: %w", id, ErrNotQueued)
	}
	f, err := os.OpenFile(s.path(id, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", id, ErrBusy)
		}
		return nil, err
	}
	return func() { f.Close() }, nil
}
