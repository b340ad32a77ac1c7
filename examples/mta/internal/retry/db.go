package retry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/durable"
)

// Defaults of Options.
const (
	DefaultMaxRecords = 10000
	DefaultExpire     = 7 * 24 * time.Hour // Exim's retry_data_expire
	// DefaultInterval is the first retry interval without one.
	DefaultInterval = 15 * time.Minute
)

// Record is the retry state of one host address.
type Record struct {
	Key      string    `json:"key"`
	Failures int       `json:"failures"`
	First    time.Time `json:"first"` // first failure of this run
	Last     time.Time `json:"last"`  // latest failure
	Next     time.Time `json:"next"`  // no try before
	Message  string    `json:"message,omitempty"`
}

// Key is the record key of host name at ip and port, Exim's
// "T:name:ip", with ":port" when port is not 25.
func Key(name string, ip netip.Addr, port int) string {
	k := "T:" + name + ":" + ip.String()
	if port != 25 && port != 0 {
		k += ":" + strconv.Itoa(port)
	}
	return k
}

// Options configure a DB; zero values get the defaults.
type Options struct {
	// Interval is the first retry interval (the MTA's retry_interval),
	// doubled per failure up to an hour.
	Interval   time.Duration
	MaxRecords int
	Expire     time.Duration
	Now        func() time.Time // time.Now
	Logger     *slog.Logger     // slog.Default()
}

// DB is the retry database. The zero value is not usable: Open one.
type DB struct {
	path string
	opt  Options

	mu   sync.Mutex
	recs map[string]*Record
	gen  uint64 // changes made
	// dirty is what this process changed since it last wrote the
	// file: a record it set, or nil for one it removed. save applies
	// it over the file as it is then, so two processes on one file
	// (the server and a queue command) keep each other's records.
	dirty map[string]*Record

	wmu     sync.Mutex // one writer of the file at a time
	written uint64     // the generation on disk
}

// fileFormat is the file's content.
type fileFormat struct {
	Version int       `json:"version"`
	Records []*Record `json:"records"`
}

const version = 1

// Open reads the database at path (a missing file is an empty
// database, and none is written before the first failure). A file that
// does not parse is renamed to path+".bad" and logged; the database
// starts empty. An error is returned only when the file exists and
// cannot be read at all.
func Open(path string, opt Options) (*DB, error) {
	if opt.Interval <= 0 {
		opt.Interval = DefaultInterval
	}
	if opt.MaxRecords <= 0 {
		opt.MaxRecords = DefaultMaxRecords
	}
	if opt.Expire <= 0 {
		opt.Expire = DefaultExpire
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	db := &DB{path: path, opt: opt, recs: map[string]*Record{}, dirty: map[string]*Record{}}
	recs, err := db.load()
	if err != nil {
		return nil, err
	}
	db.recs = recs
	db.trim()
	return db, nil
}

// load reads the file's unexpired records; a missing file has none,
// and one that does not parse is set aside (logged) and has none.
func (db *DB) load() (map[string]*Record, error) {
	out := map[string]*Record{}
	b, err := os.ReadFile(db.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return out, nil
	case err != nil:
		return nil, fmt.Errorf("retry database: %w", err)
	}
	recs, err := parse(b)
	if err != nil {
		db.opt.Logger.Warn("retry database unreadable, starting empty", "file", db.path, "err", err)
		os.Rename(db.path, db.path+".bad")
		return out, nil
	}
	now := db.opt.Now()
	for _, r := range recs {
		if now.Sub(r.Last) < db.opt.Expire {
			out[r.Key] = r
		}
	}
	return out, nil
}

// parse reads the file's records, refusing anything that is not one.
func parse(b []byte) ([]*Record, error) {
	var f fileFormat
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	if f.Version != version {
		return nil, fmt.Errorf("version %d, want %d", f.Version, version)
	}
	for i, r := range f.Records {
		if r == nil || r.Key == "" || r.Failures < 1 || r.Next.IsZero() {
			return nil, fmt.Errorf("record %d is not a host failure", i)
		}
	}
	return f.Records, nil
}

// Due reports whether the host of key may be tried now; when not, rec
// is its record (Next: the time it may).
func (db *DB) Due(key string) (rec Record, ok bool) {
	db.mu.Lock()
	defer db.mu.Unlock()
	r := db.recs[key]
	if r == nil || !db.opt.Now().Before(r.Next) {
		return Record{}, true
	}
	return *r, false
}

// Failed records a failure of the host of key with why, and returns
// the record: the next try an interval later, the interval doubling
// with each failure since the last success.
func (db *DB) Failed(key, why string) Record {
	db.mu.Lock()
	now := db.opt.Now()
	r := db.recs[key]
	if r == nil {
		r = &Record{Key: key, First: now}
		db.recs[key] = r
	}
	r.Failures++
	r.Last, r.Message = now, why
	r.Next = now.Add(backoff(db.opt.Interval, r.Failures))
	rec, mine := *r, *r // the caller's copy; the one save may adopt
	db.dirty[key] = &mine
	db.trim()
	db.mu.Unlock()
	db.save()
	return rec
}

// Succeeded removes the record of key: the host works.
func (db *DB) Succeeded(key string) {
	db.mu.Lock()
	_, had := db.recs[key]
	if had {
		delete(db.recs, key)
		db.dirty[key] = nil
		db.gen++
	}
	db.mu.Unlock()
	if had {
		db.save()
	}
}

// Len is the number of records.
func (db *DB) Len() int {
	db.mu.Lock()
	defer db.mu.Unlock()
	return len(db.recs)
}

// backoff is queue.Backoff (not imported: the queue does not need
// this package, nor this one the queue).
func backoff(interval time.Duration, n int) time.Duration {
	ceiling := max(time.Hour, interval)
	d := interval
	for i := 1; i < n && d < ceiling; i++ {
		d *= 2
	}
	return min(d, ceiling)
}

// trim drops expired records and, beyond MaxRecords, those whose last
// failure is oldest. db.mu is held; it counts as a change.
func (db *DB) trim() {
	db.gen++
	now := db.opt.Now()
	for k, r := range db.recs {
		if now.Sub(r.Last) >= db.opt.Expire {
			delete(db.recs, k)
		}
	}
	if len(db.recs) <= db.opt.MaxRecords {
		return
	}
	all := make([]*Record, 0, len(db.recs))
	for _, r := range db.recs {
		all = append(all, r)
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].Last.Equal(all[j].Last) {
			return all[i].Last.Before(all[j].Last)
		}
		return all[i].Key < all[j].Key
	})
	for _, r := range all[:len(all)-db.opt.MaxRecords] {
		delete(db.recs, r.Key)
	}
}

