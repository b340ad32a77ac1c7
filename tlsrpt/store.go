package tlsrpt

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// The file of OpenRecorder is a snapshot of the whole Recorder, not a
// journal of sessions: its size follows the number of (day, policy,
// failure) combinations, not the traffic, it needs no compaction, and a
// session costs no disk write. A snapshot is written to a temporary
// file, fsynced, renamed over the old one and the directory fsynced, so
// the file is always one complete snapshot. The price is that a crash
// loses the sessions counted since the last snapshot, at most one
// flush interval's worth; Close loses nothing. For statistics that are
// sent once a day that trade is the right one.

// DefaultFlushInterval is how often OpenRecorder's Recorder writes its
// file when something changed.
const DefaultFlushInterval = 30 * time.Second

// fileFormat names the snapshot format, so an incompatible future one
// is refused rather than misread.
const fileFormat = "mailpolicy-tlsrpt-1"

// ErrCorruptFile is what the error of OpenRecorder matches when the
// file is not a snapshot it can read.
var ErrCorruptFile = errors.New("tlsrpt: corrupt recorder file")

type fileSnapshot struct {
	Format   string      `json:"format"`
	Instance string      `json:"instance"`
	Entries  []fileEntry `json:"entries"`
}

type fileEntry struct {
	Day      string          `json:"day"` // YYYY-MM-DD, UTC
	Policy   Policy          `json:"policy"`
	Success  int64           `json:"success"`
	Failed   int64           `json:"failed"`
	Overflow int64           `json:"overflow,omitempty"`
	Details  []FailureDetail `json:"details,omitempty"`
}

// WithFlushInterval sets how often an OpenRecorder Recorder writes its
// file when something changed (default DefaultFlushInterval; d <= 0
// writes only on Flush and Close).
func WithFlushInterval(d time.Duration) Option {
	return func(r *Recorder) {
		r.flushInterval = d
		if d <= 0 {
			r.flushInterval = -1
		}
	}
}

// WithErrorFunc sets where the background flush of an OpenRecorder
// Recorder reports a failed write (default: nowhere; the next Flush or
// Close returns the error again, as the file is then still stale).
func WithErrorFunc(f func(error)) Option {
	return func(r *Recorder) { r.onError = f }
}

// OpenRecorder returns a Recorder kept in the file path: the counts in
// it, if it exists, are loaded, and the Recorder writes it back every
// flush interval when something changed, on Flush, and on Close, which
// the caller must call to stop the background writer. A file that
// cannot be read as a snapshot is an error naming path that matches
// ErrCorruptFile; it is left as it is for the operator.
func OpenRecorder(path string, opts ...Option) (*Recorder, error) {
	r := NewRecorder(opts...)
	r.path = path
	if err := r.load(); err != nil {
		return nil, err
	}
	if r.flushInterval == 0 {
		r.flushInterval = DefaultFlushInterval
	}
	r.stop, r.done = make(chan struct{}), make(chan struct{})
	go r.flusher()
	return r, nil
}

