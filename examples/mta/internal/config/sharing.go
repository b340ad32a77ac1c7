package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/ratelimit"
)

// sharing checks the keys of what a cluster's instances share: the
// Redis address, the rate-limit rules (Exim's syntax, each at its own
// point) and where the DMARC history goes.
func (c *checker) sharing() {
	s := c.s
	if s.Redis != "" {
		if err := checkRedisAddr(s.Redis); err != nil {
			c.bad("redis", "%v", err)
		}
	}
	c.positive("redis_timeout", int64(s.RedisTimeout))
	for _, key := range []string{"ratelimit_conn", "ratelimit_mail", "ratelimit_rcpt", "ratelimit_data"} {
		if _, err := s.RateLimitRule(key); err != nil {
			c.bad(key, "%v", err)
		}
	}
	if s.DMARCHistoryRedis {
		if s.Redis == "" {
			c.bad("dmarc_history_redis", "needs redis")
		}
		if s.DMARCHistory != "" {
			c.bad("dmarc_history_redis", "and dmarc_history: one history, in Redis or in the file")
		}
	}
}

// RateLimitRule parses the rule of ratelimit_conn, ratelimit_mail,
// ratelimit_rcpt or ratelimit_data; nil when the key is empty. A rule
// may name its point's per_* word (per_conn, per_mail, per_rcpt,
// per_byte) but no other.
func (s *Settings) RateLimitRule(key string) (*ratelimit.Rule, error) {
	var text string
	var want ratelimit.Measure
	switch key {
	case "ratelimit_conn":
		text, want = s.RateLimitConn, ratelimit.PerConn
	case "ratelimit_mail":
		text, want = s.RateLimitMail, ratelimit.PerMail
	case "ratelimit_rcpt":
		text, want = s.RateLimitRcpt, ratelimit.PerRcpt
	case "ratelimit_data":
		text, want = s.RateLimitData, ratelimit.PerByte
	default:
		return nil, fmt.Errorf("no rate limit key %q", key)
	}
	if text == "" {
		return nil, nil
	}
	r, err := ratelimit.ParseRule(text)
	if err != nil {
		return nil, err
	}
	if r.Measure != ratelimit.PerUnset && r.Measure != want {
		return nil, fmt.Errorf("%q: %s counts %s; leave the per_* word out", text, key, want)
	}
	r.Measure = want
	return r, nil
}

// checkRedisAddr accepts what redisstore.Options does: a redis://,
// rediss:// or unix:// URL, host:port or /socket. The URL's own
// options are go-redis's to check, at start.
func checkRedisAddr(a string) error {
	bad := fmt.Errorf("%q: want a redis://, rediss:// or unix:// URL, host:port or /socket", a)
	switch {
	case strings.Contains(a, "://"):
		u, err := url.Parse(a)
		if err != nil || u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix" {
			return bad
		}
		if u.Scheme == "unix" && u.Path == "" || u.Scheme != "unix" && u.Host == "" {
			return bad
		}
	case strings.HasPrefix(a, "/"):
	default:
		if h, _, err := net.SplitHostPort(a); err != nil || h == "" {
			return bad
		}
	}
	return nil
}
