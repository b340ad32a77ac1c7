package smtpd

import "sync/atomic"

// memBudget is the memory all sessions together may hold for message
// data (Config.MaxDataMemory). A session reserves before it allocates,
// so the sum of the buffers can never pass the limit however many
// clients stall in the middle of DATA.
type memBudget struct {
	limit int64
	used  atomic.Int64
}

func newMemBudget(limit int64) *memBudget { return &memBudget{limit: limit} }

// reserve takes n bytes, or reports false and takes nothing.
func (b *memBudget) reserve(n int64) bool {
	for {
		u := b.used.Load()
		if n < 0 || u+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (b *memBudget) release(n int64) { b.used.Add(-n) }

// available is what a reservation could get now; a snapshot, good for
// refusing a SIZE= that cannot fit, not for promising it will.
func (b *memBudget) available() int64 { return b.limit - b.used.Load() }

func (b *memBudget) inUse() int64 { return b.used.Load() }
