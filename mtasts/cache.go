package mtasts

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/mailpolicy/mailpolicy/resolver"
)

// Defaults of a Cache.
const (
	// DefaultRefreshInterval is RFC 8461 §5.1's suggested frequency of
	// proactive refresh: once a day.
	DefaultRefreshInterval = 24 * time.Hour
	DefaultMaxEntries      = 10000
)

// Cache is the sender's policy cache of RFC 8461 §5.1, keyed by policy
// domain. Get looks the TXT record up every time and fetches the
// policy only when there is none cached, the record's id changed, the
// cached one expired, or it was fetched more than RefreshInterval ago
// (refresh before expiry, so that an attacker who blocks the TXT record
// cannot wait for the policy to run out). When the record or the fetch
// fails, an unexpired cached policy is used. Every field is optional;
// set them before the first use. It is safe for concurrent use, and
// concurrent Gets of one domain make one fetch.
type Cache struct {
	Resolver Resolver // nil: resolver.Default()
	Fetcher  *Fetcher // nil: a zero Fetcher
	Now      func() time.Time
	// File keeps the cache across restarts: read on first use (or by
	// Load) and rewritten (a temporary file renamed over it) after each
	// change. "" keeps it in memory only.
	File string
	// RefreshInterval (0: DefaultRefreshInterval) and MaxEntries (0:
	// DefaultMaxEntries; the entries expiring first go).
	RefreshInterval time.Duration
	MaxEntries      int
	// ErrorLog receives the errors of reading and writing File, which
	// do not stop the cache; nil drops them.
	ErrorLog func(error)

	mu       sync.Mutex
	loadOnce sync.Once
	entries  map[string]*entry
	flights  map[string]*flight
	saveMu   sync.Mutex // orders writes of File
	gen      uint64     // bumped on every change, so a stale snapshot is not written last
	saved    uint64
}

// entry is one cached policy.
type entry struct {
	id      string
	policy  *Policy
	fetched time.Time
	expires time.Time
}

// flight is a fetch in progress, which concurrent Gets wait for.
type flight struct {
	done    chan struct{}
	policy  *Policy
	err     error
	waiters int // Gets waiting for it (tests read it)
}

// Result is the policy that applies to a domain now.
type Result struct {
	Domain string
	// Policy is nil when none applies: no record, or no policy could
	// be fetched and none is cached. A policy in mode none is returned
	// as such; Enforce and Testing say whether it asks for anything.
	Policy *Policy
	// ID is the record id the policy was fetched under.
	ID               string
	Fetched, Expires time.Time
	// Cached: the policy came from the cache, not from this call's
	// fetch.
	Cached bool
	// Err is why no fresh policy was had: the TXT lookup or the fetch
	// failed (errors.As for *FetchError, *SyntaxError; errors.Is for
	// ErrNoRecord, ErrMultipleRecords, resolver.ErrTemporary). With
	// Policy set, the cached policy was used in spite of it.
	Err error
}

// Enforce reports whether an enforce policy applies.
func (r *Result) Enforce() bool { return r.Policy != nil && r.Policy.Mode == ModeEnforce }

// Testing reports whether a testing policy applies.
func (r *Result) Testing() bool { return r.Policy != nil && r.Policy.Mode == ModeTesting }

// FetchFailed reports whether the domain has a record but no policy
// could be fetched (RFC 8460's sts-policy-fetch-error,
// sts-policy-invalid or sts-webpki-invalid), whether or not a cached
// one was used instead.
func (r *Result) FetchFailed() bool {
	var fe *FetchError
	return errors.As(r.Err, &fe)
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Cache) refreshInterval() time.Duration {
	if c.RefreshInterval > 0 {
		return c.RefreshInterval
	}
	return DefaultRefreshInterval
}

