//go:build unix

package peertest

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// held counts this process's users of each lock: flock(2) locks belong
// to an open file, so a second open in the same process would wait for
// the first forever.
var (
	heldMu sync.Mutex
	held   = map[string]*heldLock{}
)

type heldLock struct {
	f    *os.File
	refs int
}

// Lock takes an exclusive lock named name, shared by every test process
// on the machine (go test runs packages in parallel, and several
// packages' interop tests use, start, stop or reconfigure the same
// peer), and releases it on t's cleanup. Within one process the lock is
// shared: tests of one package coordinate among themselves. The lock
// file lives in $PEERTEST_LOCK_DIR, default /tmp/peers.
func Lock(t testing.TB, name string) {
	t.Helper()
	heldMu.Lock()
	defer heldMu.Unlock()
	if h := held[name]; h != nil {
		h.refs++
		t.Cleanup(func() { release(name) })
		return
	}
	dir := Env("PEERTEST_LOCK_DIR", "/tmp/peers")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("peertest: lock dir: %v", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, name+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("peertest: lock %s: %v", name, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		t.Fatalf("peertest: lock %s: %v", name, err)
	}
	held[name] = &heldLock{f: f, refs: 1}
	t.Cleanup(func() { release(name) })
}

func release(name string) {
	heldMu.Lock()
	defer heldMu.Unlock()
	h := held[name]
	if h == nil {
		return
	}
	if h.refs--; h.refs == 0 {
		h.f.Close() // releases the flock
		delete(held, name)
	}
}
