package auth

import (
	"container/list"
	"net/netip"
	"sync"
	"time"
)

// Limiter defaults, used for zero (or negative) fields.
const (
	DefaultMaxFailures = 5
	DefaultWindow      = 5 * time.Minute
	DefaultMaxEntries  = 10000
)

// Limiter counts failed AUTH attempts per client and refuses a client
// with MaxFailures failures in the last Window. IPv4 clients are
// counted per address, IPv6 clients per /64 (one host usually holds a
// whole /64, so counting per address would let it rotate past the
// limit). The zero value is ready to use with the defaults above; it is
// safe for concurrent use. Memory is bounded by MaxEntries clients:
// past that the client whose last failure is oldest is forgotten. An
// invalid (zero) netip.Addr, a client whose address is unknown, is one
// client like any other.
type Limiter struct {
	MaxFailures int           // default DefaultMaxFailures
	Window      time.Duration // default DefaultWindow
	Now         func() time.Time
	MaxEntries  int // default DefaultMaxEntries

	mu      sync.Mutex
	entries map[netip.Prefix]*list.Element // of *failures
	lru     list.List                      // front: most recent failure
}

type failures struct {
	key   netip.Prefix
	times []time.Time // the last MaxFailures failures, oldest first
}

func (l *Limiter) maxFailures() int {
	if l.MaxFailures <= 0 {
		return DefaultMaxFailures
	}
	return l.MaxFailures
}

func (l *Limiter) window() time.Duration {
	if l.Window <= 0 {
		return DefaultWindow
	}
	return l.Window
}

func (l *Limiter) maxEntries() int {
	if l.MaxEntries <= 0 {
		return DefaultMaxEntries
	}
	return l.MaxEntries
}

func (l *Limiter) now() time.Time {
	if l.Now == nil {
		return time.Now()
	}
	return l.Now()
}

// clientKey is the unit failures are counted in.
func clientKey(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	switch {
	case a.Is4():
		return netip.PrefixFrom(a, 32)
	case a.Is6():
		p, _ := a.WithZone("").Prefix(64)
		return p
	}
	return netip.Prefix{}
}

// Allowed reports whether addr may try to authenticate: false once it
// has MaxFailures failures within the last Window. The session answers
// a refused client without running the exchange (454 4.7.0, or by
// closing the connection).
func (l *Limiter) Allowed(addr netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[clientKey(addr)]
	if e == nil {
		return true
	}
	f := e.Value.(*failures)
	f.expire(l.now().Add(-l.window()))
	if len(f.times) == 0 {
		l.remove(e)
		return true
	}
	return len(f.times) < l.maxFailures()
}

// Failed records a failed attempt by addr.
func (l *Limiter) Failed(addr netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.entries == nil {
		l.entries = make(map[netip.Prefix]*list.Element)
	}
	key := clientKey(addr)
	e := l.entries[key]
	if e == nil {
		e = l.lru.PushFront(&failures{key: key})
		l.entries[key] = e
	} else {
		l.lru.MoveToFront(e)
	}
	now := l.now()
	cut := now.Add(-l.window())
	f := e.Value.(*failures)
	f.expire(cut)
	f.times = append(f.times, now)
	if n := l.maxFailures(); len(f.times) > n {
		f.times = append(f.times[:0], f.times[len(f.times)-n:]...)
	}
	// The list is in order of last failure, so clients whose failures
	// have all expired are at the back: drop them before counting.
	for b := l.lru.Back(); b != nil && b != e; b = l.lru.Back() {
		if bf := b.Value.(*failures); bf.times[len(bf.times)-1].After(cut) {
			break
		}
		l.remove(b)
	}
	for l.lru.Len() > l.maxEntries() {
		l.remove(l.lru.Back())
	}
}

// Succeeded clears addr's failures: a client that got its password
// right is not held to its typos.
func (l *Limiter) Succeeded(addr netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.entries[clientKey(addr)]; e != nil {
		l.remove(e)
	}
}

// Len is the number of clients with failures remembered.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// expire drops f's failures at or before cut.
func (f *failures) expire(cut time.Time) {
	i := 0
	for i < len(f.times) && !f.times[i].After(cut) {
		i++
	}
	f.times = append(f.times[:0], f.times[i:]...)
}

func (l *Limiter) remove(e *list.Element) {
	delete(l.entries, e.Value.(*failures).key)
	l.lru.Remove(e)
}