// sorted is the records by next try time (then key). db.mu is held.
func (db *DB) sorted() []*Record {
	all := make([]*Record, 0, len(db.recs))
	for _, r := range db.recs {
		all = append(all, r)
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].Next.Equal(all[j].Next) {
			return all[i].Next.Before(all[j].Next)
		}
		return all[i].Key < all[j].Key
	})
	return all
}

// save writes the records, unless a later state is on disk already.
// Under an flock on the file's .lock it reads the file, puts this
// process's changes over it and writes the result, which becomes the
// records in memory too: another process's records are kept and seen.
// A failure is logged: the records stay in memory, the changes pending.
func (db *DB) save() {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	db.mu.Lock()
	pending := db.gen > db.written
	db.mu.Unlock()
	if !pending {
		return
	}
	unlock, err := db.lockFile()
	if err != nil {
		db.opt.Logger.Warn("retry database not written", "file", db.path, "err", err)
		return
	}
	defer unlock()
	onDisk, err := db.load()
	if err != nil {
		db.opt.Logger.Warn("retry database not written", "file", db.path, "err", err)
		return
	}
	db.mu.Lock()
	for k, r := range db.dirty {
		if r == nil {
			delete(onDisk, k)
		} else {
			onDisk[k] = r
		}
	}
	applied := db.dirty
	db.recs, db.dirty = onDisk, map[string]*Record{}
	db.trim()
	gen := db.gen
	b, err := json.MarshalIndent(fileFormat{Version: version, Records: db.sorted()}, "", "  ")
	db.mu.Unlock()
	if err == nil {
		err = db.write(b)
	}
	if err != nil {
		db.mu.Lock()
		for k, r := range applied {
			if _, newer := db.dirty[k]; !newer {
				db.dirty[k] = r
			}
		}
		db.mu.Unlock()
		db.opt.Logger.Warn("retry database not written", "file", db.path, "err", err)
		return
	}
	db.written = gen
}

// lockFile takes an flock(2) on the file's .lock, waiting for the other
// process's write to end; the kernel drops it if this process dies.
func (db *DB) lockFile() (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(db.path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(db.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// write replaces the file with b durably.
func (db *DB) write(b []byte) error {
	dir := filepath.Dir(db.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp := db.path + ".tmp"
	os.Remove(tmp) // left by a crash: writers hold the .lock
	if err := durable.WriteFile(tmp, b); err != nil {
		return err
	}
	if err := os.Rename(tmp, db.path); err != nil {
		os.Remove(tmp)
		return err
	}
	return durable.SyncDir(dir)
}