func (r *Recorder) load() error {
	data, err := os.ReadFile(r.path)
	if errors.Is(err, os.ErrNotExist) {
		r.dirty.Store(true) // write the instance ID on the first flush
		return nil
	}
	if err != nil {
		return fmt.Errorf("tlsrpt: reading %s: %w", r.path, err)
	}
	corrupt := func(format string, a ...any) error {
		return fmt.Errorf("%w %s: %s", ErrCorruptFile, r.path, fmt.Sprintf(format, a...))
	}
	var snap fileSnapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return corrupt("%v", err)
	}
	if snap.Format != fileFormat {
		return corrupt("format %q, want %q", snap.Format, fileFormat)
	}
	if !r.instanceSet && snap.Instance != "" {
		r.instance = snap.Instance
	}
	for i, fe := range snap.Entries {
		t, err := time.Parse(time.DateOnly, fe.Day)
		if err != nil {
			return corrupt("entry %d: day %q", i, fe.Day)
		}
		if fe.Success < 0 || fe.Failed < 0 || fe.Overflow < 0 {
			return corrupt("entry %d: negative count", i)
		}
		day := dayOf(t)
		p := fe.Policy
		p.Domain = normDomain(p.Domain)
		h := r.hash(day, &p)
		s := &r.shards[h%numShards]
		e := s.find(h, day, &p)
		if e == nil {
			e = &entry{day: day, policy: clonePolicy(p)}
			s.m[h] = append(s.m[h], e)
		}
		e.success += fe.Success
		e.failed += fe.Failed
		e.overflow += fe.Overflow
		for j, d := range fe.Details {
			k, err := d.key()
			if err != nil || d.FailedSessionCount < 0 {
				return corrupt("entry %d detail %d: %v", i, j, err)
			}
			if e.details == nil {
				e.details = make(map[detailKey]int64)
			}
			e.details[k] += d.FailedSessionCount
		}
	}
	return nil
}

func (d FailureDetail) key() (detailKey, error) {
	parse := func(s string) (netip.Addr, error) {
		if s == "" {
			return netip.Addr{}, nil
		}
		return netip.ParseAddr(s)
	}
	sip, err := parse(d.SendingMTAIP)
	if err != nil {
		return detailKey{}, err
	}
	rip, err := parse(d.ReceivingIP)
	if err != nil {
		return detailKey{}, err
	}
	return detailKey{
		result: d.ResultType, sendingIP: sip, mxHost: d.ReceivingMXHostname,
		mxHelo: d.ReceivingMXHelo, recvIP: rip, info: d.AdditionalInformation, code: d.FailureReasonCode,
	}, nil
}

func (r *Recorder) flusher() {
	defer close(r.done)
	if r.flushInterval < 0 {
		<-r.stop
		return
	}
	t := time.NewTicker(r.flushInterval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			if err := r.Flush(); err != nil && r.onError != nil {
				r.onError(err)
			}
		}
	}
}

// Flush writes the Recorder's file now if something changed since the
// last write. It does nothing for a Recorder without a file.
func (r *Recorder) Flush() error {
	if r.path == "" {
		return nil
	}
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	if !r.dirty.Swap(false) {
		return nil
	}
	if err := r.save(); err != nil {
		r.dirty.Store(true)
		return err
	}
	return nil
}

// Close stops the background writer and writes the file a last time.
// Sessions counted after Close are kept in memory only.
func (r *Recorder) Close() error {
	if r.path == "" {
		return nil
	}
	r.closeOnce.Do(func() {
		close(r.stop)
		<-r.done
		r.closeErr = r.Flush()
	})
	return r.closeErr
}

func (r *Recorder) snapshot() fileSnapshot {
	snap := fileSnapshot{Format: fileFormat, Instance: r.instance, Entries: []fileEntry{}}
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		for _, es := range s.m {
			for _, e := range es {
				fe := fileEntry{
					Day:      dayStart(e.day).Format(time.DateOnly),
					Policy:   clonePolicy(e.policy),
					Success:  e.success,
					Failed:   e.failed,
					Overflow: e.overflow,
				}
				for k, n := range e.details {
					d := k.detail()
					d.FailedSessionCount = n
					fe.Details = append(fe.Details, d)
				}
				snap.Entries = append(snap.Entries, fe)
			}
		}
		s.mu.Unlock()
	}
	return snap
}

// save writes the snapshot atomically: temporary file, fsync, rename,
// directory fsync.
func (r *Recorder) save() error {
	data, err := json.Marshal(r.snapshot())
	if err != nil {
		return fmt.Errorf("tlsrpt: %w", err)
	}
	tmp := r.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("tlsrpt: writing %s: %w", r.path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, r.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("tlsrpt: writing %s: %w", r.path, err)
	}
	if d, err := os.Open(filepath.Dir(r.path)); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("tlsrpt: syncing the directory of %s: %w", r.path, err)
		}
	}
	return nil
}
