package tlsrpt

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"hash/maphash"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Recorder counts successful and failed sessions per UTC day per
// (policy domain, policy), the failures grouped by their details, for
// the daily reports of RFC 8460 §4. The delivery code calls Success or
// Failure once per session with TLS policy, the scheduler calls Reports
// after the day and then Forget. A Recorder is safe for concurrent use;
// Success and Failure take one of many locks, chosen by the policy, so
// deliveries to different domains do not contend.
//
// A Recorder from NewRecorder lives in memory only; OpenRecorder adds a
// file so that a restart does not lose the day.
type Recorder struct {
	now        func() time.Time
	instance   string
	maxDetails int
	// instanceSet: WithInstanceID was given, so the file's does not
	// replace it.
	instanceSet bool
	seed        maphash.Seed
	shards      [numShards]shard

	// persistence, set by OpenRecorder
	path          string
	flushInterval time.Duration
	onError       func(error)
	dirty         atomic.Bool
	saveMu        sync.Mutex
	stop, done    chan struct{}
	closeOnce     sync.Once
	closeErr      error
}

// numShards spreads the counters over this many locks; a power of two
// well above the core counts mail servers run on.
const numShards = 64

type shard struct {
	mu sync.Mutex
	m  map[uint64][]*entry // by hash of (day, policy); a slice for collisions
	_  [40]byte            // keep neighbouring shards' locks off one cache line
}

// entry holds one (day, policy) pair's counts.
type entry struct {
	day      int64 // days since 1970-01-01 UTC
	policy   Policy
	success  int64
	failed   int64 // every failed session, also those beyond maxDetails
	details  map[detailKey]int64
	overflow int64 // failed sessions whose details were not kept
}

// detailKey is a Failure as a map key: equal failures are one
// failure-details entry with their count.
type detailKey struct {
	result    ResultType
	sendingIP netip.Addr
	mxHost    string
	mxHelo    string
	recvIP    netip.Addr
	info      string
	code      string
}

// DefaultMaxFailureDetails bounds the distinct failure-details kept per
// policy per day. The receiving MX chooses its EHLO name, so a hostile
// one could otherwise grow the Recorder without bound; failures beyond
// the bound are still counted in the summary.
const DefaultMaxFailureDetails = 1000

// maxDetailField bounds each free-text field of a Failure, in bytes.
const maxDetailField = 1024

// Option configures a Recorder.
type Option func(*Recorder)

// WithClock sets the clock that dates sessions (default time.Now);
// only its UTC day matters.
func WithClock(now func() time.Time) Option {
	return func(r *Recorder) {
		if now != nil {
			r.now = now
		}
	}
}

// WithInstanceID sets the string report IDs are derived from. By
// default each Recorder picks a random one (kept in its file with
// OpenRecorder), so that two MTAs reporting for the same submitter
// domain never send two reports with one report-id; set it to make
// report IDs reproducible.
func WithInstanceID(id string) Option {
	return func(r *Recorder) { r.instance, r.instanceSet = id, id != "" }
}

// WithMaxFailureDetails sets the bound on distinct failure-details per
// policy per day (default DefaultMaxFailureDetails; n < 1 keeps none).
func WithMaxFailureDetails(n int) Option {
	return func(r *Recorder) { r.maxDetails = max(n, 0) }
}

// NewRecorder returns an empty in-memory Recorder.
func NewRecorder(opts ...Option) *Recorder {
	r := &Recorder{
		now:        time.Now,
		maxDetails: DefaultMaxFailureDetails,
		seed:       maphash.MakeSeed(),
	}
	for _, o := range opts {
		o(r)
	}
	if r.instance == "" {
		var b [8]byte
		rand.Read(b[:])
		r.instance = hex.EncodeToString(b[:])
	}
	for i := range r.shards {
		r.shards[i].m = make(map[uint64][]*entry)
	}
	return r
}

