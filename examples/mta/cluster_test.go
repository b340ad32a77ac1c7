package main

import (
	"testing"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/ratelimit"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/redisstore"
)

// build wires the sharing keys (CLUSTER.md): rate limits on the
// in-process store without redis and on Redis with it, each rule at its
// point; the DMARC history in Redis. Nothing is dialled at build, so no
// Redis is needed here (cluster_interop_test.go runs the real thing).
func TestClusterBuild(t *testing.T) {
	c := buildFrom(t, "-ratelimit-mail", "5 / 1h", "-ratelimit-rcpt", "50 / 1h / strict").srv.Config()
	rl := c.RateLimits
	if rl == nil || rl.Conn != nil || rl.Mail.Limit != 5 || rl.Mail.Measure != ratelimit.PerMail ||
		rl.Rcpt.Mode != ratelimit.Strict || rl.Rcpt.Measure != ratelimit.PerRcpt {
		t.Fatalf("rate limits: %+v", rl)
	}
	if _, ok := rl.Limiter.Store.(*ratelimit.Memory); !ok {
		t.Errorf("without redis the store is %T", rl.Limiter.Store)
	}
	if rl.Data != nil {
		t.Errorf("per_byte without ratelimit_data: %+v", rl.Data)
	}
	if d := buildFrom(t, "-ratelimit-data", "10M / 1d").srv.Config().RateLimits; d == nil || d.Data == nil || d.Data.Measure != ratelimit.PerByte || d.Data.Limit != 10<<20 {
		t.Errorf("ratelimit_data alone: %+v", d)
	}
	if c.History != nil {
		t.Errorf("history without a key: %T", c.History)
	}
	c = buildFrom(t, "-redis", "redis://127.0.0.1:1/0", "-ratelimit-conn", "20 / 1m", "-dmarc-history-redis",
		"-srs-secret", "k").srv.Config()
	if _, ok := c.RateLimits.Limiter.Store.(*redisstore.RateLimit); !ok || c.RateLimits.Conn.Measure != ratelimit.PerConn {
		t.Errorf("with redis: %T %+v", c.RateLimits.Limiter.Store, c.RateLimits.Conn)
	}
	if c.History == nil || c.SRS == nil {
		t.Errorf("history %v, SRS %v", c.History, c.SRS)
	}
	if c := buildFrom(t).srv.Config(); c.RateLimits != nil {
		t.Errorf("rate limits by default: %+v", c.RateLimits)
	}
	usageError(t, "-dmarc-history-redis: needs redis", "-dmarc-history-redis")
	usageError(t, "-ratelimit-conn: ratelimit syntax", "-ratelimit-conn", "20 per minute")
}
