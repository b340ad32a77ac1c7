package queue

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/metrics"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// Names in the events of remote delivery, after Exim's default
// configuration.
const (
	RouterName    = "dnslookup"
	TransportName = "remote_smtp"
)

// Defaults of the settings (internal/config uses them).
const (
	DefaultRetryInterval = 15 * time.Minute
	DefaultRetryMaxAge   = 4 * 24 * time.Hour
)

// A Courier makes one delivery attempt for the pending recipients of a
// message and records each result in env (State, Message, Status and
// the host fields). msg is the spooled message, read with ReadAt only
// (Section gives a reader of its own).
type Courier interface {
	Deliver(ctx context.Context, env *Envelope, msg *io.SectionReader)
}

// Runner delivers the spool: every message that is due, again after
// each Wake, with exponential backoff between attempts, bouncing what
// fails. Set the fields, then Start; Stop ends it.
type Runner struct {
	Spool   *Spool
	Courier Courier
	Bouncer *Bouncer // nil: failures are logged, not bounced
	Bus     *events.Bus
	Logger  *slog.Logger
	Metrics *metrics.Metrics // nil: none

	// RetryInterval is the first retry delay, doubled per attempt up
	// to an hour; after RetryMaxAge deferred recipients fail;
	// DelayWarning (0: off) sends one delay DSN. Zero RetryInterval
	// and RetryMaxAge are an error at Start.
	RetryInterval, RetryMaxAge, DelayWarning time.Duration

	// Now replaces time.Now (tests).
	Now func() time.Time

	once sync.Once
	kick chan struct{}
	stop context.CancelFunc
	done chan struct{}
}

func (r *Runner) init() {
	r.once.Do(func() {
		r.kick = make(chan struct{}, 1)
		if r.Logger == nil {
			r.Logger = slog.Default()
		}
		if r.Now == nil {
			r.Now = time.Now
		}
	})
}

