package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mailpolicy/mailpolicy/events"
)

// The spool holds one message as two files in the -spool directory:
// ID.msg, the message as it goes on the wire (CRLF, our trace headers
// on top), and ID.env, the envelope (JSON). Both are written to a
// temporary name, fsynced and renamed; the envelope is renamed last,
// and the runner only looks at *.env, so a crash never leaves a
// half-written message in the queue. The envelope is rewritten the
// same way after each delivery attempt.

// Recipient states in the envelope.
const (
	rcptPending   = "pending"
	rcptDelivered = "delivered"
	rcptFailed    = "failed"
)

// envelope is the spooled state of one message.
type envelope struct {
	ID       string       `json:"id"`
	From     string       `json:"from"` // "" for a bounce
	Arrival  time.Time    `json:"arrival"`
	Attempts int          `json:"attempts"`
	Next     time.Time    `json:"next"`
	Warned   bool         `json:"warned"` // delay DSN sent
	Rcpts    []*spoolRcpt `json:"rcpts"`
}

// spoolRcpt is one recipient of a spooled message with the result of
// its last attempt.
type spoolRcpt struct {
	Addr    string `json:"addr"`
	State   string `json:"state"`
	Bounced bool   `json:"bounced,omitempty"`
	Message string `json:"message,omitempty"` // Exim's address message
	Status  string `json:"status,omitempty"`  // enhanced status for the DSN
	// The last host tried, for the DSN.
	Host     string `json:"host,omitempty"`
	IP       string `json:"ip,omitempty"`
	Port     int    `json:"port,omitempty"`
	Greeting string `json:"greeting,omitempty"`
	HELO     string `json:"helo,omitempty"`
}

// queue is the spool plus its runner.
type queue struct {
	srv  *Server
	dir  string
	kick chan struct{}

	mu   sync.Mutex // serialises envelope files written by sessions and the runner
	stop context.CancelFunc
	done chan struct{}
}

func openQueue(srv *Server, dir string) (*queue, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &queue{srv: srv, dir: dir, kick: make(chan struct{}, 1)}, nil
}

// spoolPending is a message written to the spool but not yet visible
// to the runner (its envelope has a temporary name). One spoolPending
// serves all the recipients of a group: commit and abort are
// idempotent.
type spoolPending struct {
	q      *queue
	id     string
	envTmp string
	once   sync.Once
	err    error
}

// prepare writes the message and a temporary envelope, both fsynced.
func (q *queue) prepare(id, from string, rcpts []string, data []byte) (*spoolPending, error) {
	env := &envelope{ID: id, From: from, Arrival: time.Now().UTC(), Next: time.Now().UTC()}
	for _, r := range rcpts {
		env.Rcpts = append(env.Rcpts, &spoolRcpt{Addr: r, State: rcptPending})
	}
	if err := writeFileSync(filepath.Join(q.dir, id+".msg"), data, os.O_TRUNC); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return nil, err
	}
	tmp := filepath.Join(q.dir, id+".env.tmp")
	if err := writeFileSync(tmp, b, os.O_TRUNC); err != nil {
		os.Remove(filepath.Join(q.dir, id+".msg"))
		return nil, err
	}
	return &spoolPending{q: q, id: id, envTmp: tmp}, nil
}

func (p *spoolPending) commit() error {
	p.once.Do(func() {
		p.err = os.Rename(p.envTmp, filepath.Join(p.q.dir, p.id+".env"))
		if p.err == nil {
			p.err = syncDir(p.q.dir)
		}
		if p.err != nil {
			p.abortFiles()
		}
	})
	return p.err
}

func (p *spoolPending) abort() {
	p.once.Do(func() {
		p.err = errors.New("aborted")
		p.abortFiles()
	})
}

func (p *spoolPending) abortFiles() {
	os.Remove(p.envTmp)
	os.Remove(filepath.Join(p.q.dir, p.id+".env"))
	os.Remove(filepath.Join(p.q.dir, p.id+".msg"))
}

// enqueue spools a message at once (bounces).
func (q *queue) enqueue(id, from string, rcpts []string, data []byte) error {
	p, err := q.prepare(id, from, rcpts, data)
	if err != nil {
		return err
	}
	if err := p.commit(); err != nil {
		return err
	}
	q.wake()
	return nil
}

