package ocsp

import (
	"context"
	"crypto/x509"
	"math/rand/v2"
	"os"
	"time"
)

// Refresher keeps one tls_ocsp_file element fresh: it fetches a
// response, writes it atomically, and fetches again at half the
// response's validity, retrying failures with exponential backoff. All
// waits carry random jitter so that many servers do not hit a
// responder together.
type Refresher struct {
	Fetcher   *Fetcher // nil means a zero Fetcher
	Cert      *x509.Certificate
	Issuer    *x509.Certificate
	Responder string // "" means Cert's AIA OCSP URL
	Path      string
	PEM       bool

	// MinBackoff and MaxBackoff bound the retry delay after a failure
	// (defaults 1 minute and 1 hour). NoNextUpdate is the refresh
	// interval for responses without nextUpdate (default 1 hour).
	MinBackoff, MaxBackoff, NoNextUpdate time.Duration
	// Jitter returns a random factor in [0,1) (default math/rand/v2);
	// a wait d becomes d*(0.9+0.2*Jitter()).
	Jitter func() float64
	// Sleep waits d or until ctx is done (default a timer).
	Sleep func(ctx context.Context, d time.Duration) error
	// Logf receives failures; OnUpdate each response written.
	Logf     func(format string, args ...any)
	OnUpdate func(*Fetched)
	// Now replaces time.Now.
	Now func() time.Time
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run refreshes until ctx is done and then returns ctx.Err(). It starts
// by reading Path: a valid response there is kept until its refresh
// time. Run starts no goroutines.
func (r *Refresher) Run(ctx context.Context) error {
	f := r.Fetcher
	if f == nil {
		f = &Fetcher{}
	}
	now := r.Now
	if now == nil {
		now = time.Now
	}
	sleep := r.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	jitter := r.Jitter
	if jitter == nil {
		jitter = rand.Float64
	}
	logf := r.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	minB, maxB, noNext := r.MinBackoff, r.MaxBackoff, r.NoNextUpdate
	if minB <= 0 {
		minB = time.Minute
	}
	if maxB < minB {
		maxB = max(time.Hour, minB)
	}
	if noNext <= 0 {
		noNext = time.Hour
	}
	jittered := func(d time.Duration) time.Duration {
		return time.Duration(float64(d) * (0.9 + 0.2*jitter()))
	}

	var wait time.Duration
	if data, err := os.ReadFile(r.Path); err == nil {
		if ders, err := DecodeFile(data, r.PEM); err == nil {
			if resp, err := f.Verify(ders[0], r.Cert, r.Issuer); err == nil {
				wait = r.refreshAfter(resp, now(), noNext)
			}
		}
	}
	backoff := minB
	for {
		if wait > 0 {
			if err := sleep(ctx, jittered(wait)); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		got, err := f.Fetch(ctx, r.Cert, r.Issuer, r.Responder)
		if err == nil {
			err = WriteFile(r.Path, got.Raw, r.PEM)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			logf("ocsp: refreshing %s: %v (retry in %v)", r.Path, err, backoff)
			wait = backoff
			backoff = min(2*backoff, maxB)
			continue
		}
		backoff = minB
		if r.OnUpdate != nil {
			r.OnUpdate(got)
		}
		// Never loop faster than MinBackoff, even on stale responses.
		wait = max(r.refreshAfter(got.Response, now(), noNext), minB)
	}
}

// refreshAfter is how long to wait from now before renewing resp: until
// half its validity, or noNext without nextUpdate.
func (r *Refresher) refreshAfter(resp *Response, now time.Time, noNext time.Duration) time.Duration {
	if resp.NextUpdate.IsZero() {
		return max(resp.ThisUpdate.Add(noNext).Sub(now), 0)
	}
	half := resp.ThisUpdate.Add(resp.NextUpdate.Sub(resp.ThisUpdate) / 2)
	return max(half.Sub(now), 0)
}
