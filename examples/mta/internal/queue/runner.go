package queue

import (
	"context"
	"errors"
	"io"
	"io/fs"
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

// Defaults of the concurrency limits (Postfix's default_process_limit
// and default_destination_concurrency_limit).
const (
	DefaultMaxDeliveries     = 100
	DefaultMaxPerDestination = 20
)

// A Courier delivers the recipients of a message that share one
// destination. It must be safe for concurrent use: the Runner calls it
// from up to MaxDeliveries goroutines at once.
type Courier interface {
	// Destination is the group a recipient address is delivered with
	// and counted in for MaxPerDestination: its domain (lower case),
	// or the smarthost when there is one.
	Destination(addr string) string
	// Deliver makes one delivery attempt for d.Rcpts and records each
	// result in its Recipient (State, Message, Status and the host
	// fields), and nothing else of d.Env: other units of the same
	// message run beside it. When ctx ends, it returns soon, leaving
	// the recipients it did not finish pending.
	Deliver(ctx context.Context, d *Delivery)
}

// Delivery is one unit of work: the pending recipients of one message
// for one destination.
type Delivery struct {
	Env *Envelope // read only
	// Msg is the spooled message, shared with the message's other
	// units: read it with ReadAt only (Section gives a reader of its
	// own).
	Msg         *io.SectionReader
	Rcpts       []*Recipient // the recipients to try, all of Destination
	Destination string
	// Force is the operator's flush: the host retry times are ignored
	// too (Exim's -qff).
	Force bool
	// Waiting reports whether other deliveries to Destination are
	// waiting for a slot now: a connection is worth keeping for them.
	Waiting func() bool
}

// Runner delivers the spool: every message that is due, again after
// each Wake, with exponential backoff between attempts, bouncing what
// fails, up to MaxDeliveries units at once (sched.go). Set the fields,
// then Start; Stop ends it.
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

	// MaxDeliveries bounds the deliveries running at once,
	// MaxPerDestination those to one destination (0: the defaults).
	MaxDeliveries, MaxPerDestination int

	// Now replaces time.Now (tests).
	Now func() time.Time

	once sync.Once
	kick chan struct{}
	stop context.CancelFunc
	done chan struct{}

	// Messages in flight, the scheduler, and what the loop waits for.
	mu     sync.Mutex
	active map[string]*job
	sched  scheduler
	wg     sync.WaitGroup // units and jobs
	ended  chan struct{}  // a job ended (the loop looks again)
	noted  time.Time      // earliest next time of the jobs ended since
	cut    bool           // the last scan stopped at maxActive
}

func (r *Runner) init() {
	r.once.Do(func() {
		r.kick = make(chan struct{}, 1)
		r.ended = make(chan struct{}, 1)
		r.active = map[string]*job{}
		if r.Logger == nil {
			r.Logger = slog.Default()
		}
		if r.Now == nil {
			r.Now = time.Now
		}
	})
}

func (r *Runner) maxDeliveries() int {
	if r.MaxDeliveries > 0 {
		return r.MaxDeliveries
	}
	return DefaultMaxDeliveries
}

func (r *Runner) maxPerDestination() int {
	if r.MaxPerDestination > 0 {
		return r.MaxPerDestination
	}
	return DefaultMaxPerDestination
}

// maxActive bounds the messages in flight (each holds its lock and its
// message file open): enough to keep every slot busy behind a few slow
// destinations, few enough for the descriptors. Postfix's active queue
// (qmgr_message_active_limit) plays this part.
func (r *Runner) maxActive() int { return max(10*r.maxDeliveries(), 1000) }

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

// Stop stops the runner and waits for it and every delivery it
// started; deliveries in progress are cut off and count as deferred
// (retried soon after the next start), those waiting for a slot do
// not start.
func (r *Runner) Stop() {
	if r.stop == nil {
		return
	}
	r.stop()
	<-r.done
	r.wg.Wait()
	r.CloseIdle()
}

