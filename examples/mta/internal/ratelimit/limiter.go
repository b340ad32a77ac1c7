package ratelimit

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// Limiter checks rules against a Store.
type Limiter struct {
	Store Store
	Now   func() time.Time // nil: time.Now
}

// Decision is the outcome of one check, with Exim's three variables.
type Decision struct {
	Over bool
	Rate float64
	// SenderRate is $sender_rate ("%.1f" of Rate); SenderRateLimit
	// and SenderRatePeriod are $sender_rate_limit and
	// $sender_rate_period, the rule's m and p as written.
	SenderRate, SenderRateLimit, SenderRatePeriod string
	// Key is the stored key, "p/per_x/key" as Exim builds it.
	Key string
}

// Check counts one event of rule r for key (Exim's fourth part) and
// says whether the client is over the limit. n is what the event
// counts: 1 for a connection, a message or a recipient, the size in
// bytes for per_byte (0 when unknown, which lets the rate decay as if
// nothing happened, as in Exim). A rule's count= replaces n, readonly
// makes it 0. An error is the store's: the caller must not take it as
// under the limit.
func (l *Limiter) Check(ctx context.Context, r *Rule, key string, n float64) (Decision, error) {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	if r.HasCount {
		n = r.Count
	}
	if r.Mode == Readonly {
		n = 0
	}
	d := Decision{SenderRateLimit: r.LimitText, SenderRatePeriod: r.PeriodText,
		Key: r.PeriodText + "/" + r.Measure.String() + "/" + key}
	res, err := l.Store.Apply(ctx, d.Key, Event{Now: now(), Count: n, Period: r.Period, Limit: r.Limit, Mode: r.Mode})
	if err != nil {
		return d, fmt.Errorf("ratelimit %s: %w", d.Key, err)
	}
	d.Over, d.Rate = res.Over, res.Rate
	d.SenderRate = strconv.FormatFloat(res.Rate, 'f', 1, 64)
	return d, nil
}

// HostKey is the key of a client address: the address itself for IPv4
// (an IPv4-mapped IPv6 address as IPv4), its /64 for IPv6, where one
// site usually holds a whole /64 and could otherwise walk through it.
func HostKey(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.WithZone("").Prefix(64)
		return p.String()
	}
	return a.String()
}
