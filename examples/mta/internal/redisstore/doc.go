// Package redisstore is what the instances of a reference-MTA cluster
// share through Redis (go-redis v9): the SRS database (SRS, Exim's
// SRS database mode, srs_redis), the per-client rate limits
// (RateLimit, a ratelimit.Store: Exim's ratelimit condition enforced
// across the cluster) and the DMARC history that aggregate reports are
// built from (History, Exim's dmarc_history_file). One *redis.Client
// (Open) serves all three.
//
// What is shared is what must be for the cluster to behave as one MTA:
// an SRS alias handed out by one instance is reversed by another, a
// client spreading its connections over the instances meets one limit,
// and a day's report covers every instance's mail. Everything else,
// above all each instance's spool, stays on the instance (see
// examples/mta/CLUSTER.md).
//
// Every operation is bounded (the client's timeouts, a context per
// operation where the interface has none), fails fast (one dial, one
// retry), and returns an error when Redis does not answer; the MTA
// turns that error into a 451 for the check that needed Redis, never
// into acceptance.
package redisstore
