package ratelimit

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"
)

// t0 is the tests' clock origin; events are offsets from it.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// exim is Exim's update written out from acl.c in the test's own
// words, the reference the stores are held to: the previous rate r
// after i seconds with period p seconds, for an event of count c.
func exim(r, i, p, c float64) float64 {
	if i <= 0 {
		i = 1e-9
	}
	a := math.Exp(-i / p)
	rate := (1-a)*c/(i/p) + a*r
	return math.Max(rate, c)
}

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

type step struct {
	at    time.Duration // since t0
	count float64
	rate  float64 // expected computed rate
	over  bool
}

// runSteps applies steps to one key of a fresh store and checks each
// result.
func runSteps(t *testing.T, st Store, limit float64, period time.Duration, mode Mode, steps []step) {
	t.Helper()
	for i, s := range steps {
		res, err := st.Apply(context.Background(), "k", Event{Now: t0.Add(s.at), Count: s.count, Period: period, Limit: limit, Mode: mode})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if !near(res.Rate, s.rate) || res.Over != s.over {
			t.Errorf("step %d (at %v, count %g): rate %.12g over %v, want %.12g over %v", i, s.at, s.count, res.Rate, res.Over, s.rate, s.over)
		}
	}
}

// The formula table: expected rates computed from exim() with the
// intervals the steps imply, covering the first event, the smoothing,
// the reset after silence, the clock going backwards, leaky (over the
// limit not recorded) and strict (always recorded).
func TestStepFormulaTable(t *testing.T) {
	const p = 3600.0
	hour := time.Hour
	r1 := exim(1, 1800, p, 1)   // 30 min after the first event
	r2 := exim(r1, 0.001, p, 1) // 1 ms later
	r3 := exim(r2, 0.001, p, 1)
	for _, tc := range []struct {
		name   string
		limit  float64
		mode   Mode
		steps  []step
		period time.Duration
	}{
		{"smoothing", 10, Leaky, []step{
			{0, 1, 1, false},
			{30 * time.Minute, 1, r1, false},
			{30*time.Minute + time.Millisecond, 1, r2, false},
			{30*time.Minute + 2*time.Millisecond, 1, r3, false},
		}, hour},
		{"reset after a long silence", 10, Leaky, []step{
			{0, 1, 1, false},
			{time.Second, 1, exim(1, 1, p, 1), false},
			// ten periods later the average is below one event: the
			// rate starts again from the event (Exim's max).
			{10*hour + time.Second, 1, 1, false},
		}, hour},
		{"clock backwards clamps to 1e-9 s", 10, Leaky, []step{
			{time.Minute, 1, 1, false},
			{0, 1, exim(1, -60, p, 1), false},
		}, hour},
		{"at the limit is over", 2, Leaky, []step{
			{0, 2, 2, true}, // the first event's rate is its count
		}, hour},
		{"limit zero blocks everything", 0, Leaky, []step{
			{0, 1, 1, true},
			{time.Hour, 1, 1, true}, // leaky: nothing recorded, still new
		}, hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runSteps(t, &Memory{}, tc.limit, tc.period, tc.mode, tc.steps)
		})
	}
}

// Leaky against strict with the same events: a burst of ten, 1 ms
// apart, against a limit of 3, then a retry 40 s later. Leaky recorded
// only the accepted events, so the retry decays from the third and
// gets through; strict recorded all ten and stays over.
func TestLeakyAgainstStrict(t *testing.T) {
	const p, m = 60.0, 3.0
	ms := time.Millisecond
	burst := func(mode Mode) (steps []step, last float64, lastAt time.Duration) {
		var rec float64 // the recorded rate
		var recAt time.Duration
		for i := range 10 {
			at := time.Duration(i) * ms
			rate := 1.0
			if i > 0 {
				rate = exim(rec, (at - recAt).Seconds(), p, 1)
			}
			over := rate >= m
			if mode == Strict || !over {
				rec, recAt = rate, at
			}
			steps = append(steps, step{at, 1, rate, over})
		}
		return steps, rec, recAt
	}
	retryAt := 9*ms + 40*time.Second
	leaky, lrec, lat := burst(Leaky)
	strict, srec, sat := burst(Strict)
	leakyRetry := exim(lrec, (retryAt - lat).Seconds(), p, 1)
	strictRetry := exim(srec, (retryAt - sat).Seconds(), p, 1)
	if lat != 2*ms || sat != 9*ms || !(leakyRetry < m) || !(strictRetry >= m) {
		t.Fatalf("model: leaky recorded at %v, retry %g; strict recorded at %v, retry %g", lat, leakyRetry, sat, strictRetry)
	}
	runSteps(t, &Memory{}, m, time.Minute, Leaky, append(leaky, step{retryAt, 1, leakyRetry, false}))
	runSteps(t, &Memory{}, m, time.Minute, Strict, append(strict, step{retryAt, 1, strictRetry, true}))
}