func (c *Cache) fetcher() *Fetcher {
	if c.Fetcher != nil {
		return c.Fetcher
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Fetcher == nil {
		c.Fetcher = &Fetcher{}
	}
	return c.Fetcher
}

func (c *Cache) resolver() Resolver {
	if c.Resolver != nil {
		return c.Resolver
	}
	return resolver.Default()
}

// Get returns the policy that applies to domain (RFC 8461 §5.1's
// getPolicy). It always returns a Result.
func (c *Cache) Get(ctx context.Context, domain string) *Result {
	d, err := normalizeDomain(domain)
	if err != nil {
		return &Result{Domain: domain, Err: err}
	}
	c.ensureLoaded()
	rec, lerr := LookupRecord(ctx, c.resolver(), d)
	now := c.now()
	e := c.lookup(d, now)
	switch {
	case lerr != nil:
		return e.result(d, lerr)
	case e != nil && e.id == rec.ID && now.Sub(e.fetched) < c.refreshInterval():
		return e.result(d, nil)
	}
	p, ferr := c.fetch(ctx, d)
	if ferr != nil {
		return e.result(d, ferr)
	}
	fresh := &entry{id: rec.ID, policy: p, fetched: now, expires: now.Add(p.MaxAge)}
	c.store(d, fresh)
	r := fresh.result(d, nil)
	r.Cached = false
	return r
}

// result is the Result for a cached entry (nil: no policy), with err
// as the reason no fresh one was had.
func (e *entry) result(domain string, err error) *Result {
	if e == nil {
		return &Result{Domain: domain, Err: err}
	}
	return &Result{Domain: domain, Policy: e.policy, ID: e.id, Fetched: e.fetched, Expires: e.expires, Cached: true, Err: err}
}

// lookup is the unexpired entry for domain, or nil.
func (c *Cache) lookup(domain string, now time.Time) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[domain]
	if e == nil || !now.Before(e.expires) {
		return nil
	}
	return e
}

// fetch fetches domain's policy, or waits for the fetch another Get is
// making (and for ctx).
func (c *Cache) fetch(ctx context.Context, domain string) (*Policy, error) {
	c.mu.Lock()
	if f, ok := c.flights[domain]; ok {
		f.waiters++
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.policy, f.err
		case <-ctx.Done():
			return nil, &FetchError{Domain: domain, URL: "https://mta-sts." + domain + WellKnownPath, Reason: ReasonTimeout, Err: ctx.Err()}
		}
	}
	if c.flights == nil {
		c.flights = map[string]*flight{}
	}
	f := &flight{done: make(chan struct{})}
	c.flights[domain] = f
	c.mu.Unlock()

	f.policy, f.err = c.fetcher().Fetch(ctx, domain)

	c.mu.Lock()
	delete(c.flights, domain)
	c.mu.Unlock()
	close(f.done)
	return f.policy, f.err
}

// store caches e for domain, makes room, and writes the file.
func (c *Cache) store(domain string, e *entry) {
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]*entry{}
	}
	c.entries[domain] = e
	c.prune(e.fetched)
	c.gen++
	c.mu.Unlock()
	c.save()
}

// prune drops expired entries when the cache is over MaxEntries, then
// those expiring first. c.mu is held.
func (c *Cache) prune(now time.Time) {
	max := c.MaxEntries
	if max <= 0 {
		max = DefaultMaxEntries
	}
	if len(c.entries) <= max {
		return
	}
	for d, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, d)
		}
	}
	for len(c.entries) > max {
		var first string
		var at time.Time
		for d, e := range c.entries {
			if first == "" || e.expires.Before(at) {
				first, at = d, e.expires
			}
		}
		delete(c.entries, first)
	}
}

// Len is the number of cached policies, expired ones included.
func (c *Cache) Len() int {
	c.ensureLoaded()
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Refresh is the proactive refresh of RFC 8461 §5.1 for a background
// loop: every cached, unexpired policy fetched more than
// RefreshInterval ago goes through Get again (expired ones are
// dropped). It returns how many were refreshed, and stops early when
// ctx ends.
func (c *Cache) Refresh(ctx context.Context) int {
	c.ensureLoaded()
	now := c.now()
	var due []string
	c.mu.Lock()
	for d, e := range c.entries {
		switch {
		case !now.Before(e.expires):
			delete(c.entries, d)
			c.gen++
		case now.Sub(e.fetched) >= c.refreshInterval():
			due = append(due, d)
		}
	}
	c.mu.Unlock()
	n := 0
	for _, d := range due {
		if ctx.Err() != nil {
			break
		}
		if r := c.Get(ctx, d); !r.Cached {
			n++
		}
	}
	c.save()
	return n
}
