package queue

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/durable"
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
	Pending   = "pending"
	Delivered = "delivered"
	Failed    = "failed"
)

// Envelope is the spooled state of one message.
type Envelope struct {
	ID       string       `json:"id"`
	From     string       `json:"from"` // "" for a bounce
	Arrival  time.Time    `json:"arrival"`
	Attempts int          `json:"attempts"`
	Next     time.Time    `json:"next"`
	Warned   bool         `json:"warned"` // delay DSN sent
	Rcpts    []*Recipient `json:"rcpts"`
	// MAIL's DSN parameters (RFC 3461): RET ("FULL", "HDRS"; "": not
	// given) and ENVID, decoded; and SMTPUTF8 (RFC 6531).
	Ret      string `json:"ret,omitempty"`
	EnvID    string `json:"envid,omitempty"`
	SMTPUTF8 bool   `json:"smtputf8,omitempty"`
	// Size is the message's size with CRLF line ends, as sent (SIZE=);
	// the data file may hold LF line ends. 0: unknown (the file's size).
	Size int64 `json:"size,omitempty"`
}

// Recipient is one recipient of a spooled message with the result of
// its last attempt.
type Recipient struct {
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
	// RCPT's DSN parameters (RFC 3461): NOTIFY as given ("NEVER",
	// "SUCCESS,DELAY"; "": not given, which means FAILURE,DELAY) and
	// ORCPT as "addr-type;address", decoded. DSNPassed: the last host
	// tried offered DSN and was given them, so the DSNs past it are its.
	Notify    string `json:"notify,omitempty"`
	ORCPT     string `json:"orcpt,omitempty"`
	DSNPassed bool   `json:"dsn_passed,omitempty"`
}

// PendingCount is the number of recipients still to be tried.
func (e *Envelope) PendingCount() int {
	n := 0
	for _, r := range e.Rcpts {
		if r.State == Pending {
			n++
		}
	}
	return n
}

// Spool is the queue directory.
type Spool struct {
	dir string
	mu  sync.Mutex // serialises envelope files written by sessions and the runner
}

// OpenSpool makes dir the spool, creating it if needed.
func OpenSpool(dir string) (*Spool, error) {
	if err := os.MkdirAll(filepath.Join(dir, tempDir), 0o700); err != nil {
		return nil, err
	}
	return &Spool{dir: dir}, nil
}

// tempDir is the spool's directory for files being received.
const tempDir = "tmp"

// TempDir is where messages are received into files before their
// copies are made (smtpd.Config.TempDir): on the spool's file system,
// so that a copy into the spool is made in the kernel. Those files are
// unlinked once created; Clean removes any a crash left in between.
func (s *Spool) TempDir() string { return filepath.Join(s.dir, tempDir) }

// Dir is the spool directory.
func (s *Spool) Dir() string { return s.dir }

func (s *Spool) path(id, ext string) string { return filepath.Join(s.dir, id+ext) }

// Prepared is a message written to the spool but not yet visible to
// the runner (its envelope has a temporary name). One Prepared serves
// all the recipients of a group: Commit and Abort are idempotent.
type Prepared struct {
	s      *Spool
	id     string
	envTmp string
	once   sync.Once
	err    error
}

// ID is the spool id the message got (the one asked for, or a new one
// when files of that id existed).
func (p *Prepared) ID() string { return p.id }

// Prepare writes the message and a temporary envelope, both fsynced,
// under id or, when files of that id exist, under a new one.
func (s *Spool) Prepare(id, from string, rcpts []string, data []byte) (*Prepared, error) {
	env := &Envelope{ID: id, From: from}
	for _, r := range rcpts {
		env.Rcpts = append(env.Rcpts, &Recipient{Addr: r})
	}
	return s.PrepareEnvelope(env, data)
}

// PrepareEnvelope is Prepare for an envelope with more than addresses
// (DSN parameters, SMTPUTF8): env.ID is the id asked for; the spool
// sets the arrival and next-attempt times, and makes every recipient
// pending. env itself is not changed.
func (s *Spool) PrepareEnvelope(env *Envelope, data []byte) (*Prepared, error) {
	return s.PrepareEnvelopeFrom(env, durable.Bytes(data))
}

// PrepareEnvelopeFrom is PrepareEnvelope for a message that src writes
// (durable.WriteFrom): a received message is copied from its file into
// the spool, never held in memory. The data file holds the message
// with LF or CRLF line ends (the courier sends either as CRLF).
func (s *Spool) PrepareEnvelopeFrom(env *Envelope, src io.WriterTo) (*Prepared, error) {
	sid := env.ID
	for try := 1; ; try++ {
		p, err := s.prepareAs(sid, env, src)
		if !errors.Is(err, fs.ErrExist) || try == durable.MaxNameTries {
			return p, err
		}
		sid = env.ID + "-" + b62(randomUint64(), 6)
	}
}

