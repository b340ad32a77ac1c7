package mta

// The rate limits through the MTA on the wire, with the in-process
// store (the Redis store across instances is in ratelimit_interop_test.go
// and the cluster test): per_conn at connect, per_mail at MAIL,
// per_rcpt at RCPT, a failing store deferring each, and a failing DMARC
// history counted while the message goes through.

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/metrics"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/ratelimit"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/smtpd"
)

func mustRule(t testing.TB, s string) *ratelimit.Rule {
	t.Helper()
	r, err := ratelimit.ParseRule(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rlClock is a clock the test moves, and that moves a millisecond at
// each reading, so that a burst's k-th event has a rate just under k
// (at one instant, Exim's 1e-9 s clamp leaves rounding noise around
// the whole numbers).
type rlClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *rlClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Millisecond)
	return c.now
}

func (c *rlClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func startRateLimited(t *testing.T, store ratelimit.Store, conn, mail, rcpt string) (*testServer, *metrics.Metrics, *rlClock) {
	t.Helper()
	clk := &rlClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	rl := &RateLimits{Limiter: &ratelimit.Limiter{Store: store, Now: clk.Now}}
	for _, p := range []struct {
		dst **ratelimit.Rule
		s   string
	}{{&rl.Conn, conn}, {&rl.Mail, mail}, {&rl.Rcpt, rcpt}} {
		if p.s != "" {
			*p.dst = mustRule(t, p.s)
		}
	}
	m := metrics.New()
	ts := start(t, func(c *Config) { c.RateLimits = rl; c.Metrics = m })
	return ts, m, clk
}

func TestRateLimitConnect(t *testing.T) {
	ts, m, clk := startRateLimited(t, &ratelimit.Memory{}, "3 / 1h", "", "")
	for i := range 3 {
		if _, _, line := dialFrom(t, "127.0.0.1", ts.addr); !strings.HasPrefix(line, "220 ") {
			t.Fatalf("connection %d: %q", i, line)
		}
	}
	_, r, line := dialFrom(t, "127.0.0.1", ts.addr)
	if line != "421 4.7.1 mx.example Sender rate exceeds 3 connections per 1h\r\n" {
		t.Errorf("fourth connection: %q", line)
	}
	if rest, err := r.ReadString('\n'); err == nil {
		t.Errorf("not closed after 421: %q", rest)
	}
	// Another client address is another key.
	if _, _, line := dialFrom(t, "127.0.0.2", ts.addr); !strings.HasPrefix(line, "220 ") {
		t.Errorf("other client: %q", line)
	}
	// An hour later the rate has decayed under the limit (leaky: the
	// refused connection was not recorded).
	clk.advance(time.Hour)
	if _, _, line := dialFrom(t, "127.0.0.1", ts.addr); !strings.HasPrefix(line, "220 ") {
		t.Errorf("an hour later: %q", line)
	}
	if n := sample(t, m, "mta_ratelimit_checks_total", "check=conn", "result=over"); n != 1 {
		t.Errorf("over: %v", n)
	}
	if n := sample(t, m, "mta_ratelimit_checks_total", "check=conn", "result=ok"); n != 5 {
		t.Errorf("ok: %v", n)
	}
	if n := sample(t, m, "mta_connections_refused_total", "reason=ratelimit"); n != 1 {
		t.Errorf("refused: %v", n)
	}
}

func TestRateLimitMailAndRcpt(t *testing.T) {
	ts, m, _ := startRateLimited(t, &ratelimit.Memory{}, "", "2 / 1h", "3 / 1h / strict")
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	c.ok("MAIL FROM:<a@sender.test>", 250)
	c.ok("RSET", 250)
	c.ok("MAIL FROM:<a@sender.test>", 250)
	// A recipient routing refuses is not counted.
	if code, _ := c.cmd("RCPT TO:<x@remote.test>"); code != 550 {
		t.Fatalf("relay: %d", code)
	}
	for i := range 3 {
		if code, msg := c.cmd("RCPT TO:<r" + string(rune('0'+i)) + "@example.com>"); code != 250 {
			t.Fatalf("RCPT %d: %d %s", i, code, msg)
		}
	}
	if msg := c.ok("RCPT TO:<r3@example.com>", 451); msg != "4.7.1 Sender rate exceeds 3 recipients per 1h" {
		t.Errorf("fourth RCPT: %q", msg)
	}
	c.ok("RSET", 250)
	if msg := c.ok("MAIL FROM:<a@sender.test>", 451); msg != "4.7.1 Sender rate exceeds 2 messages per 1h" {
		t.Errorf("third MAIL: %q", msg)
	}
	if n := sample(t, m, "mta_ratelimit_checks_total", "check=rcpt", "result=ok"); n != 3 {
		t.Errorf("rcpt ok: %v", n)
	}
	if n := sample(t, m, "mta_ratelimit_checks_total", "check=mail", "result=over"); n != 1 {
		t.Errorf("mail over: %v", n)
	}
}

type downStore struct{}

func (downStore) Apply(context.Context, string, ratelimit.Event) (ratelimit.Result, error) {
	return ratelimit.Result{}, errors.New("connection refused")
}

// A store that does not answer defers every check: 421 4.3.0 at
// connect, 451 4.3.0 at MAIL and RCPT, never a pass.
func TestRateLimitStoreDown(t *testing.T) {
	ts, m, _ := startRateLimited(t, downStore{}, "100 / 1h", "", "")
	if _, _, line := dialFrom(t, "127.0.0.1", ts.addr); line != "421 4.3.0 mx.example Temporary local problem - please try later\r\n" {
		t.Errorf("connect: %q", line)
	}
	ts2, m2, _ := startRateLimited(t, downStore{}, "", "100 / 1h", "100 / 1h")
	c := dial(t, ts2.addr)
	c.ok("EHLO client.test", 250)
	if msg := c.ok("MAIL FROM:<a@sender.test>", 451); msg != "4.3.0 Temporary local problem - please try later" {
		t.Errorf("MAIL: %q", msg)
	}
	ts3, _, _ := startRateLimited(t, downStore{}, "", "", "100 / 1h")
	c = dial(t, ts3.addr)
	c.ok("EHLO client.test", 250)
	c.ok("MAIL FROM:<a@sender.test>", 250)
	if msg := c.ok("RCPT TO:<bob@example.com>", 451); msg != "4.3.0 Temporary local problem - please try later" {
		t.Errorf("RCPT: %q", msg)
	}
	if n := sample(t, m, "mta_connections_refused_total", "reason=ratelimit_unavailable"); n != 1 {
		t.Errorf("refused: %v", n)
	}
	if n := sample(t, m2, "mta_ratelimit_checks_total", "check=mail", "result=error"); n != 1 {
		t.Errorf("mail error: %v", n)
	}
	if !strings.Contains(ts3.logs.String(), "ratelimit store failed") {
		t.Errorf("not logged:\n%s", ts3.logs.String())
	}
}

// A rule takes the measure of its check; another check's measure is an
// error.
func TestRateLimitMeasures(t *testing.T) {
	rl := &RateLimits{Limiter: &ratelimit.Limiter{Store: &ratelimit.Memory{}}, Mail: mustRule(t, "2 / 1h / per_rcpt")}
	if _, err := New(Config{Hostname: "mx.example", Domains: []string{"example.com"}, Maildir: t.TempDir(), RateLimits: rl}); err == nil {
		t.Error("per_rcpt at MAIL accepted")
	}
	rl = &RateLimits{Limiter: &ratelimit.Limiter{Store: &ratelimit.Memory{}}, Rcpt: mustRule(t, "2 / 1h"), Conn: mustRule(t, "1 / 1m / per_conn")}
	srv, err := New(Config{Hostname: "mx.example", Domains: []string{"example.com"}, Maildir: t.TempDir(), RateLimits: rl})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Config().RateLimits
	if got.Rcpt.Measure != ratelimit.PerRcpt || got.Conn.Measure != ratelimit.PerConn || rl.Rcpt.Measure != ratelimit.PerUnset {
		t.Errorf("measures: rcpt %v conn %v; the caller's rule %v", got.Rcpt.Measure, got.Conn.Measure, rl.Rcpt.Measure)
	}
}

// An authenticated client is keyed by its user, others by address, an
// IPv6 client by its /64.
func TestRateLimitKeys(t *testing.T) {
	for _, tc := range []struct {
		c    smtpd.Conn
		want string
	}{
		{smtpd.Conn{Client: netip.MustParseAddrPort("192.0.2.1:1025")}, "192.0.2.1"},
		{smtpd.Conn{Client: netip.MustParseAddrPort("[2001:db8:1:2::99]:1025")}, "2001:db8:1:2::/64"},
		{smtpd.Conn{Client: netip.MustParseAddrPort("192.0.2.1:1025"), AuthUser: "bob"}, "auth:bob"},
	} {
		if got := senderKey(&tc.c); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.c, got, tc.want)
		}
	}
}

type failingHistory struct{}

func (failingHistory) Append(*dmarc.HistoryEntry) error {
	return errors.New("redis: connection refused")
}

// A DMARC history that cannot take the entry is logged and counted;
// the message is delivered all the same.
func TestDMARCHistoryFailureCounted(t *testing.T) {
	m := metrics.New()
	ts := start(t, func(c *Config) { c.History = failingHistory{}; c.Metrics = m })
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	if code, msg := c.send("alice@sender.test", []string{"bob@example.com"}, signed(t, plainMsg)); code != 250 {
		t.Fatalf("DATA: %d %s", code, msg)
	}
	c.ok("QUIT", 221)
	if n := len(ts.files(t, "")); n != 1 {
		t.Errorf("%d messages delivered", n)
	}
	if n := sample(t, m, "mta_dmarc_history_failures_total"); n != 1 {
		t.Errorf("failures: %v", n)
	}
	if !strings.Contains(ts.logs.String(), "dmarc history") {
		t.Errorf("not logged:\n%s", ts.logs.String())
	}
}
