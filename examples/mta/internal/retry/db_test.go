package retry

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is an injected time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)} }

func open(t *testing.T, path string, c *clock, opt Options) *DB {
	t.Helper()
	opt.Now = c.now
	if opt.Interval == 0 {
		opt.Interval = 15 * time.Minute
	}
	db, err := Open(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestKey(t *testing.T) {
	ip := netip.MustParseAddr("192.0.2.1")
	if k := Key("mx.example.com", ip, 25); k != "T:mx.example.com:192.0.2.1" {
		t.Error(k)
	}
	if k := Key("mx.example.com", ip, 2525); k != "T:mx.example.com:192.0.2.1:2525" {
		t.Error(k)
	}
}

// The first failure sets the next try one interval later, each further
// one doubles it up to an hour; before it the host is not due, after it
// it is; a success clears the record.
func TestBackoffDoubles(t *testing.T) {
	c := newClock()
	db := open(t, filepath.Join(t.TempDir(), "db", "retry"), c, Options{})
	k := "T:mx.remote.test:127.0.0.2"
	if _, ok := db.Due(k); !ok {
		t.Fatal("unknown host not due")
	}
	var got []time.Duration
	for range 5 {
		r := db.Failed(k, "Connection refused")
		got = append(got, r.Next.Sub(c.now()))
		if _, ok := db.Due(k); ok {
			t.Fatal("due right after a failure")
		}
		c.add(r.Next.Sub(c.now()) - time.Second)
		if rec, ok := db.Due(k); ok || rec.Message != "Connection refused" {
			t.Fatalf("due a second early (%+v)", rec)
		}
		c.add(time.Second)
		if _, ok := db.Due(k); !ok {
			t.Fatal("not due at its next try time")
		}
	}
	want := []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour, time.Hour, time.Hour}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("intervals %v, want %v", got, want)
	}
	db.Succeeded(k)
	if db.Len() != 0 {
		t.Error("record kept after a success")
	}
	if r := db.Failed(k, "again"); r.Failures != 1 || r.Next.Sub(c.now()) != 15*time.Minute {
		t.Errorf("after a success the schedule starts over: %+v", r)
	}
}

// The records survive reopening the file (a restart), and a success
// written is gone there too.
func TestSurvivesReopen(t *testing.T) {
	c := newClock()
	path := filepath.Join(t.TempDir(), "db", "retry")
	db := open(t, path, c, Options{})
	db.Failed("T:a:127.0.0.1", "refused")
	db.Failed("T:a:127.0.0.1", "refused")
	db.Failed("T:b:127.0.0.1", "timeout")
	db.Succeeded("T:b:127.0.0.1")

	db2 := open(t, path, c, Options{})
	if db2.Len() != 1 {
		t.Fatalf("%d records after reopening", db2.Len())
	}
	rec, ok := db2.Due("T:a:127.0.0.1")
	if ok || rec.Failures != 2 || rec.Next.Sub(c.now()) != 30*time.Minute {
		t.Errorf("record after reopening: %+v due %v", rec, ok)
	}
	if r := db2.Failed("T:a:127.0.0.1", "refused"); r.Failures != 3 || r.Next.Sub(c.now()) != time.Hour {
		t.Errorf("the schedule goes on: %+v", r)
	}
	if _, err := os.Stat(path + ".tmp"); err == nil {
		t.Error("temporary file left")
	}
}

// A file that is not a database: logged, set aside, an empty database,
// which then writes a good file again.
func TestCorruptFile(t *testing.T) {
	for name, content := range map[string]string{
		"garbage":   "\x00\x01not json",
		"truncated": `{"version":1,"records":[{"key":"T:a:1.2.3.4","failures":1,`,
		"version":   `{"version":9,"records":[]}`,
		"record":    `{"version":1,"records":[{"key":"","failures":1}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			c := newClock()
			path := filepath.Join(t.TempDir(), "retry")
			os.WriteFile(path, []byte(content), 0o600)
			var logs bytes.Buffer
			db := open(t, path, c, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if db.Len() != 0 || !strings.Contains(logs.String(), "retry database unreadable") {
				t.Errorf("%d records, log %q", db.Len(), logs.String())
			}
			if b, err := os.ReadFile(path + ".bad"); err != nil || string(b) != content {
				t.Errorf("not set aside: %v", err)
			}
			db.Failed("T:a:127.0.0.1", "x")
			if db2 := open(t, path, c, Options{}); db2.Len() != 1 {
				t.Errorf("%d records in the file written after", db2.Len())
			}
		})
	}
}

// At most MaxRecords records, the ones that failed longest ago going
// first; and
// records older than Expire are dropped.
func TestBounded(t *testing.T) {
	c := newClock()
	path := filepath.Join(t.TempDir(), "retry")
	db := open(t, path, c, Options{MaxRecords: 3, Expire: 24 * time.Hour})
	for i := range 5 {
		k := fmt.Sprintf("T:h%d:127.0.0.1", i)
		db.Failed(k, "x")
		c.add(time.Minute)
	}
	if db.Len() != 3 {
		t.Fatalf("%d records, max 3", db.Len())
	}
	for i, want := range []bool{true, true, false, false, false} { // due: dropped
		if _, ok := db.Due(fmt.Sprintf("T:h%d:127.0.0.1", i)); ok != want {
			t.Errorf("h%d due %v", i, ok)
		}
	}
	c.add(25 * time.Hour)
	if db2 := open(t, path, c, Options{Expire: 24 * time.Hour}); db2.Len() != 0 {
		t.Errorf("%d expired records loaded", db2.Len())
	}
}

// Concurrent deliveries record and clear at once; the file holds a
// consistent last state.
func TestConcurrent(t *testing.T) {
	c := newClock()
	path := filepath.Join(t.TempDir(), "retry")
	db := open(t, path, c, Options{})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := fmt.Sprintf("T:h%d:127.0.0.1", i%5)
			for range 10 {
				db.Failed(k, "x")
				db.Due(k)
			}
			if i%5 == 0 {
				db.Succeeded(k)
			}
		}()
	}
	wg.Wait()
	if db.Len() != 4 {
		t.Errorf("%d records", db.Len())
	}
	if db2 := open(t, path, c, Options{}); db2.Len() != 4 {
		t.Errorf("%d records on disk", db2.Len())
	}
}

// Any file content gives a database or an error, never a panic.
func FuzzOpen(f *testing.F) {
	f.Add([]byte(`{"version":1,"records":[{"key":"T:a:1.2.3.4","failures":2,"first":"2025-01-01T00:00:00Z","last":"2025-03-01T11:00:00Z","next":"2025-03-01T13:00:00Z"}]}`))
	f.Add([]byte(`{"version":1,"records":[null]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "retry")
		os.WriteFile(path, b, 0o600)
		c := newClock()
		db, err := Open(path, Options{Now: c.now, Logger: slog.New(slog.NewTextHandler(new(bytes.Buffer), nil))})
		if err != nil {
			t.Fatal(err)
		}
		db.Failed("T:x:127.0.0.1", "x")
		if _, ok := db.Due("T:x:127.0.0.1"); ok {
			t.Fatal("due after a failure")
		}
	})
}
