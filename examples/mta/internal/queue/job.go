package queue

import (
	"context"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/events"
)

// A job is one delivery attempt of one message: admitted under the
// message's lock, split into units (one per destination, sched.go),
// and finished once every unit has ended. The units write only their
// own recipients' results (disjoint *Recipient values) and only read
// the envelope; everything else of the envelope (attempts, next time,
// warning, bounces) is written by finish alone, after the last unit,
// and the envelope is saved once per attempt.
type job struct {
	r      *Runner
	ctx    context.Context
	env    *Envelope
	force  bool
	unlock func()
	file   *os.File
	msg    *io.SectionReader
	before map[*Recipient]bool // pending when the attempt began
	units  []*unit
	left   int // units not ended, under r.mu
	stop   func() bool

	done chan struct{}
	// After done: the next attempt time, when recipients are left.
	next time.Time
	more bool
}

// admit starts a delivery attempt of message id when it is due (or
// force), holding its lock until the attempt ends. It returns the job
// (nil when there is nothing to do now) or, for a message not due, its
// next attempt time.
func (r *Runner) admit(ctx context.Context, id string, force bool) (*job, time.Time, error) {
	unlock, err := r.Spool.Lock(id)
	if err != nil {
		return nil, time.Time{}, err
	}
	env, err := r.Spool.Load(id) // again under the lock: a command may have changed it
	if err != nil {
		unlock()
		return nil, time.Time{}, err
	}
	if !force && r.Now().Before(env.Next) {
		unlock()
		return nil, env.Next, nil
	}
	f, size, err := r.Spool.OpenMessage(env.ID)
	if err != nil {
		r.Logger.Warn("spool: message file missing", "id", env.ID, "err", err)
		r.Spool.Remove(env)
		unlock()
		return nil, time.Time{}, nil
	}
	env.Attempts++
	j := &job{r: r, ctx: ctx, env: env, force: force, unlock: unlock, file: f,
		msg: io.NewSectionReader(f, 0, size), before: map[*Recipient]bool{}, done: make(chan struct{})}
	byDest := map[string]*unit{}
	for _, rc := range env.Rcpts {
		j.before[rc] = rc.State == Pending
		if rc.State != Pending {
			continue
		}
		d := r.Courier.Destination(rc.Addr)
		u := byDest[d]
		if u == nil {
			u = &unit{job: j, dest: d}
			byDest[d] = u
			j.units = append(j.units, u)
		}
		u.rcpts = append(u.rcpts, rc)
	}
	r.wg.Add(1) // until finish ends
	r.mu.Lock()
	r.active[id] = j
	j.left = len(j.units)
	if j.left == 0 {
		r.mu.Unlock()
		j.finish()
		return j, time.Time{}, nil
	}
	for _, u := range j.units {
		r.submit(u)
	}
	// Shutdown: the units still waiting end at once, as deferrals. The
	// callback and finish both take r.mu, held here until j.stop is
	// set.
	j.stop = context.AfterFunc(ctx, func() {
		r.mu.Lock()
		n := r.dropWaiting(j)
		j.left -= n
		last := n > 0 && j.left == 0
		r.mu.Unlock()
		if last {
			j.finish()
		}
	})
	r.mu.Unlock()
	return j, time.Time{}, nil
}

// runUnit is one unit's goroutine.
func (r *Runner) runUnit(u *unit) {
	defer r.wg.Done()
	j := u.job
	if j.ctx.Err() == nil {
		r.Courier.Deliver(j.ctx, &Delivery{
			Env: j.env, Msg: j.msg, Rcpts: u.rcpts, Destination: u.dest, Force: j.force,
			Waiting: func() bool { return r.waitingFor(u.dest) },
		})
	}
	r.mu.Lock()
	u.done = true
	r.unitEnded(u)
	j.left--
	last := j.left == 0
	r.mu.Unlock()
	if last {
		j.finish()
	}
}

// finish ends the attempt after its last unit: metrics, the retry
// timeout, DSNs, then the envelope saved (or the message removed) and
// the lock released.
func (j *job) finish() {
	r, env, ctx := j.r, j.env, j.ctx
	log := r.Logger
	if j.stop != nil {
		j.stop()
	}
	for rc, was := range j.before {
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
	r.bounceFailed(env, j.msg)
	if r.Bouncer != nil {
		// NOTIFY=SUCCESS past a host without DSN: "relayed" (RFC 3461).
		var delivered []*Recipient
		for _, rc := range env.Rcpts {
			if j.before[rc] && rc.State == Delivered {
				delivered = append(delivered, rc)
			}
		}
		r.Bouncer.Relayed(env, j.msg, delivered)
	}
	if pending == 0 {
		log.Info("completed", "id", env.ID)
		r.raise(ctx, events.Event{Name: events.MsgComplete, MessageID: env.ID})
		r.Spool.Remove(env)
	} else {
		j.more = true
		j.next = r.reschedule(ctx, env, j.msg, now, pending)
	}
	j.file.Close()
	j.unlock()
	r.mu.Lock()
	delete(r.active, env.ID)
	r.jobEnded(j)
	r.mu.Unlock()
	close(j.done)
	r.wg.Done()
}

// reschedule sends the delay warning when it is due, sets the next
// attempt time with exponential backoff and saves the envelope.
func (r *Runner) reschedule(ctx context.Context, env *Envelope, msg *io.SectionReader, now time.Time, pending int) time.Time {
	if r.DelayWarning > 0 && !env.Warned && now.Sub(env.Arrival) >= r.DelayWarning {
		env.Warned = true
		var delayed []*Recipient
		for _, rc := range env.Rcpts {
			if rc.State == Pending {
				delayed = append(delayed, rc)
			}
		}
		if r.Bouncer != nil {
			r.Bouncer.Bounce(env, msg, delayed, true)
		}
	}
	d := Backoff(r.RetryInterval, env.Attempts)
	if ctx.Err() != nil {
		// Cut off by shutdown: not the server's fault, try again soon
		// after the restart.
		env.Attempts--
		d = 0
	}
	env.Next = now.Add(d).UTC()
	if err := r.Spool.Save(env); err != nil {
		r.Logger.Warn("spool: cannot update envelope", "id", env.ID, "err", err)
	}
	r.Logger.Info("deferred", "id", env.ID, "pending", pending, "next", env.Next.Format(time.RFC3339Nano))
	return env.Next
}

// Backoff is the delay after the n-th failed attempt (n ≥ 1): interval,
// doubled with each attempt up to an hour (or the interval itself when
// that is longer). The host retry database uses it too.
func Backoff(interval time.Duration, n int) time.Duration {
	ceiling := max(time.Hour, interval)
	d := interval
	for i := 1; i < n && d < ceiling; i++ {
		d *= 2
	}
	return min(d, ceiling)
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
func (r *Runner) bounceFailed(env *Envelope, msg *io.SectionReader) {
	var failed []*Recipient
	for _, rc := range env.Rcpts {
		if rc.State == Failed && !rc.Bounced {
			rc.Bounced = true
			failed = append(failed, rc)
		}
	}
	if len(failed) > 0 && r.Bouncer != nil {
		r.Bouncer.Bounce(env, msg, failed, false)
		r.Metrics.Delivery("dsn", "bounced")
	}
}
