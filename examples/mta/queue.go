package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
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
//
// A new message never replaces a file already in the spool: ID.msg is
// created with O_EXCL, and the envelope is published with link(2),
// which fails where rename(2) would overwrite. The ID is the message
// id, whose sequence part starts at a random offset in each process
// (idSalt); if the files of that ID exist anyway (a restart with the
// same PID in the same second, leftovers of a crash), the message is
// spooled under ID-<random> instead.

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

// maxNameTries bounds the search for a free spool or Maildir name; a
// collision needs the same clock, PID, counter and random draw, so
// running out means something else is wrong (a directory that refuses
// every create with EEXIST).
const maxNameTries = 8

// prepare writes the message and a temporary envelope, both fsynced,
// under id or, when files of that id exist, under a new one.
func (q *queue) prepare(id, from string, rcpts []string, data []byte) (*spoolPending, error) {
	sid := id
	for try := 1; ; try++ {
		p, err := q.prepareAs(sid, from, rcpts, data)
		if !errors.Is(err, fs.ErrExist) || try == maxNameTries {
			return p, err
		}
		sid = id + "-" + b62(randomUint64(), 6)
	}
}

// prepareAs is prepare under exactly sid; fs.ErrExist when a file of
// sid is already in the spool (nothing is then left behind).
func (q *queue) prepareAs(sid, from string, rcpts []string, data []byte) (*spoolPending, error) {
	env := &envelope{ID: sid, From: from, Arrival: time.Now().UTC(), Next: time.Now().UTC()}
	for _, r := range rcpts {
		env.Rcpts = append(env.Rcpts, &spoolRcpt{Addr: r, State: rcptPending})
	}
	b, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return nil, err
	}
	msg := filepath.Join(q.dir, sid+".msg")
	if err := writeFileSync(msg, data); err != nil {
		return nil, err
	}
	// An envelope without its message (a crash in remove) would make
	// the runner deliver ours with its recipients.
	if _, err := os.Lstat(filepath.Join(q.dir, sid+".env")); !errors.Is(err, fs.ErrNotExist) {
		os.Remove(msg)
		if err == nil {
			err = &fs.PathError{Op: "create", Path: filepath.Join(q.dir, sid+".env"), Err: fs.ErrExist}
		}
		return nil, err
	}
	tmp := filepath.Join(q.dir, sid+".env.tmp")
	if err := writeFileSync(tmp, b); err != nil {
		os.Remove(msg)
		return nil, err
	}
	return &spoolPending{q: q, id: sid, envTmp: tmp}, nil
}

func (p *spoolPending) commit() error {
	p.once.Do(func() {
		final := filepath.Join(p.q.dir, p.id+".env")
		p.err = publish(p.envTmp, final)
		if p.err == nil {
			p.err = syncDir(p.q.dir)
		}
		switch {
		case errors.Is(p.err, fs.ErrExist):
			// Someone else's envelope: remove only what is ours.
			os.Remove(p.envTmp)
			os.Remove(filepath.Join(p.q.dir, p.id+".msg"))
		case p.err != nil:
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
	// The message is ours and committed, so a tmp file of its id can
	// only be left from a save that crashed; the rename below replaces
	// our own envelope on purpose.
	os.Remove(tmp)
	if err := writeFileSync(tmp, b); err != nil {
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

// writeFileSync creates name, which must not exist (O_EXCL: an error
// satisfying errors.Is(err, fs.ErrExist) otherwise, and the existing
// file is untouched), writes data and fsyncs it; on a later failure the
// new file is removed.
func writeFileSync(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
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

// publish makes tmp visible as final and never replaces a file already
// there: link(2) fails with EEXIST where rename(2) would overwrite.
// Where hard links are not supported the fallback is a check before
// rename, racy against another process on the same directory but not
// against this one, whose names are unique.
func publish(tmp, final string) error {
	err := os.Link(tmp, final)
	if err == nil {
		// tmp is only a second name now; a leftover is harmless.
		os.Remove(tmp)
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return err
	}
	if _, serr := os.Lstat(final); serr == nil {
		return &fs.PathError{Op: "publish", Path: final, Err: fs.ErrExist}
	} else if !errors.Is(serr, fs.ErrNotExist) {
		return serr
	}
	return os.Rename(tmp, final)
}

// idSalt offsets the sequence part of message ids (newMessageID), so
// that a process restarted with the same PID in the same second does
// not count through the previous run's ids again.
var idSalt = newIDSalt()

func newIDSalt() uint64 { return randomUint64() }

// randomUint64 draws from crypto/rand, whose Read never returns an
// error: it crashes the program rather than hand out predictable bytes.
func randomUint64() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}