// prepareAs is PrepareEnvelope under exactly sid; fs.ErrExist when a
// file of sid is already in the spool (nothing is then left behind).
func (s *Spool) prepareAs(sid string, tmpl *Envelope, src io.WriterTo) (*Prepared, error) {
	env := &Envelope{ID: sid, From: tmpl.From, Arrival: time.Now().UTC(), Next: time.Now().UTC(),
		Ret: tmpl.Ret, EnvID: tmpl.EnvID, SMTPUTF8: tmpl.SMTPUTF8, Size: tmpl.Size}
	for _, r := range tmpl.Rcpts {
		env.Rcpts = append(env.Rcpts, &Recipient{Addr: r.Addr, State: Pending, Notify: r.Notify, ORCPT: r.ORCPT})
	}
	b, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return nil, err
	}
	msg := s.path(sid, ".msg")
	if err := durable.WriteFrom(msg, src); err != nil {
		return nil, err
	}
	// An envelope without its message (a crash in remove) would make
	// the runner deliver ours with its recipients.
	if _, err := os.Lstat(s.path(sid, ".env")); !errors.Is(err, fs.ErrNotExist) {
		os.Remove(msg)
		if err == nil {
			err = &fs.PathError{Op: "create", Path: s.path(sid, ".env"), Err: fs.ErrExist}
		}
		return nil, err
	}
	tmp := s.path(sid, ".env.tmp")
	if err := durable.WriteFile(tmp, b); err != nil {
		os.Remove(msg)
		return nil, err
	}
	return &Prepared{s: s, id: sid, envTmp: tmp}, nil
}

// Commit publishes the envelope: from now on the message is queued.
func (p *Prepared) Commit() error {
	p.once.Do(func() {
		final := p.s.path(p.id, ".env")
		p.err = durable.Publish(p.envTmp, final)
		if p.err == nil {
			p.err = durable.SyncDir(p.s.dir)
		}
		switch {
		case errors.Is(p.err, fs.ErrExist):
			// Someone else's envelope: remove only what is ours.
			os.Remove(p.envTmp)
			os.Remove(p.s.path(p.id, ".msg"))
		case p.err != nil:
			p.abortFiles()
		}
	})
	return p.err
}

// Abort removes the prepared files.
func (p *Prepared) Abort() {
	p.once.Do(func() {
		p.err = errors.New("aborted")
		p.abortFiles()
	})
}

func (p *Prepared) abortFiles() {
	os.Remove(p.envTmp)
	os.Remove(p.s.path(p.id, ".env"))
	os.Remove(p.s.path(p.id, ".msg"))
}

// Enqueue spools a message at once (bounces).
func (s *Spool) Enqueue(id, from string, rcpts []string, data []byte) (string, error) {
	p, err := s.Prepare(id, from, rcpts, data)
	if err != nil {
		return "", err
	}
	if err := p.Commit(); err != nil {
		return "", err
	}
	return p.id, nil
}

// ErrNotQueued is returned for an id that has no envelope.
var ErrNotQueued = errors.New("no such message in the queue")

// Load reads the envelope of id.
func (s *Spool) Load(id string) (*Envelope, error) {
	if !validID(id) {
		return nil, fmt.Errorf("%q: %w", id, ErrNotQueued)
	}
	env, err := s.loadFile(s.path(id, ".env"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", id, ErrNotQueued)
	}
	return env, err
}

// validID keeps ids given on a command line inside the spool.
func validID(id string) bool {
	return id != "" && !strings.ContainsAny(id, `/\.`) && len(id) < 128
}

func (s *Spool) loadFile(name string) (*Envelope, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	env := &Envelope{}
	if err := json.Unmarshal(b, env); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(name), err)
	}
	return env, nil
}

// Message reads the spooled message of id (wire form, CRLF).
func (s *Spool) Message(id string) ([]byte, error) {
	if !validID(id) {
		return nil, fmt.Errorf("%q: %w", id, ErrNotQueued)
	}
	return os.ReadFile(s.path(id, ".msg"))
}

// Save rewrites env's envelope durably.
func (s *Spool) Save(env *Envelope) error {
	b, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	final := s.path(env.ID, ".env")
	tmp := final + ".tmp"
	// The message is ours and committed, so a tmp file of its id can
	// only be left from a save that crashed; the rename below replaces
	// our own envelope on purpose.
	os.Remove(tmp)
	if err := durable.WriteFile(tmp, b); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	return durable.SyncDir(s.dir)
}

// Remove deletes a message from the spool.
func (s *Spool) Remove(env *Envelope) {
	os.Remove(s.path(env.ID, ".env"))
	os.Remove(s.path(env.ID, ".msg"))
	os.Remove(s.path(env.ID, ".lock"))
	durable.SyncDir(s.dir)
}

// List returns the queued envelopes in id order (ids start with the
// arrival time, so that is roughly arrival order). Unreadable
// envelopes are reported in bad, by file name.
func (s *Spool) List() (envs []*Envelope, bad map[string]error, err error) {
	names, err := filepath.Glob(filepath.Join(s.dir, "*.env"))
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		env, err := s.loadFile(name)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // delivered meanwhile
			}
			if bad == nil {
				bad = map[string]error{}
			}
			bad[filepath.Base(name)] = err
			continue
		}
		envs = append(envs, env)
	}
	return envs, bad, nil
}

// Stats counts the queued messages and the age of the oldest, from
// the directory alone (message ids begin with their arrival time), so
// that a metrics scrape never reads envelopes.
func (s *Spool) Stats() (messages int, oldest time.Duration) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, 0
	}
	now := time.Now()
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".env")
		if !ok {
			continue
		}
		messages++
		if t, ok := idTime(id); ok && now.Sub(t) > oldest {
			oldest = now.Sub(t)
		}
	}
	return messages, oldest
}
