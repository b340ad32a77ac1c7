package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Key prefixes: DefaultPrefix is the redis_prefix default, under which
// the rate limits ("ratelimit:") and the DMARC history ("dmarc:") live;
// DefaultSRSPrefix is srs_redis_prefix's, kept from the SRS-only store
// so that its keys survive the move to a shared Redis.
const (
	DefaultPrefix    = "mailpolicy:"
	DefaultSRSPrefix = "mailpolicy:srs:"
)

// Options turns an address into go-redis options: a URL
// ("redis://[user:password@]host:port/db", "rediss://" for TLS,
// "unix:///path/redis.sock?db=N"), or the forms srs_redis has always
// taken, "host:port" and "/path/redis.sock". timeout bounds dialling,
// each read and write, and the wait for a pooled connection.
//
// Failing fast matters more here than riding out a blip: every caller
// is an SMTP command waiting for a decision, and a Redis that does not
// answer must become a 451 within the timeout, not after retries and
// backoffs. So one dial attempt, one retry of a command (on a fresh
// connection, for a connection Redis closed while idle), no
// CLIENT SETINFO (Redis 7.0 does not know it) and no maintenance
// notifications (a Redis Cloud feature).
func Options(addr string, timeout time.Duration) (*redis.Options, error) {
	if timeout <= 0 {
		return nil, errors.New("the Redis timeout must be positive")
	}
	var o *redis.Options
	switch {
	case addr == "":
		return nil, errors.New("empty Redis address")
	case strings.Contains(addr, "://"):
		var err error
		if o, err = redis.ParseURL(addr); err != nil {
			return nil, fmt.Errorf("Redis URL %q: %w", addr, err)
		}
	case strings.HasPrefix(addr, "/"):
		o = &redis.Options{Network: "unix", Addr: addr}
	default:
		h, p, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("Redis address %q: want a redis:// URL, host:port or /socket", addr)
		}
		if n, err := strconv.Atoi(p); h == "" || err != nil || n <= 0 || n > 65535 {
			return nil, fmt.Errorf("Redis address %q: want a redis:// URL, host:port or /socket", addr)
		}
		o = &redis.Options{Addr: addr}
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = timeout, timeout, timeout, timeout
	o.ContextTimeoutEnabled = true
	o.DialerRetries = 1
	o.MaxRetries = 1
	o.DisableIdentity = true
	o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return o, nil
}

// Open returns a client for addr (see Options). Nothing is dialled
// until the first command; the client is safe for concurrent use and
// is shared by every store of the process. Close it after them.
func Open(addr string, timeout time.Duration) (*redis.Client, error) {
	o, err := Options(addr, timeout)
	if err != nil {
		return nil, err
	}
	return redis.NewClient(o), nil
}

// LogTo sends go-redis's own messages (a failed dial, a pool problem)
// to l at debug level, instead of the standard logger's stderr: every
// failure also comes back as an error to the store's caller, which
// logs it with the session it concerns. go-redis has one logger per
// process, so this is the program's choice, made once at start.
func LogTo(l *slog.Logger) { redis.SetLogger(slogger{l}) }

type slogger struct{ l *slog.Logger }

func (s slogger) Printf(ctx context.Context, format string, v ...any) {
	s.l.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}
