package resolver

import "sync/atomic"

// Stats are a Resolver's counters since New, for metrics.
type Stats struct {
	// Queries counts lookups sent to the servers (a retry or the TCP
	// fallback of one lookup is not counted again).
	Queries uint64
	// CacheHits counts queries answered from the cache.
	CacheHits uint64
	// CacheMisses counts queries the cache had to send.
	CacheMisses uint64
	// Collapsed counts queries that waited for an identical one already
	// on the wire instead of sending their own.
	Collapsed uint64
	// CacheEntries is the number of answers held now.
	CacheEntries int
}

type counters struct {
	queries, hits, misses, collapsed atomic.Uint64
}

// Stats returns the counters. They are read one by one, so under load
// they may be a moment apart from each other.
func (c *Resolver) Stats() Stats {
	s := Stats{
		Queries:     c.stats.queries.Load(),
		CacheHits:   c.stats.hits.Load(),
		CacheMisses: c.stats.misses.Load(),
		Collapsed:   c.stats.collapsed.Load(),
	}
	if c.cache != nil {
		s.CacheEntries = c.cache.len()
	}
	return s
}
