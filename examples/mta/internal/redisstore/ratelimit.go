package redisstore

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/ratelimit"
)

// rateScript is ratelimit.Step in Lua, run by Redis as one atomic
// step, so two instances counting the same client never both read the
// old record. KEYS[1] is the record, a hash of r (the rate, "%.17g" so
// it reads back exactly) and t (microseconds since the epoch, the
// caller's clock). ARGV: now in microseconds, count, period in seconds,
// limit, mode ("leaky", "strict" or "readonly"). It returns the rate as
// a string (Redis would truncate a Lua number to an integer) and 1 when
// over the limit. A recorded key gets ratelimit.KeepFor as its PEXPIRE,
// computed the same way.
var rateScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
local mode = ARGV[5]
local rec = redis.call('HMGET', KEYS[1], 'r', 't')
local rate = count
if rec[1] and rec[2] then
  local interval = (now - tonumber(rec[2])) / 1e6
  if interval <= 0 then interval = 1e-9 end
  local iop = interval / period
  local a = math.exp(-iop)
  rate = (1 - a) * count / iop + a * tonumber(rec[1])
  if rate < count then rate = count end
end
local over = rate >= limit
if mode == 'strict' or (mode == 'leaky' and not over) then
  redis.call('HSET', KEYS[1], 'r', string.format('%.17g', rate), 't', ARGV[1])
  local x = math.log(2 * math.max(rate, 1))
  if x < 2 then x = 2 end
  local ms = math.ceil(x * period * 1000)
  if ms > 1e15 then ms = 1e15 end
  redis.call('PEXPIRE', KEYS[1], string.format('%d', ms))
end
local o = 0
if over then o = 1 end
return {string.format('%.17g', rate), o}
`)

// RateLimit is a ratelimit.Store in Redis shared by every instance:
// records are prefix+"ratelimit:"+key. Apply takes the caller's
// context; the MTA bounds it with its policy timeout, and the client's
// own timeouts bound each read and write.
type RateLimit struct {
	c      *redis.Client
	prefix string
}

var _ ratelimit.Store = (*RateLimit)(nil)

// NewRateLimit returns the store on c.
func NewRateLimit(c *redis.Client, prefix string) *RateLimit {
	return &RateLimit{c: c, prefix: prefix + "ratelimit:"}
}

// Apply implements ratelimit.Store with rateScript (EVALSHA, loading
// the script when Redis does not have it yet).
func (s *RateLimit) Apply(ctx context.Context, key string, ev ratelimit.Event) (ratelimit.Result, error) {
	args := []any{
		strconv.FormatInt(ev.Now.UnixMicro(), 10),
		strconv.FormatFloat(ev.Count, 'g', -1, 64),
		strconv.FormatFloat(ev.Period.Seconds(), 'g', -1, 64),
		strconv.FormatFloat(ev.Limit, 'g', -1, 64),
		ev.Mode.String(),
	}
	v, err := rateScript.Run(ctx, s.c, []string{s.prefix + key}, args...).Slice()
	if err != nil {
		return ratelimit.Result{}, wrap(err)
	}
	if len(v) != 2 {
		return ratelimit.Result{}, fmt.Errorf("redis: rate limit script returned %d values", len(v))
	}
	rs, ok1 := v[0].(string)
	over, ok2 := v[1].(int64)
	rate, err := strconv.ParseFloat(rs, 64)
	if !ok1 || !ok2 || err != nil {
		return ratelimit.Result{}, fmt.Errorf("redis: rate limit script returned %v", v)
	}
	return ratelimit.Result{Rate: rate, Over: over == 1}, nil
}
