package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mailpolicy/mailpolicy/srs"
)

// maxSRSValue bounds a stored original sender: one is at most a few
// hundred octets, so anything near this is not one.
const maxSRSValue = 64 << 10

// SRS is an srs.Store in Redis (SRS database mode, srs_redis). Keys are
// prefix + the key the srs package chooses; values are the original
// senders, stored as given. Expiry is Redis's own (SET ... PX), from
// the expires time given to Put against the local clock; Get does not
// consult its now argument, Redis has already dropped an expired key.
//
// srs.Store has no context, so each operation gets its own deadline
// (timeout): a dead or silent Redis ends in an error within it, which
// the MTA answers with 451 (at RCPT for a reverse, at the end of DATA
// for a forward), never with acceptance.
type SRS struct {
	c       *redis.Client
	prefix  string
	timeout time.Duration
	now     func() time.Time // the clock for the PX computation
}

var _ srs.Store = (*SRS)(nil)

// NewSRS returns the store on c; timeout bounds each operation.
func NewSRS(c *redis.Client, prefix string, timeout time.Duration) *SRS {
	return &SRS{c: c, prefix: prefix, timeout: timeout, now: time.Now}
}

// Put implements srs.Store: SET prefix+key original PX ttl. An expiry
// that is not in the future deletes the key instead: it must neither
// be stored forever nor resolve.
func (s *SRS) Put(key, original string, expires time.Time) error {
	if len(original) > maxSRSValue {
		return fmt.Errorf("redis: SRS value of %d octets (max %d)", len(original), maxSRSValue)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	ttl := expires.Sub(s.now())
	if ttl <= 0 {
		return wrap(s.c.Del(ctx, s.prefix+key).Err())
	}
	ttl = (ttl + time.Millisecond - 1).Truncate(time.Millisecond) // round up: never 0
	return wrap(s.c.Set(ctx, s.prefix+key, original, ttl).Err())
}

// Get implements srs.Store: GET prefix+key; a missing key is ok=false.
func (s *SRS) Get(key string, _ time.Time) (string, bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	v, err := s.c.Get(ctx, s.prefix+key).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, wrap(err)
	}
	return v, true, nil
}

// wrap names Redis in errors that do not say so already (a dial error
// is a bare *net.OpError).
func wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("redis: %w", err)
}
