// Package ratelimit is Exim's ratelimit ACL condition for the reference
// MTA: a client's sending rate, smoothed over a period, held in a store
// that several MTA instances can share (redisstore.RateLimit) so that a
// limit holds across a cluster whichever instance a client reaches.
//
// # The condition
//
// Exim writes the condition as
//
//	ratelimit = m / p / options / key
//
// and a Rule is its first three parts, parsed by ParseRule from the
// same text ("100 / 1h / strict"). m is the limit (a decimal number,
// with Exim's K, M or G suffix for 1024, 1024² and 1024³), p the
// smoothing period (an Exim time: 30s, 5m, 1h, 2d, 1w, or sums such
// as 1h30m). The options are Exim's words:
//
//	per_conn   count connections (checked when a client connects)
//	per_mail   count messages; the default (checked at MAIL)
//	per_rcpt   count recipients (checked at RCPT, one each)
//	per_byte   count bytes of the message (or of its SIZE=)
//	leaky      the default: a client over the limit is not recorded,
//	           so its rate falls back under the limit while it retries
//	strict     every attempt is recorded, so a client that keeps trying
//	           while over the limit stays over it
//	readonly   nothing is recorded and nothing counted (noupdate is
//	           Exim's older word for it, also accepted)
//	count=N    count N per event instead of 1 (or the byte count)
//
// per_cmd, per_addr and unique= are not implemented and are refused.
// The key, the fourth part in Exim, is not part of a Rule: the caller
// gives it to Limiter.Check (the MTA uses the client's IP address, an
// IPv6 client's /64, or the authenticated user), and, as in Exim, the
// stored key is "p/per_x/key", so two rules with different periods or
// measures never share a record.
//
// # The rate
//
// The rate is Exim's exponentially weighted moving average with a
// variable sampling interval (acl.c, acl_ratelimit). A key seen for the
// first time gets rate = count. After that, with i the seconds since
// the key was last recorded (clamped to 1e-9 when the clock went
// backwards, as Exim does),
//
//	a    = exp(-i / p)
//	rate = (1 - a) × count / (i / p) + a × previous rate
//	rate = max(rate, count)
//
// and the client is over the limit when rate ≥ m (at the limit counts
// as over, so m = 0 blocks everything). m is thus both the sustained
// rate per period and the largest burst: a client that has been quiet
// can send about m events at once. The new rate is recorded when the
// client is under the limit (leaky) or always (strict), never with
// readonly. Exim sets $sender_rate to the computed rate ("%.1f"), and
// $sender_rate_limit and $sender_rate_period to m and p as written;
// Decision carries the three strings, for the MTA's reply and log.
//
// Times are microseconds since the epoch, passed in by the caller
// (Limiter.Now): the shared store computes with the clock of the
// instance that asks, so instances whose clocks differ slightly only
// shorten or lengthen one interval, and a clock that goes backwards
// adds the event at the full instantaneous rate, as in Exim.
//
// # Stores
//
// A Store applies one event to one key atomically: Memory in this
// process (one instance), redisstore.RateLimit in Redis (a Lua script,
// so concurrent instances never lose an update). Both forget a key once
// its record can no longer change a result (KeepFor), so neither grows
// without bound. A store that fails (Redis down, a timeout) returns an
// error; the MTA then defers the check with 451 4.3.0, never accepts
// blindly, as Exim does when its ratelimit database cannot be opened.
package ratelimit
