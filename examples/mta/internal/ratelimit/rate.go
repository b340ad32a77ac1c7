package ratelimit

import (
	"math"
	"time"
)

// State is what a store keeps per key: the smoothed rate and when it
// was last recorded, in microseconds since the epoch (Exim keeps
// seconds and microseconds).
type State struct {
	Rate   float64
	Micros int64
}

// Event is one thing counted against a key.
type Event struct {
	Now    time.Time     // the caller's clock
	Count  float64       // what this event counts (0 with Readonly)
	Period time.Duration // p
	Limit  float64       // m
	Mode   Mode
}

// Result is a store's answer to an Event.
type Result struct {
	Rate float64 // the computed rate, recorded or not
	Over bool    // Rate ≥ Limit
}

// Step is Exim's computation for one event: prev is the key's record,
// nil when there is none. It returns the result and the state to
// record, nil when nothing is recorded (over the limit in leaky mode,
// or readonly). Stores call it under their lock; the Redis store runs
// the same arithmetic in Lua (redisstore), and the tests hold the two
// to the same values.
func Step(prev *State, ev Event) (Result, *State) {
	now := ev.Now.UnixMicro()
	rate := ev.Count
	if prev != nil {
		interval := float64(now-prev.Micros) / 1e6
		if interval <= 0 {
			interval = 1e-9 // the clock went backwards or did not move
		}
		iOverP := interval / ev.Period.Seconds()
		a := math.Exp(-iOverP)
		rate = (1-a)*ev.Count/iOverP + a*prev.Rate
		if rate < ev.Count {
			// After a long silence the average says almost nothing;
			// Exim starts again from the event itself.
			rate = ev.Count
		}
	}
	res := Result{Rate: rate, Over: rate >= ev.Limit}
	if ev.Mode == Strict || ev.Mode == Leaky && !res.Over {
		return res, &State{Rate: rate, Micros: now}
	}
	return res, nil
}

// KeepFor is how long a record of rate must be kept: after that long
// without events the next event computes the same rate as for a key
// never seen (rate = count), for any count of at least 1, so a store
// may forget it. With x = i/p ≥ 2, (1 - e^-x)/x ≤ 1/2, and with
// e^-x × rate ≤ 1/2 as well the new rate is at most count, which the
// max() then replaces by count: x ≥ max(2, ln(2 × rate)).
func KeepFor(rate float64, period time.Duration) time.Duration {
	x := math.Max(2, math.Log(2*math.Max(rate, 1)))
	d := math.Ceil(x * float64(period))
	if d >= math.MaxInt64/2 || math.IsNaN(d) {
		return math.MaxInt64 / 2 // centuries: a strict rule's runaway rate
	}
	return time.Duration(d)
}
