package config

import (
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/ratelimit"
)

func TestValidateSharing(t *testing.T) {
	for _, c := range []struct {
		name string
		set  func(*Settings)
		key  string // "": valid
		msg  string
	}{
		{"redis URL", func(s *Settings) { s.Redis = "redis://127.0.0.1:6379/0" }, "", ""},
		{"redis TLS URL", func(s *Settings) { s.Redis = "rediss://user:pw@redis.example:6380/2" }, "", ""},
		{"redis unix URL", func(s *Settings) { s.Redis = "unix:///run/redis.sock?db=1" }, "", ""},
		{"redis host:port", func(s *Settings) { s.Redis = "[::1]:6379" }, "", ""},
		{"redis socket", func(s *Settings) { s.Redis = "/run/redis.sock" }, "", ""},
		{"redis bad scheme", func(s *Settings) { s.Redis = "http://127.0.0.1:6379" }, "redis", "want a redis://"},
		{"redis no host", func(s *Settings) { s.Redis = "redis:///0" }, "redis", "want a redis://"},
		{"redis bare name", func(s *Settings) { s.Redis = "redis" }, "redis", "host:port or /socket"},
		{"redis_timeout", func(s *Settings) { s.RedisTimeout = 0 }, "redis_timeout", "positive"},
		{"srs_redis URL", func(s *Settings) { s.SRSSecret, s.SRSRedis = []string{"k"}, "redis://10.0.0.1:6379/3" }, "", ""},
		{"ratelimit_conn", func(s *Settings) { s.RateLimitConn = "20 / 1m" }, "", ""},
		{"ratelimit_mail strict", func(s *Settings) { s.RateLimitMail = "100 / 1h / strict" }, "", ""},
		{"ratelimit_rcpt own word", func(s *Settings) { s.RateLimitRcpt = "1000 / 1d / per_rcpt" }, "", ""},
		{"ratelimit_mail other word", func(s *Settings) { s.RateLimitMail = "100 / 1h / per_rcpt" }, "ratelimit_mail", "leave the per_* word out"},
		{"ratelimit_conn syntax", func(s *Settings) { s.RateLimitConn = "20 per minute" }, "ratelimit_conn", "ratelimit syntax"},
		{"ratelimit_rcpt period", func(s *Settings) { s.RateLimitRcpt = "20 / 0s" }, "ratelimit_rcpt", "time value"},
		{"ratelimit_data", func(s *Settings) { s.RateLimitData = "100M / 1d / per_byte" }, "", ""},
		{"ratelimit_data other word", func(s *Settings) { s.RateLimitData = "100 / 1d / per_mail" }, "ratelimit_data", "leave the per_* word out"},
		{"history in redis", func(s *Settings) { s.Redis, s.DMARCHistoryRedis = "127.0.0.1:6379", true }, "", ""},
		{"history in redis without it", func(s *Settings) { s.DMARCHistoryRedis = true }, "dmarc_history_redis", "needs redis"},
		{"two histories", func(s *Settings) {
			s.Redis, s.DMARCHistoryRedis, s.DMARCHistory = "127.0.0.1:6379", true, "/var/spool/mta/history"
		}, "dmarc_history_redis", "one history"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := mustParse(t)
			c.set(&s)
			err := s.Validate()
			kes := keyErrors(t, err)
			if c.key == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			ke := hasKey(kes, c.key)
			if ke == nil || !strings.Contains(ke.Error(), c.msg) || len(kes) != 1 {
				t.Fatalf("got %v, want one error for %s: …%s…", err, c.key, c.msg)
			}
		})
	}
}

// The keys come from the file and the flags like any other, and the
// rules parse with their point's measure.
func TestSharingKeys(t *testing.T) {
	p := writeFile(t, "mta.toml", "redis = \"redis://127.0.0.1:6379/0\"\nratelimit_mail = \"100 / 1h\"\ndmarc_history_redis = true\n")
	s := mustParse(t, "-config", p, "-ratelimit-conn", "20 / 1m / strict", "-redis-timeout", "500ms")
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.Redis != "redis://127.0.0.1:6379/0" || !s.DMARCHistoryRedis || s.RedisTimeout != 500*time.Millisecond || s.RedisPrefix != "mailpolicy:" {
		t.Fatalf("%q %v %v %q", s.Redis, s.DMARCHistoryRedis, s.RedisTimeout, s.RedisPrefix)
	}
	conn, err := s.RateLimitRule("ratelimit_conn")
	if err != nil || conn.Limit != 20 || conn.Period != time.Minute || conn.Mode != ratelimit.Strict || conn.Measure != ratelimit.PerConn {
		t.Fatalf("conn: %+v %v", conn, err)
	}
	mail, _ := s.RateLimitRule("ratelimit_mail")
	if mail == nil || mail.Measure != ratelimit.PerMail || mail.Limit != 100 {
		t.Fatalf("mail: %+v", mail)
	}
	if rcpt, err := s.RateLimitRule("ratelimit_rcpt"); rcpt != nil || err != nil {
		t.Fatalf("rcpt: %+v %v", rcpt, err)
	}
	s.RateLimitData = "2M / 1h"
	if data, err := s.RateLimitRule("ratelimit_data"); err != nil || data.Measure != ratelimit.PerByte || data.Limit != 2<<20 {
		t.Fatalf("data: %+v %v", data, err)
	}
	if _, err := s.RateLimitRule("ratelimit_bytes"); err == nil {
		t.Error("unknown key accepted")
	}
}
