package ratelimit

import (
	"context"
	"sync"
	"time"
)

// A Store applies events to keys. Apply must be atomic per key: two
// events on one key, from any goroutine or (for a shared store) any
// instance, see each other's records, none is lost.
type Store interface {
	Apply(ctx context.Context, key string, ev Event) (Result, error)
}

// Memory is a Store in this process, for a single instance. The zero
// value is ready to use. Records are forgotten KeepFor after their last
// update (measured on the events' clock), swept every sweepEvery
// events, so the map holds only keys that can still matter.
type Memory struct {
	mu     sync.Mutex
	m      map[string]memRecord
	events int
}

type memRecord struct {
	State
	expires time.Time
}

// sweepEvery spreads the sweep's cost over the events: at most one
// full pass per this many Apply calls.
const sweepEvery = 4096

var _ Store = (*Memory)(nil)

// Apply implements Store; it never fails.
func (s *Memory) Apply(_ context.Context, key string, ev Event) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]memRecord{}
	}
	if s.events++; s.events >= sweepEvery {
		s.events = 0
		for k, r := range s.m {
			if !ev.Now.Before(r.expires) {
				delete(s.m, k)
			}
		}
	}
	var prev *State
	if r, ok := s.m[key]; ok && ev.Now.Before(r.expires) {
		prev = &r.State
	}
	res, next := Step(prev, ev)
	if next != nil {
		s.m[key] = memRecord{State: *next, expires: ev.Now.Add(KeepFor(next.Rate, ev.Period))}
	}
	return res, nil
}

// Len is the number of records held (expired ones not yet swept
// included).
func (s *Memory) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
