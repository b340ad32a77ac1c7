package ratelimit

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestParseRule(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Rule
	}{
		{"20 / 1m", Rule{Limit: 20, LimitText: "20", Period: time.Minute, PeriodText: "1m"}},
		{"100/1h/strict", Rule{Limit: 100, LimitText: "100", Period: time.Hour, PeriodText: "1h", Mode: Strict}},
		{"1.2 / 1h / strict / per_conn", Rule{Limit: 1.2, LimitText: "1.2", Period: time.Hour, PeriodText: "1h", Measure: PerConn, Mode: Strict}},
		{"10M / 1d / PER_BYTE / Leaky", Rule{Limit: 10 << 20, LimitText: "10M", Period: 24 * time.Hour, PeriodText: "1d", Measure: PerByte}},
		{"5k / 1h30m / per_rcpt", Rule{Limit: 5120, LimitText: "5k", Period: 90 * time.Minute, PeriodText: "1h30m", Measure: PerRcpt}},
		{"0 / 2w / noupdate", Rule{Limit: 0, LimitText: "0", Period: 14 * 24 * time.Hour, PeriodText: "2w", Mode: Readonly}},
		{"3 / 90 / per_mail / count=2.5", Rule{Limit: 3, LimitText: "3", Period: 90 * time.Second, PeriodText: "90", Measure: PerMail, Count: 2.5, HasCount: true}},
		{"1e2 / 1G", Rule{}}, // G is not a time unit
	} {
		r, err := ParseRule(tc.in)
		if tc.want.LimitText == "" {
			if err == nil {
				t.Errorf("%q accepted: %+v", tc.in, r)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if *r != tc.want {
			t.Errorf("%q: got %+v, want %+v", tc.in, *r, tc.want)
		}
		// String writes it back so that it parses the same.
		if r2, err := ParseRule(r.String()); err != nil || *r2 != *r {
			t.Errorf("%q: String %q parses to %+v %v", tc.in, r.String(), r2, err)
		}
	}
	for _, in := range []string{
		"", "20", "20 /", "/ 1h", "-1 / 1h", "x / 1h", "inf / 1h", "NaN / 1h", "0x10 / 1h", "1_0 / 1h", "1e400 / 1h",
		"1 / 0s", "1 / 0", "1 / h", "1 / 1x", "1 / 1h30", "1 / 99999999999w", "1 / 1h / per_cmd", "1 / 1h / per_addr",
		"1 / 1h / unique=x", "1 / 1h / leaky / strict", "1 / 1h / per_conn / per_mail", "1 / 1h / $sender_host_address",
		"1 / 1h / count=-1", "1 / 1h //", "1 / 1h / count=",
	} {
		if r, err := ParseRule(in); err == nil || !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: %+v %v", in, r, err)
		}
	}
	// Repeating the same per_* is not a conflict.
	if _, err := ParseRule("1 / 1h / per_rcpt / per_rcpt"); err != nil {
		t.Error(err)
	}
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{"20 / 1m", "1.2/1h/strict/per_conn", "10M / 1d / per_byte", "3 / 90 / count=2", "1 / 1h30m", "5 / 1w2d3h4m5s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("%q: error %v does not wrap ErrSyntax", s, err)
			}
			return
		}
		if r.Limit < 0 || r.Period <= 0 || r.Period > maxPeriod || r.Count < 0 {
			t.Fatalf("%q: %+v", s, r)
		}
		r2, err := ParseRule(r.String())
		if err != nil || *r2 != *r {
			t.Fatalf("%q: String %q gives %+v %v", s, r.String(), r2, err)
		}
		// Every rule can be checked without a panic.
		l := &Limiter{Store: &Memory{}, Now: func() time.Time { return t0 }}
		if _, err := l.Check(context.Background(), r, "k", 1); err != nil {
			t.Fatal(err)
		}
	})
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"1s": time.Second, "90": 90 * time.Second, "5m": 5 * time.Minute, "1h30m": 90 * time.Minute,
		"2d": 48 * time.Hour, "1w": 7 * 24 * time.Hour, "1w1d1h1m1s": 8*24*time.Hour + time.Hour + time.Minute + time.Second,
	} {
		if got, err := ParseTime(in); err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
}

func TestLimiterDecision(t *testing.T) {
	now := t0
	l := &Limiter{Store: &Memory{}, Now: func() time.Time { return now }}
	r, _ := ParseRule("2 / 1h / per_rcpt")
	ctx := context.Background()
	d, err := l.Check(ctx, r, "192.0.2.1", 1)
	if err != nil || d.Over || d.SenderRate != "1.0" || d.SenderRateLimit != "2" || d.SenderRatePeriod != "1h" || d.Key != "1h/per_rcpt/192.0.2.1" {
		t.Fatalf("%+v %v", d, err)
	}
	now = now.Add(time.Millisecond)
	d, _ = l.Check(ctx, r, "192.0.2.1", 1)
	if d.Over || d.SenderRate != "2.0" { // just under 2, printed as 2.0
		t.Fatalf("second: %+v", d)
	}
	now = now.Add(time.Millisecond)
	if d, _ = l.Check(ctx, r, "192.0.2.1", 1); !d.Over {
		t.Fatalf("third: %+v", d)
	}
	// Another key, and the same key under another rule, are separate.
	if d, _ = l.Check(ctx, r, "192.0.2.2", 1); d.Over {
		t.Errorf("other key: %+v", d)
	}
	r2, _ := ParseRule("2 / 2h / per_rcpt")
	if d, _ = l.Check(ctx, r2, "192.0.2.1", 1); d.Over || d.Key != "2h/per_rcpt/192.0.2.1" {
		t.Errorf("other period: %+v", d)
	}
	// count= replaces n; readonly counts nothing.
	rc, _ := ParseRule("10 / 1h / per_byte / count=3")
	if d, _ = l.Check(ctx, rc, "x", 5000); d.Rate != 3 {
		t.Errorf("count=: %+v", d)
	}
	ro, _ := ParseRule("10 / 1h / per_byte / readonly")
	if d, _ = l.Check(ctx, ro, "y", 5000); d.Rate != 0 {
		t.Errorf("readonly: %+v", d)
	}
	// A failing store is an error, not a decision.
	fl := &Limiter{Store: failing{}}
	if _, err := fl.Check(ctx, r, "k", 1); err == nil || !strings.Contains(err.Error(), "down") {
		t.Errorf("failing store: %v", err)
	}
}

type failing struct{}

func (failing) Apply(context.Context, string, Event) (Result, error) {
	return Result{}, errors.New("store down")
}

func TestHostKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"::ffff:192.0.2.1":     "192.0.2.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"fe80::1%eth0":         "fe80::/64",
		"2001:db8:1:3::1":      "2001:db8:1:3::/64",
	} {
		if got := HostKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}