// Success counts one session to p's domain that met policy p (for
// PolicyNone: that used TLS).
func (r *Recorder) Success(p Policy) { r.add(p, Failure{}, false) }

// Failure counts one session to p's domain that failed as f describes.
func (r *Recorder) Failure(p Policy, f Failure) { r.add(p, f, true) }

func (r *Recorder) add(p Policy, f Failure, failed bool) {
	day := dayOf(r.now())
	p.Domain = normDomain(p.Domain)
	h := r.hash(day, &p)
	s := &r.shards[h%numShards]
	s.mu.Lock()
	e := s.find(h, day, &p)
	if e == nil {
		e = &entry{day: day, policy: clonePolicy(p)}
		s.m[h] = append(s.m[h], e)
	}
	if failed {
		e.failed++
		k := detailKey{
			result:    f.Result,
			sendingIP: f.SendingMTAIP,
			mxHost:    capField(f.ReceivingMXHostname),
			mxHelo:    capField(f.ReceivingMXHelo),
			recvIP:    f.ReceivingIP,
			info:      capField(f.AdditionalInfo),
			code:      capField(f.FailureReasonCode),
		}
		if _, ok := e.details[k]; ok || len(e.details) < r.maxDetails {
			if e.details == nil {
				e.details = make(map[detailKey]int64)
			}
			e.details[k]++
		} else {
			e.overflow++
		}
	} else {
		e.success++
	}
	s.mu.Unlock()
	// A load first: the flag is shared by every core, and a store on
	// each call would bounce its cache line between them.
	if !r.dirty.Load() {
		r.dirty.Store(true)
	}
}

func (s *shard) find(h uint64, day int64, p *Policy) *entry {
	for _, e := range s.m[h] {
		if e.day == day && e.policy.Type == p.Type && e.policy.Domain == p.Domain &&
			slices.Equal(e.policy.Strings, p.Strings) && slices.Equal(e.policy.MXHosts, p.MXHosts) {
			return e
		}
	}
	return nil
}

func (r *Recorder) hash(day int64, p *Policy) uint64 {
	var h maphash.Hash
	h.SetSeed(r.seed)
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(day))
	h.Write(b[:])
	h.WriteString(string(p.Type))
	h.WriteByte(0)
	h.WriteString(p.Domain)
	for _, s := range p.Strings {
		h.WriteByte(0)
		h.WriteString(s)
	}
	h.WriteByte(1)
	for _, s := range p.MXHosts {
		h.WriteByte(0)
		h.WriteString(s)
	}
	return h.Sum64()
}

// Forget drops the counts of the days that ended at or before before:
// those already reported.
func (r *Recorder) Forget(before time.Time) {
	cut := before.Unix()
	dropped := false
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		for h, es := range s.m {
			kept := es[:0]
			for _, e := range es {
				if (e.day+1)*secondsPerDay <= cut { // the day has ended
					dropped = true
					continue
				}
				kept = append(kept, e)
			}
			if len(kept) == 0 {
				delete(s.m, h)
			} else {
				clear(es[len(kept):])
				s.m[h] = kept
			}
		}
		s.mu.Unlock()
	}
	if dropped {
		r.dirty.Store(true)
	}
}

const secondsPerDay = 86400

func dayOf(t time.Time) int64 { return floorDiv(t.Unix(), secondsPerDay) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func dayStart(day int64) time.Time { return time.Unix(day*secondsPerDay, 0).UTC() }

// normDomain makes domains that differ only in case or a trailing dot
// one policy domain. It allocates only when there is an upper-case
// letter.
func normDomain(d string) string {
	return strings.ToLower(strings.TrimSuffix(d, "."))
}

func clonePolicy(p Policy) Policy {
	p.Strings = slices.Clone(p.Strings)
	p.MXHosts = slices.Clone(p.MXHosts)
	return p
}

// capField cuts s to maxDetailField bytes on a rune boundary.
func capField(s string) string {
	if len(s) <= maxDetailField {
		return s
	}
	i := maxDetailField
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
