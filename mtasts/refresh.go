package mtasts

import (
	"context"
	"time"
)

// DefaultRefreshEvery is how often RefreshEvery looks for policies due
// for refresh when given 0: an hour, so that a policy is refreshed
// within an hour of RefreshInterval.
const DefaultRefreshEvery = time.Hour

// RefreshEvery runs Refresh every d (0: DefaultRefreshEvery) until ctx
// ends, and then returns. It is the background loop of RFC 8461 §5.1's
// proactive refresh: a policy used rarely is still refetched before it
// expires, so a later delivery does not depend on the fetch working at
// that moment (which an attacker blocking HTTPS could arrange).
func (c *Cache) RefreshEvery(ctx context.Context, d time.Duration) {
	if d <= 0 {
		d = DefaultRefreshEvery
	}
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.Refresh(ctx)
		}
	}
}
