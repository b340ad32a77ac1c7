package mta

import (
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/metrics"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/ratelimit"
)

// per_byte at the end of DATA: the message sizes of a client add up
// (Exim's acl_smtp_data "ratelimit = m / p / per_byte"); the message
// over the limit gets 451 4.7.1 and leaves no copy; the rate decays.
func TestRateLimitData(t *testing.T) {
	clk := &rlClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	rl := &RateLimits{Limiter: &ratelimit.Limiter{Store: &ratelimit.Memory{}, Now: clk.Now}, Data: mustRule(t, "1K / 1h")}
	m := metrics.New()
	ts := start(t, func(c *Config) { c.RateLimits = rl; c.Metrics = m })
	if got := ts.srv.Config().RateLimits.Data.Measure; got != ratelimit.PerByte {
		t.Fatalf("measure %v, want per_byte", got)
	}
	msg := "From: a@sender.test\nSubject: s\n\n" + strings.Repeat("x", 600) + "\n"
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	if code, text := c.send("a@sender.test", []string{"bob@example.com"}, msg); code != 250 {
		t.Fatalf("first message: %d %s", code, text)
	}
	code, text := c.send("a@sender.test", []string{"bob@example.com"}, msg)
	if code != 451 || text != "4.7.1 Sender rate exceeds 1K bytes per 1h" {
		t.Fatalf("second message: %d %q", code, text)
	}
	if n := len(ts.files(t, "")); n != 1 {
		t.Errorf("%d messages delivered, want the first only", n)
	}
	if n := sample(t, m, "mta_ratelimit_checks_total", "check=data", "result=over"); n != 1 {
		t.Errorf("data over: %v", n)
	}
	// Leaky: the refused message did not count; after a few periods
	// the rate has decayed and a message goes through.
	clk.advance(5 * time.Hour)
	if code, text := c.send("a@sender.test", []string{"bob@example.com"}, msg); code != 250 {
		t.Errorf("after 5h: %d %s", code, text)
	}
}

func TestRateLimitDataMeasure(t *testing.T) {
	rl := &RateLimits{Limiter: &ratelimit.Limiter{Store: &ratelimit.Memory{}}, Data: mustRule(t, "2 / 1h / per_mail")}
	if _, err := New(Config{Hostname: "mx.example", Domains: []string{"example.com"}, Maildir: t.TempDir(), RateLimits: rl}); err == nil {
		t.Error("per_mail at DATA accepted")
	}
}
