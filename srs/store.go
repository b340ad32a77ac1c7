package srs

import (
	"sync"
	"time"
)

// Store keeps the original sender of an overlong rewrite ("database
// mode", as postsrsd calls it). Keys are opaque upper-case base32
// strings chosen by the Rewriter; lookups are made with the key
// upper-cased, so a mail system that smashes the case of the local part
// does not lose the alias.
//
// Implementations must be safe for concurrent use.
type Store interface {
	// Put records original under key until expires.
	Put(key, original string, expires time.Time) error
	// Get returns the original for key. ok is false when the key is
	// unknown or expired at now.
	Get(key string, now time.Time) (original string, ok bool, err error)
}

// MemStore is an in-memory Store. The zero value is ready to use.
// Expired entries are dropped lazily by Get and by Purge.
type MemStore struct {
	mu sync.Mutex
	m  map[string]memEntry
}

type memEntry struct {
	orig    string
	expires time.Time
}

// Put implements Store.
func (s *MemStore) Put(key, original string, expires time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]memEntry)
	}
	s.m[key] = memEntry{orig: original, expires: expires}
	return nil
}

// Get implements Store.
func (s *MemStore) Get(key string, now time.Time) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if !ok {
		return "", false, nil
	}
	if now.After(e.expires) {
		delete(s.m, key)
		return "", false, nil
	}
	return e.orig, true, nil
}

// Purge removes the entries that expired before now and returns how
// many it removed.
func (s *MemStore) Purge(now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, e := range s.m {
		if now.After(e.expires) {
			delete(s.m, k)
			n++
		}
	}
	return n
}

// Len returns the number of entries, expired or not.
func (s *MemStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
