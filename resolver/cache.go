package resolver

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// maxCacheTTL caps how long anything is kept, whatever a zone says: a
// record with a TTL of weeks would otherwise outlive a key rotation or a
// changed policy by that long.
const maxCacheTTL = 24 * time.Hour

// WithCache keeps up to entries answers in memory: positive answers for
// the smallest TTL among their records, NXDOMAIN and NODATA for the
// negative TTL of RFC 2308 (the smaller of the SOA record's TTL and its
// MINIMUM field; a denial without SOA is not cached), never longer than a
// day. The authentic flag is stored with each answer. Temporary and
// permanent failures are not cached. When the cache is full the least
// recently used entry goes. Concurrent identical queries (same name and
// type) are collapsed into one on the wire.
func WithCache(entries int) Option {
	return func(c *Resolver) {
		if entries <= 0 {
			c.fail(fmt.Errorf("WithCache: %d entries is not positive", entries))
			return
		}
		c.cache = newCache(entries, time.Now)
	}
}

type cacheKey struct {
	name  string // canonical, lower case, with trailing dot
	qtype uint16
}

type cacheEntry struct {
	key     cacheKey
	resp    *Response
	err     *Error // ErrNotFound or ErrNoData for denials, else nil
	expires time.Time
}

// flight is a query on the wire that later identical queries wait for.
type flight struct {
	done chan struct{}
	resp *Response
	err  error
	// abandoned: the query ended because the leader's own context was
	// cancelled or ran out, which says nothing about the answer.
	abandoned bool
}

type cache struct {
	max int
	now func() time.Time

	mu       sync.Mutex
	lru      *list.List // of *cacheEntry, most recently used first
	items    map[cacheKey]*list.Element
	inflight map[cacheKey]*flight
}

func newCache(entries int, now func() time.Time) *cache {
	return &cache{
		max:      entries,
		now:      now,
		lru:      list.New(),
		items:    make(map[cacheKey]*list.Element),
		inflight: make(map[cacheKey]*flight),
	}
}

// query answers from the cache, joins an identical query in flight, or
// asks the servers and stores what they said.
func (k *cache) query(ctx context.Context, r *Resolver, qname string, qtype uint16) (*Response, error) {
	key := cacheKey{strings.ToLower(qname), qtype}
	for {
		k.mu.Lock()
		if e, ok := k.get(key); ok {
			k.mu.Unlock()
			r.stats.hits.Add(1)
			if e.err != nil {
				return e.resp, e.err
			}
			return e.resp, nil
		}
		if f, ok := k.inflight[key]; ok {
			k.mu.Unlock()
			r.stats.collapsed.Add(1)
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, r.ctxError(qname, qtype, "", ctx.Err())
			}
			// The leader's own deadline or cancellation says nothing
			// about ours: ask again. The Resolver's timeout (WithTimeout)
			// running out is a real answer, shared like any other; asking
			// again would make each follower wait one more timeout.
			if f.abandoned && ctxDone(ctx) == nil {
				continue
			}
			return f.resp, f.err
		}
		f := &flight{done: make(chan struct{})}
		k.inflight[key] = f
		k.mu.Unlock()
		r.stats.misses.Add(1)

		f.resp, f.err = r.exchange(ctx, qname, qtype)
		f.abandoned = isContextError(f.err) && ctxDone(ctx) != nil
		k.mu.Lock()
		delete(k.inflight, key)
		k.store(key, f.resp, f.err)
		k.mu.Unlock()
		close(f.done)
		return f.resp, f.err
	}
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// get returns a fresh entry and marks it used; an expired one is dropped.
func (k *cache) get(key cacheKey) (*cacheEntry, bool) {
	el, ok := k.items[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if !k.now().Before(e.expires) {
		k.lru.Remove(el)
		delete(k.items, key)
		return nil, false
	}
	k.lru.MoveToFront(el)
	return e, true
}

// store keeps an answer or a denial for its TTL.
func (k *cache) store(key cacheKey, resp *Response, err error) {
	if resp == nil || resp.Msg == nil {
		return // failures are not cached
	}
	var qerr *Error
	if err != nil {
		if !errors.As(err, &qerr) || (qerr.Kind != ErrNotFound && qerr.Kind != ErrNoData) {
			return
		}
	}
	ttl, ok := positiveTTL(resp)
	if qerr != nil {
		ttl, ok = negativeTTL(resp.Msg)
	}
	if !ok || ttl <= 0 {
		return
	}
	e := &cacheEntry{key: key, resp: resp, err: qerr, expires: k.now().Add(min(ttl, maxCacheTTL))}
	if el, ok := k.items[key]; ok {
		el.Value = e
		k.lru.MoveToFront(el)
		return
	}
	k.items[key] = k.lru.PushFront(e)
	for k.lru.Len() > k.max {
		old := k.lru.Back()
		k.lru.Remove(old)
		delete(k.items, old.Value.(*cacheEntry).key)
	}
}

func (k *cache) len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.lru.Len()
}

// positiveTTL is the smallest TTL of the records the answer was built
// from, CNAMEs on the way included.
func positiveTTL(resp *Response) (time.Duration, bool) {
	if len(resp.Answer) == 0 {
		return 0, false
	}
	ttl := ^uint32(0)
	for _, rr := range resp.Answer {
		ttl = min(ttl, rr.Header().Ttl)
	}
	for _, rr := range resp.Msg.Answer {
		if c, ok := rr.(*dns.CNAME); ok {
			ttl = min(ttl, c.Hdr.Ttl)
		}
	}
	return time.Duration(ttl) * time.Second, true
}

// negativeTTL is RFC 2308 section 5's: the SOA in the authority section,
// the smaller of its own TTL and its MINIMUM field.
func negativeTTL(m *dns.Msg) (time.Duration, bool) {
	for _, rr := range m.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return time.Duration(min(soa.Hdr.Ttl, soa.Minttl)) * time.Second, true
		}
	}
	return 0, false
}