// wake makes the runner look at the spool now.
func (q *queue) wake() {
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// start runs the runner until stopRunner.
func (q *queue) start() {
	ctx, cancel := context.WithCancel(context.Background())
	q.stop = cancel
	q.done = make(chan struct{})
	go func() {
		defer close(q.done)
		q.run(ctx)
	}()
}

// stopRunner stops the runner and waits for it; a delivery in progress
// is cut off and counts as deferred.
func (q *queue) stopRunner() {
	if q.stop == nil {
		return
	}
	q.stop()
	<-q.done
}

func (q *queue) run(ctx context.Context) {
	log := q.srv.cfg.Logger
	for {
		next := q.runOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(time.Until(next), time.Millisecond)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			log.Debug("queue runner stopped")
			return
		case <-q.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// runOnce tries every message that is due and returns the earliest
// next attempt time of those left (zero: none).
func (q *queue) runOnce(ctx context.Context) time.Time {
	names, _ := filepath.Glob(filepath.Join(q.dir, "*.env"))
	sort.Strings(names)
	var next time.Time
	for _, name := range names {
		if ctx.Err() != nil {
			return next
		}
		env, err := q.load(name)
		if err != nil {
			q.srv.cfg.Logger.Warn("spool: unreadable envelope", "file", name, "err", err)
			continue
		}
		if time.Now().Before(env.Next) {
			if next.IsZero() || env.Next.Before(next) {
				next = env.Next
			}
			continue
		}
		if n, ok := q.process(ctx, env); ok && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	return next
}

func (q *queue) load(name string) (*envelope, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	env := &envelope{}
	if err := json.Unmarshal(b, env); err != nil {
		return nil, err
	}
	return env, nil
}

func (q *queue) save(env *envelope) error {
	b, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	final := filepath.Join(q.dir, env.ID+".env")
	tmp := final + ".tmp"
	if err := writeFileSync(tmp, b, os.O_TRUNC); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	return syncDir(q.dir)
}

func (q *queue) remove(env *envelope) {
	os.Remove(filepath.Join(q.dir, env.ID+".env"))
	os.Remove(filepath.Join(q.dir, env.ID+".msg"))
	syncDir(q.dir)
}

// process makes one delivery attempt for env and returns the next
// attempt time when recipients are left.
func (q *queue) process(ctx context.Context, env *envelope) (time.Time, bool) {
	cfg := &q.srv.cfg
	log := cfg.Logger
	data, err := os.ReadFile(filepath.Join(q.dir, env.ID+".msg"))
	if err != nil {
		log.Warn("spool: message file missing", "id", env.ID, "err", err)
		q.remove(env)
		return time.Time{}, false
	}
	env.Attempts++
	q.deliverMessage(ctx, env, data)

	now := time.Now()
	pending := 0
	for _, r := range env.Rcpts {
		if r.State == rcptPending {
			pending++
		}
	}
	if pending > 0 && now.Sub(env.Arrival) >= cfg.RetryMaxAge && ctx.Err() == nil {
		// Exim's "retry timeout exceeded": the deferred addresses fail.
		for _, r := range env.Rcpts {
			if r.State != rcptPending {
				continue
			}
			r.State = rcptFailed
			if r.Message == "" {
				r.Message = "retry timeout exceeded"
			} else {
				r.Message = "retry timeout exceeded: " + r.Message
			}
			if r.Status == "" || !strings.HasPrefix(r.Status, "5") {
				r.Status = "5.4.7"
			}
			log.Info("failed", "id", env.ID, "rcpt", r.Addr, "reason", r.Message)
			q.raiseFail(ctx, env, r)
		}
		pending = 0
	}
	// Bounce the addresses that failed in this attempt.
	var failed []*spoolRcpt
	for _, r := range env.Rcpts {
		if r.State == rcptFailed && !r.Bounced {
			r.Bounced = true
			failed = append(failed, r)
		}
	}
	if len(failed) > 0 {
		q.srv.bounce(env, data, failed, false)
	}
	if pending == 0 {
		log.Info("completed", "id", env.ID)
		q.srv.raiseOut(ctx, events.Event{Name: events.MsgComplete, MessageID: env.ID})
		q.remove(env)
		return time.Time{}, false
	}
	if cfg.DelayWarning > 0 && !env.Warned && now.Sub(env.Arrival) >= cfg.DelayWarning {
		env.Warned = true
		var delayed []*spoolRcpt
		for _, r := range env.Rcpts {
			if r.State == rcptPending {
				delayed = append(delayed, r)
			}
		}
		q.srv.bounce(env, data, delayed, true)
	}
	// Backoff: the interval doubles with each attempt, up to an hour
	// (or the interval itself when that is longer).
	d := cfg.RetryInterval
	for i := 1; i < env.Attempts && d < max(time.Hour, cfg.RetryInterval); i++ {
		d *= 2
	}
	d = min(d, max(time.Hour, cfg.RetryInterval))
	if ctx.Err() != nil {
		// Cut off by shutdown: not the server's fault, try again soon
		// after the restart.
		env.Attempts--
		d = 0
	}
	env.Next = now.Add(d).UTC()
	if err := q.save(env); err != nil {
		log.Warn("spool: cannot update envelope", "id", env.ID, "err", err)
	}
	log.Info("deferred", "id", env.ID, "pending", pending, "next", env.Next.Format(time.RFC3339Nano))
	return env.Next, true
}

// writeFileSync writes data to name and fsyncs it; on failure the file
// is removed. flag adds to O_CREATE|O_WRONLY (O_TRUNC for the spool,
// O_EXCL for a Maildir's unique names).
func writeFileSync(name string, data []byte, flag int) error {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|flag, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