// per_byte: the count is the message size, so m is bytes per period;
// a 0-byte event (size unknown) lets the rate decay.
func TestStepPerByte(t *testing.T) {
	const p = 3600.0
	r1 := exim(40000, 600, p, 30000)
	r2 := exim(r1, 600, p, 0)
	if !(r2 < r1) {
		t.Fatalf("model: %g then %g", r1, r2)
	}
	runSteps(t, &Memory{}, 100000, time.Hour, Leaky, []step{
		{0, 40000, 40000, false},
		{10 * time.Minute, 30000, r1, r1 >= 100000},
		{20 * time.Minute, 0, r2, false},
		{20*time.Minute + time.Millisecond, 90000, exim(r2, 0.001, p, 90000), true},
	})
}

// Readonly computes with count 0 and records nothing.
func TestStepReadonly(t *testing.T) {
	st := &Memory{}
	runSteps(t, st, 5, time.Hour, Strict, []step{{0, 4, 4, false}})
	r := exim(4, 60, 3600, 0)
	runSteps(t, st, 5, time.Hour, Readonly, []step{{time.Minute, 0, r, false}, {2 * time.Minute, 0, exim(4, 120, 3600, 0), false}})
}

// Exim's claim: after a quiet spell a fast burst gets exactly m events
// through (leaky), for m of 2 and more. With m = 1 none passes: the
// first event's rate is 1, at the limit, and leaky never records it
// (which is why Exim configurations write 1.2 / 1h).
func TestBurstIsLimit(t *testing.T) {
	for _, m := range []float64{1, 2, 5, 20, 100} {
		st := &Memory{}
		passed := 0
		for i := range 3 * int(m) {
			res, _ := st.Apply(context.Background(), "k", Event{Now: t0.Add(time.Duration(i) * time.Millisecond), Count: 1, Period: time.Hour, Limit: m})
			if !res.Over {
				passed++
			}
		}
		want := int(m)
		if m == 1 {
			want = 0
		}
		if passed != want {
			t.Errorf("m=%g: %d passed", m, passed)
		}
	}
}

// After KeepFor the stored record no longer changes the next result:
// the store may forget it.
func TestKeepFor(t *testing.T) {
	for _, rate := range []float64{0, 0.5, 1, 3, 17, 1e3, 1e9} {
		for _, count := range []float64{1, 2, 50, 1e6} {
			for _, p := range []time.Duration{time.Second, time.Hour, 7 * 24 * time.Hour} {
				keep := KeepFor(rate, p)
				prev := &State{Rate: rate, Micros: t0.UnixMicro()}
				res, _ := Step(prev, Event{Now: t0.Add(keep), Count: count, Period: p, Limit: math.MaxFloat64})
				if res.Rate != count {
					t.Errorf("rate %g count %g p %v: after %v the rate is %g, not %g", rate, count, p, keep, res.Rate, count)
				}
			}
		}
	}
	if d := KeepFor(1e300, 100*365*24*time.Hour); d <= 0 {
		t.Errorf("huge: %v", d)
	}
}

// Memory forgets records KeepFor after their update, at a sweep.
func TestMemorySweeps(t *testing.T) {
	st := &Memory{}
	ev := Event{Now: t0, Count: 1, Period: time.Minute, Limit: 100}
	for i := range sweepEvery - 1 {
		st.Apply(context.Background(), string(rune('a'+i%26))+time.Duration(i).String(), ev)
	}
	if n := st.Len(); n != sweepEvery-1 {
		t.Fatalf("%d records", n)
	}
	ev.Now = t0.Add(KeepFor(1, time.Minute))
	st.Apply(context.Background(), "last", ev) // the sweeping event
	if n := st.Len(); n != 1 {
		t.Fatalf("%d records after the sweep", n)
	}
	// An expired record that was not swept yet is not used either.
	ev.Now = ev.Now.Add(KeepFor(1, time.Minute))
	if res, _ := st.Apply(context.Background(), "last", ev); res.Rate != 1 {
		t.Errorf("expired record used: rate %g", res.Rate)
	}
}

// Concurrent events on one key are all counted: at one instant, strict,
// n events give a rate of about n (each adds (1-a)/(i/p) with i the
// 1e-9 s clamp, 1 within the rounding of 1-a); a lost update would
// leave it short by whole events.
func TestMemoryConcurrent(t *testing.T) {
	st := &Memory{}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			for range 20 {
				st.Apply(context.Background(), "k", Event{Now: t0, Count: 1, Period: time.Hour, Limit: 1e9, Mode: Strict})
			}
		})
	}
	wg.Wait()
	res, _ := st.Apply(context.Background(), "k", Event{Now: t0, Period: time.Hour, Limit: 1e9, Mode: Readonly})
	if res.Rate < 999.5 || res.Rate > 1000.5 {
		t.Errorf("rate %g after 1000 events", res.Rate)
	}
}