// Wake makes the runner look at the spool now.
func (r *Runner) Wake() {
	r.init()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Start runs the runner in a goroutine until Stop.
func (r *Runner) Start() error {
	r.init()
	if r.RetryInterval <= 0 || r.RetryMaxAge <= 0 {
		return errors.New("queue: RetryInterval and RetryMaxAge must be positive")
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		r.run(ctx)
	}()
	return nil
}

// Stop stops the runner and waits for it; a delivery in progress is
// cut off and counts as deferred (retried soon after the next start).
func (r *Runner) Stop() {
	if r.stop == nil {
		return
	}
	r.stop()
	<-r.done
}

func (r *Runner) run(ctx context.Context) {
	for {
		next := r.RunOnce(ctx, false)
		if ctx.Err() != nil {
			return
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(next.Sub(r.Now()), time.Millisecond)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			r.Logger.Debug("queue runner stopped")
			return
		case <-r.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// RunOnce tries every message that is due (every message with force,
// as Exim's -qf) and returns the earliest next attempt time of those
// left (zero: none). Messages another process holds are skipped.
func (r *Runner) RunOnce(ctx context.Context, force bool) time.Time {
	r.init()
	names, _ := filepath.Glob(filepath.Join(r.Spool.dir, "*.env"))
	var next time.Time
	later := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, name := range names {
		if ctx.Err() != nil {
			return next
		}
		id := strings.TrimSuffix(filepath.Base(name), ".env")
		n, ok, err := r.Process(ctx, id, force)
		switch {
		case errors.Is(err, ErrBusy):
			later(r.Now().Add(time.Second)) // look again soon
		case err != nil && !errors.Is(err, ErrNotQueued):
			r.Logger.Warn("spool: unreadable envelope", "file", name, "err", err)
		case ok:
			later(n)
		}
	}
	return next
}

// Process makes one delivery attempt for message id when it is due (or
// force), holding its lock, and returns the next attempt time when
// recipients are left.
func (r *Runner) Process(ctx context.Context, id string, force bool) (next time.Time, left bool, err error) {
	r.init()
	unlock, err := r.Spool.Lock(id)
	if err != nil {
		return time.Time{}, false, err
	}
	defer unlock()
	env, err := r.Spool.Load(id) // again under the lock: a command may have changed it
	if err != nil {
		return time.Time{}, false, err
	}
	if !force && r.Now().Before(env.Next) {
		return env.Next, true, nil
	}
	next, left = r.attempt(ctx, env)
	return next, left, nil
}

// attempt is one delivery attempt of env.
func (r *Runner) attempt(ctx context.Context, env *Envelope) (time.Time, bool) {
	log := r.Logger
	f, size, err := r.Spool.OpenMessage(env.ID)
	if err != nil {
		log.Warn("spool: message file missing", "id", env.ID, "err", err)
		r.Spool.Remove(env)
		return time.Time{}, false
	}
	defer f.Close()
	data := io.NewSectionReader(f, 0, size)
	env.Attempts++
	before := map[*Recipient]bool{}
	for _, rc := range env.Rcpts {
		before[rc] = rc.State == Pending
	}
	r.Courier.Deliver(ctx, env, data)
	for rc, was := range before {
		switch {
		case !was:
		case rc.State == Delivered:
			r.Metrics.Delivery("smtp", "delivered")
		case rc.State == Failed:
			r.Metrics.Delivery("smtp", "failed")
		default:
			r.Metrics.Delivery("smtp", "deferred")
		}
	}

	now := r.Now()
	pending := env.PendingCount()
	if pending > 0 && now.Sub(env.Arrival) >= r.RetryMaxAge && ctx.Err() == nil {
		// Exim's "retry timeout exceeded": the deferred addresses fail.
		r.failPending(ctx, env, "retry timeout exceeded", "5.4.7")
		pending = 0
	}
	r.bounceFailed(env, data)
	if r.Bouncer != nil {
		// NOTIFY=SUCCESS past a host without DSN: "relayed" (RFC 3461).
		var delivered []*Recipient
		for _, rc := range env.Rcpts {
			if before[rc] && rc.State == Delivered {
				delivered = append(delivered, rc)
			}
		}
		r.Bouncer.Relayed(env, data, delivered)
	}
	if pending == 0 {
		log.Info("completed", "id", env.ID)
		r.raise(ctx, events.Event{Name: events.MsgComplete, MessageID: env.ID})
		r.Spool.Remove(env)
		return time.Time{}, false
	}
	if r.DelayWarning > 0 && !env.Warned && now.Sub(env.Arrival) >= r.DelayWarning {
		env.Warned = true
		var delayed []*Recipient
		for _, rc := range env.Rcpts {
			if rc.State == Pending {
				delayed = append(delayed, rc)
			}
		}
		if r.Bouncer != nil {
			r.Bouncer.Bounce(env, data, delayed, true)
		}
	}
	// Backoff: the interval doubles with each attempt, up to an hour
	// (or the interval itself when that is longer).
	d := r.RetryInterval
	for i := 1; i < env.Attempts && d < max(time.Hour, r.RetryInterval); i++ {
		d *= 2
	}
	d = min(d, max(time.Hour, r.RetryInterval))
	if ctx.Err() != nil {
		// Cut off by shutdown: not the server's fault, try again soon
		// after the restart.
		env.Attempts--
		d = 0
	}
	env.Next = now.Add(d).UTC()
	if err := r.Spool.Save(env); err != nil {
		log.Warn("spool: cannot update envelope", "id", env.ID, "err", err)
	}
	log.Info("deferred", "id", env.ID, "pending", pending, "next", env.Next.Format(time.RFC3339Nano))
	return env.Next, true
}

// failPending fails every pending recipient with why (prefixed to the
// last error) and status, unless the last error had a permanent one.
func (r *Runner) failPending(ctx context.Context, env *Envelope, why, status string) {
	for _, rc := range env.Rcpts {
		if rc.State != Pending {
			continue
		}
		rc.State = Failed
		if rc.Message == "" {
			rc.Message = why
		} else {
			rc.Message = why + ": " + rc.Message
		}
		if rc.Status == "" || !strings.HasPrefix(rc.Status, "5") {
			rc.Status = status
		}
		r.Logger.Info("failed", "id", env.ID, "rcpt", rc.Addr, "reason", rc.Message)
		r.raise(ctx, FailEvent(env, rc))
	}
}

// bounceFailed sends the DSN for the recipients that failed since the
// last one.
func (r *Runner) bounceFailed(env *Envelope, data *io.SectionReader) {
	var failed []*Recipient
	for _, rc := range env.Rcpts {
		if rc.State == Failed && !rc.Bounced {
			rc.Bounced = true
			failed = append(failed, rc)
		}
	}
	if len(failed) > 0 && r.Bouncer != nil {
		r.Bouncer.Bounce(env, data, failed, false)
		r.Metrics.Delivery("dsn", "bounced")
	}
}

// Cancel fails every pending recipient of message id now, with a
// bounce to the sender ("bounce now", Exim's -Mg), and removes the
// message when nothing is left.
func (r *Runner) Cancel(ctx context.Context, id, why string) error {
	r.init()
	unlock, err := r.Spool.Lock(id)
	if err != nil {
		return err
	}
	defer unlock()
	env, err := r.Spool.Load(id)
	if err != nil {
		return err
	}
	f, size, err := r.Spool.OpenMessage(id)
	if err != nil {
		return err
	}
	defer f.Close()
	r.failPending(ctx, env, why, "5.0.0")
	r.bounceFailed(env, io.NewSectionReader(f, 0, size))
	r.Spool.Remove(env)
	return nil
}

// Delete removes message id without a bounce (Exim's -Mrm).
func (s *Spool) Delete(id string) error {
	unlock, err := s.Lock(id)
	if err != nil {
		return err
	}
	defer unlock()
	env, err := s.Load(id)
	if err != nil {
		return err
	}
	s.Remove(env)
	return nil
}

// FailEvent is msg:fail:delivery for a recipient that failed without
// a host (DNS, retry time, an operator's bounce).
func FailEvent(env *Envelope, rc *Recipient) events.Event {
	l, d := smtp.SplitAddress(rc.Addr)
	return events.Event{Name: events.MsgFailDelivery, Data: rc.Message, MessageID: env.ID,
		Router: RouterName, Transport: TransportName, LocalPart: l, Domain: d}
}

func (r *Runner) raise(ctx context.Context, ev events.Event) {
	if r.Bus != nil {
		r.Bus.Raise(context.WithoutCancel(ctx), &ev)
	}
}
