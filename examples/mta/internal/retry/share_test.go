package retry

import (
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
)

// Two processes on one file (the server and a queue command, here two
// DBs) keep each other's records: each write merges its own changes
// over the file, and the writer then sees the other's records.
func TestTwoWritersShareTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db", "retry")
	c := newClock()
	server := open(t, path, c, Options{})
	queueCmd := open(t, path, c, Options{})

	server.Failed("T:a.example:192.0.2.1", "connection refused")
	queueCmd.Failed("T:b.example:192.0.2.2", "421 busy")
	if _, due := queueCmd.Due("T:a.example:192.0.2.1"); due {
		t.Error("the queue command's write did not take in the server's record")
	}
	server.Failed("T:c.example:192.0.2.3", "timeout")
	for _, k := range []string{"T:a.example:192.0.2.1", "T:b.example:192.0.2.2", "T:c.example:192.0.2.3"} {
		if _, due := server.Due(k); due {
			t.Errorf("server: %s due, its record lost", k)
		}
	}
	// A removal is a change too: the other's copy does not bring it back.
	queueCmd.Succeeded("T:b.example:192.0.2.2")
	server.Failed("T:d.example:192.0.2.4", "timeout")
	if _, due := server.Due("T:b.example:192.0.2.2"); !due {
		t.Error("server: b's record came back after the queue command removed it")
	}
	reopened := open(t, path, c, Options{})
	if n := reopened.Len(); n != 3 {
		t.Errorf("the file holds %d records, want a, c and d", n)
	}
}

// Concurrent writers in two DBs lose nothing (the .lock orders them).
func TestTwoWritersConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "retry")
	c := newClock()
	dbs := []*DB{open(t, path, c, Options{}), open(t, path, c, Options{})}
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				db.Failed(Key("h.example", netipFor(i, j), 25), "x")
			}
		}()
	}
	wg.Wait()
	if n := open(t, path, c, Options{}).Len(); n != 100 {
		t.Errorf("%d records on disk, want 100", n)
	}
}

func netipFor(i, j int) netip.Addr { return netip.AddrFrom4([4]byte{192, 0, byte(2 + i), byte(j)}) }
