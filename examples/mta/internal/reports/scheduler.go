package reports

import (
	"context"
	"errors"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc/report"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/metrics"
	"github.com/mailpolicy/mailpolicy/tlsrpt"
)

// Defaults of the Scheduler's optional fields.
const (
	// DefaultInterval is RFC 9990's default reporting interval, a day.
	DefaultInterval = 24 * time.Hour
	// DefaultMaxDelay bounds the random delay after a boundary.
	DefaultMaxDelay = 10 * time.Minute
	// DefaultMaxCatchUp is how far back intervals missed while the MTA
	// was down are still reported at its start.
	DefaultMaxCatchUp = 7 * 24 * time.Hour
	// DefaultRetry is the wait before trying again what failed for a
	// reason that may pass (the queue would not take a report, DNS did
	// not answer, a POST failed).
	DefaultRetry = time.Hour
	// DefaultGiveUp is how long after an interval's end its failing
	// destinations are retried; then the interval is closed without
	// them.
	DefaultGiveUp = 24 * time.Hour
	// maxPostTries bounds the attempts of one HTTPS POST.
	maxPostTries = 12
)

const day = 24 * time.Hour

// Resolver is the DNS the Scheduler asks for TXT records (rua
// destinations, TLSRPT records); *resolver.Resolver is one.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) (txt []string, authentic bool, err error)
}

// Scheduler sends the DMARC aggregate reports and the TLS reports (see
// the package documentation). Its fields are set before Run and not
// changed after. Inject and StateFile are required, and at least one of
// History and TLS.
type Scheduler struct {
	Inject    Injector
	StateFile string // in the spool: spool/db/reports
	Resolver  Resolver
	HTTP      *http.Client // for https: TLS report destinations; nil: a client with a one-minute timeout
	Clock     Clock        // nil: the wall clock
	Logger    *slog.Logger // nil: slog.Default()
	Metrics   *metrics.Metrics

	// DMARC aggregate reports, from History every Interval (0:
	// DefaultInterval; it must divide a day). Reporter.Email is also the
	// reports' From: and envelope sender. History nil: none.
	History  HistorySource
	Interval time.Duration
	Reporter report.Reporter
	// Claim, when set, is asked before an interval's DMARC reports are
	// built: instances sharing one history (dmarc_history_redis) each
	// run a Scheduler, and only the one whose claim holds reports; the
	// others mark the interval done. It must say true again to the
	// instance that claimed first, which may be retrying after a crash.
	Claim func(ctx context.Context, begin, end time.Time) (bool, error)

	// TLS reports, per UTC day from TLS. TLSOrg.Contact is also the
	// reports' From: and envelope sender. TLS nil: none.
	TLS    *tlsrpt.Recorder
	TLSOrg tlsrpt.Organization

	// MaxDelay bounds the random delay after each boundary (0:
	// DefaultMaxDelay; negative: none). Jitter, when set, picks the
	// delay instead of the random source (tests).
	MaxDelay time.Duration
	Jitter   func(max time.Duration) time.Duration
	// MaxCatchUp, Retry and GiveUp: 0 is their Default*.
	MaxCatchUp, Retry, GiveUp time.Duration

	mu sync.Mutex // one run at a time
	st *state
}

// Run runs the schedule until ctx ends: a run at once (catching up
// what was missed while the MTA was down), then one after each
// boundary. It returns ctx's error.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.History == nil && s.TLS == nil {
		<-ctx.Done()
		return ctx.Err()
	}
	for {
		err := s.RunOnce(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			s.log().Warn("reports: run incomplete, retried later", "err", err)
		}
		now := s.clock().Now()
		wait := s.next(now, err != nil).Sub(now)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.clock().After(wait):
		}
	}
}

// RunOnce sends what is due at the clock's now: the DMARC intervals and
// the TLS days that have ended and are not reported yet, and the
// HTTPS POSTs waiting for another try. An error says something is left
// for a later run; what did go out is recorded either way.
func (s *Scheduler) RunOnce(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st == nil {
		st, err := loadState(s.StateFile)
		if err != nil {
			// Starting afresh may send an interval again (with the same
			// report-id); refusing would send nothing ever.
			s.log().Error("reports: state unreadable, starting afresh", "err", err)
		}
		s.st = st
	}
	now := s.clock().Now()
	var errs []error
	if s.History != nil {
		errs = append(errs, s.runDMARC(ctx, now))
	}
	if s.TLS != nil {
		errs = append(errs, s.runTLS(ctx, now))
	}
	return errors.Join(errs...)
}

// next is when the run after one at now is due: the next boundary of
// either kind plus the random delay, or sooner when something waits
// for a retry.
func (s *Scheduler) next(now time.Time, failed bool) time.Time {
	var at time.Time
	if s.History != nil {
		at = intervalStart(now, s.interval()).Add(s.interval())
	}
	if s.TLS != nil {
		if t := intervalStart(now, day).Add(day); at.IsZero() || t.Before(at) {
			at = t
		}
	}
	at = at.Add(s.jitter())
	s.mu.Lock()
	pending := s.st != nil && len(s.st.Posts) > 0
	s.mu.Unlock()
	if retry := now.Add(s.retry()); (failed || pending) && retry.Before(at) {
		at = retry
	}
	return at
}

func (s *Scheduler) jitter() time.Duration {
	m := s.MaxDelay
	switch {
	case m < 0:
		return 0
	case m == 0:
		m = DefaultMaxDelay
	}
	if s.Jitter != nil {
		return s.Jitter(m)
	}
	return time.Duration(mrand.Int64N(int64(m)))
}

func (s *Scheduler) interval() time.Duration {
	if s.Interval > 0 {
		return s.Interval
	}
	return DefaultInterval
}

func (s *Scheduler) clock() Clock {
	if s.Clock != nil {
		return s.Clock
	}
	return wallClock{}
}

func (s *Scheduler) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Scheduler) retry() time.Duration      { return orDefault(s.Retry, DefaultRetry) }
func (s *Scheduler) giveUp() time.Duration     { return orDefault(s.GiveUp, DefaultGiveUp) }
func (s *Scheduler) maxCatchUp() time.Duration { return orDefault(s.MaxCatchUp, DefaultMaxCatchUp) }

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (s *Scheduler) httpClient() *http.Client {
	if s.HTTP != nil {
		return s.HTTP
	}
	return &http.Client{Timeout: time.Minute}
}

// save writes the state; a failure is returned so that the run is
// retried, since what is not recorded would be sent again after a
// restart.
func (s *Scheduler) save() error { return s.st.save(s.StateFile) }

// firstInterval is where a kind's catch-up starts: after the last
// interval done, or the last complete interval at the first run; never
// further back than MaxCatchUp.
func (s *Scheduler) firstInterval(done, cur time.Time, iv time.Duration, kind string) (begin time.Time, skipped bool) {
	begin = done
	if begin.IsZero() {
		begin = cur.Add(-iv)
	}
	if oldest := intervalStart(cur.Add(-s.maxCatchUp()), iv); begin.Before(oldest) {
		s.log().Warn("reports: intervals too old to report skipped", "kind", kind, "from", begin, "to", oldest)
		return oldest, true
	}
	return begin, false
}