// CloseIdle ends the connections the Courier keeps for reuse (with
// QUIT), when it keeps any. A one-shot run (mta queue flush) calls it
// before exiting so peers see a clean end of session.
func (r *Runner) CloseIdle() {
	if c, ok := r.Courier.(interface{ CloseIdle() }); ok {
		c.CloseIdle()
	}
}

func (r *Runner) run(ctx context.Context) {
	for {
		_, next, _ := r.scan(ctx, false, nil)
		if ctx.Err() != nil {
			return
		}
	wait:
		for {
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
				t.Stop()
				break wait
			case <-t.C:
				break wait
			case <-r.ended:
				t.Stop()
				r.mu.Lock()
				noted, rescan := r.noted, r.cut && len(r.active) <= r.maxActive()/2
				r.noted = time.Time{}
				r.mu.Unlock()
				if rescan {
					break wait
				}
				if !noted.IsZero() && (next.IsZero() || noted.Before(next)) {
					next = noted
				}
			}
		}
	}
}

// jobEnded tells the loop about j's next attempt. r.mu is held.
func (r *Runner) jobEnded(j *job) {
	if j.more && (r.noted.IsZero() || j.next.Before(r.noted)) {
		r.noted = j.next
	}
	select {
	case r.ended <- struct{}{}:
	default:
	}
}

// scan admits every message that is due (every one with force) and
// not in flight or in skip, and returns the jobs started and the
// earliest next attempt time of the messages left waiting (zero:
// none). Messages another process holds are looked at again a second
// later.
func (r *Runner) scan(ctx context.Context, force bool, skip map[string]bool) (jobs []*job, next time.Time, cut bool) {
	r.init()
	names, _ := filepath.Glob(filepath.Join(r.Spool.dir, "*.env"))
	later := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	defer func() {
		r.mu.Lock()
		r.cut = cut
		r.mu.Unlock()
	}()
	for _, name := range names {
		if ctx.Err() != nil {
			return jobs, next, cut
		}
		id := strings.TrimSuffix(filepath.Base(name), ".env")
		r.mu.Lock()
		_, busy := r.active[id]
		full := len(r.active) >= r.maxActive()
		r.mu.Unlock()
		if busy || skip[id] {
			continue
		}
		if full {
			return jobs, next, true
		}
		// A first look without the lock: most messages are not due.
		env, err := r.Spool.loadFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue // delivered meanwhile
		}
		if err == nil && !force && r.Now().Before(env.Next) {
			later(env.Next)
			continue
		}
		j, n, err := r.admit(ctx, id, force)
		switch {
		case errors.Is(err, ErrBusy):
			later(r.Now().Add(time.Second)) // look again soon
		case err != nil && !errors.Is(err, ErrNotQueued):
			r.Logger.Warn("spool: unreadable envelope", "file", name, "err", err)
		case j != nil:
			jobs = append(jobs, j)
		case !n.IsZero():
			later(n)
		}
	}
	return jobs, next, false
}

// RunOnce tries every message that is due (every message with force,
// as Exim's -qf), waits for the attempts, and returns the earliest next
// attempt time of those left (zero: none). Messages another process
// holds, or this runner's loop, are skipped.
func (r *Runner) RunOnce(ctx context.Context, force bool) time.Time {
	r.init()
	var next time.Time
	later := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	seen := map[string]bool{}
	for {
		jobs, n, cut := r.scan(ctx, force, seen)
		later(n)
		for _, j := range jobs {
			<-j.done
			seen[j.env.ID] = true
			if j.more {
				later(j.next)
			}
		}
		if !cut || ctx.Err() != nil {
			return next
		}
	}
}

// Process makes one delivery attempt for message id when it is due (or
// force), holding its lock, and returns the next attempt time when
// recipients are left.
func (r *Runner) Process(ctx context.Context, id string, force bool) (next time.Time, left bool, err error) {
	r.init()
	r.mu.Lock()
	_, busy := r.active[id]
	r.mu.Unlock()
	if busy {
		return time.Time{}, false, ErrBusy
	}
	j, n, err := r.admit(ctx, id, force)
	if err != nil || j == nil {
		return n, !n.IsZero(), err
	}
	<-j.done
	return j.next, j.more, nil
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
