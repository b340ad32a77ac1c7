package ratelimit

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// One check on the in-process store, over 1000 keys.
func BenchmarkMemoryApply(b *testing.B) {
	st := &Memory{}
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "192.0.2." + strconv.Itoa(i)
	}
	ctx := context.Background()
	now := t0
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now = now.Add(time.Millisecond)
		st.Apply(ctx, keys[i%len(keys)], Event{Now: now, Count: 1, Period: time.Hour, Limit: 100})
		i++
	}
}
