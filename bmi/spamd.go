package bmi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
)

// SpamdCommand is the spamd request a Spamd scanner sends.
type SpamdCommand uint8

const (
	// SpamdSymbols sends SYMBOLS: score and the names of the rules hit.
	SpamdSymbols SpamdCommand = iota
	// SpamdReport sends REPORT: score and the text report, whose table
	// also gives the names of the rules hit.
	SpamdReport
	// SpamdCheck sends CHECK: score only, so no rules fire.
	SpamdCheck
)

// String returns the protocol verb: "SYMBOLS", "REPORT" or "CHECK".
func (c SpamdCommand) String() string {
	switch c {
	case SpamdSymbols:
		return "SYMBOLS"
	case SpamdReport:
		return "REPORT"
	case SpamdCheck:
		return "CHECK"
	case spamdPing:
		return "PING"
	}
	return "SpamdCommand(" + strconv.Itoa(int(c)) + ")"
}

// SpamdDialer opens connections to spamd; *net.Dialer is one.
type SpamdDialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// Defaults of the Spamd fields.
const (
	DefaultSpamdAddr        = "127.0.0.1:783"
	DefaultSpamdTimeout     = 60 * time.Second
	DefaultSpamdMaxSize     = 500 << 10 // spamc's default -s
	DefaultSpamdAltLocation = "spam"
	DefaultSpamdConcurrency = 4
	// MaxSpamdReply bounds what is read of one spamd reply.
	MaxSpamdReply = 1 << 20
	// maxProfile bounds a profile (spamd user) name.
	maxProfile = 256
)

// Verdict.Err texts. They are short, fixed and free of control
// characters, since they end up in logs and spool lines.
const (
	errTextTooLarge   = "message too large for spamd"
	errTextBadProfile = "invalid spamd profile"
	errTextTimeout    = "spamd: timeout"
	errTextConnect    = "spamd: connection failed"
	errTextIO         = "spamd: i/o error"
	errTextReply      = "spamd: malformed reply"
)

// ErrSpamdTooLarge is returned by Request for a message over MaxSize.
var ErrSpamdTooLarge = errors.New("bmi: " + errTextTooLarge)

// ErrSpamdUser is returned by Request for a user (profile) name that
// is empty-but-not-allowed, too long, or has spaces or control
// characters.
var ErrSpamdUser = errors.New("bmi: " + errTextBadProfile)

// ConnError is a failure to talk to spamd: dialing, writing the request
// or reading the reply. Err is the cause; when the context ended it is
// the context's error, so errors.Is(err, context.DeadlineExceeded) and
// errors.Is(err, context.Canceled) work.
type ConnError struct {
	Op   string // "dial", "write" or "read"
	Addr string
	Err  error
}

func (e *ConnError) Error() string {
	return "bmi: spamd " + e.Op + " " + e.Addr + ": " + e.Err.Error()
}

func (e *ConnError) Unwrap() error { return e.Err }

// SpamdResult is spamd's answer to one request.
type SpamdResult struct {
	// Spam is spamd's own judgement: Score ≥ Threshold.
	Spam bool
	// Score is the message's score; Threshold is the profile's
	// required_score.
	Score, Threshold float64
	// Symbols are the names of the rules hit (SYMBOLS, REPORT), in
	// spamd's order.
	Symbols []string
	// Report is the REPORT text.
	Report string
}

// Spamd is a Scanner that asks SpamAssassin's spamd (SPAMC/1.5
// protocol). The zero value asks 127.0.0.1:783 with SYMBOLS, one
// request per profile, at most 4 at a time.
//
// Recipients are grouped by profile; each group gets one spamd request
// (with "User: <profile>" when the profile is not empty, which selects
// spamd's per-user configuration) and one Verdict. Destination is None
// when the score reaches NoneScore, Alternate (to AltLocation) when it
// reaches AltScore, else Default. A group whose request fails gets a
// Verdict with Err set and Destination Default.
//
// The message sent is Header, the blank line that ends the header
// section and Body, unchanged: the blank line is CRLF when Header ends
// in CRLF (or is empty) and LF otherwise, so the line ends stay
// consistent; spamd accepts either.
type Spamd struct {
	// Network is "tcp" (default) or "unix" (any network the Dialer
	// knows).
	Network string
	// Addr is spamd's address; default "127.0.0.1:783" for TCP. A unix
	// socket path must be given.
	Addr string
	// Dialer opens connections; nil means a *net.Dialer.
	Dialer SpamdDialer
	// Command is the request sent; default SpamdSymbols.
	Command SpamdCommand
	// Timeout bounds each request (dial, write, read); default 60 s.
	// The Scan context bounds it too.
	Timeout time.Duration
	// MaxSize is the largest message sent, in bytes; default 500 KiB as
	// spamc. The recipients of a larger message get a Verdict with Err
	// "message too large for spamd".
	MaxSize int
	// Profile names the spamd user for a recipient; nil means the
	// recipient's first opt-in feature, and no opt-in means no profile
	// (no User header). A profile with spaces or control characters, or
	// longer than 256 bytes, gives its recipients an Err verdict.
	Profile func(Recipient) string
	// AltScore is the score at or above which the destination is
	// Alternate; 0 means spamd's own judgement (its Spam flag, i.e. the
	// profile's required_score).
	AltScore float64
	// NoneScore is the score at or above which the message is not
	// delivered (Destination None); 0 means never.
	NoneScore float64
	// AltLocation is the Verdict.AltLocation of Alternate verdicts;
	// default "spam". It must not hold control characters.
	AltLocation string
	// Rules maps SpamAssassin rule names to rule numbers (> 0). Rules
	// not in the map are ignored. Verdict.Rules is sorted, without
	// duplicates.
	Rules map[string]int
	// Concurrency is the number of simultaneous spamd requests of one
	// Scan; default 4.
	Concurrency int
}

var _ Scanner = (*Spamd)(nil)

func (s *Spamd) network() string {
	if s.Network == "" {
		return "tcp"
	}
	return s.Network
}

func (s *Spamd) addr() string {
	if s.Addr == "" {
		switch s.network() {
		case "tcp", "tcp4", "tcp6":
			return DefaultSpamdAddr
		}
	}
	return s.Addr
}

func (s *Spamd) timeout() time.Duration {
	if s.Timeout <= 0 {
		return DefaultSpamdTimeout
	}
	return s.Timeout
}

func (s *Spamd) maxSize() int {
	if s.MaxSize <= 0 {
		return DefaultSpamdMaxSize
	}
	return s.MaxSize
}

func (s *Spamd) altLocation() string {
	if s.AltLocation == "" {
		return DefaultSpamdAltLocation
	}
	return s.AltLocation
}

func (s *Spamd) concurrency() int {
	if s.Concurrency <= 0 {
		return DefaultSpamdConcurrency
	}
	return s.Concurrency
}

func (s *Spamd) profile(r Recipient) string {
	if s.Profile != nil {
		return s.Profile(r)
	}
	if len(r.OptIn) > 0 {
		return r.OptIn[0]
	}
	return ""
}

// validProfile reports whether p can be sent as a User header: empty
// (no header), or at most 256 bytes without spaces or control
// characters.
func validProfile(p string) bool {
	if len(p) > maxProfile {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

type spamdGroup struct {
	profile    string
	recipients []string
}

// Scan implements Scanner. It returns an error only when m is nil or
// has no recipients, AltLocation is not clean, or ctx ends before all
// requests are done; per-profile failures become Err verdicts.
func (s *Spamd) Scan(ctx context.Context, m *Message) (Verdicts, error) {
	if m == nil {
		return nil, errors.New("bmi: spamd: nil message")
	}
	if len(m.Recipients) == 0 {
		return nil, errors.New("bmi: spamd: message has no recipients")
	}
	if !clean(s.AltLocation) {
		return nil, errors.New("bmi: spamd: control character in AltLocation")
	}
	for _, r := range m.Recipients {
		if r.Address == "" || !clean(r.Address) {
			// A verdict naming it could not be spooled and read back.
			return nil, fmt.Errorf("bmi: spamd: bad recipient address %q", r.Address)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var groups []spamdGroup
	index := make(map[string]int)
	for _, r := range m.Recipients {
		p := s.profile(r)
		i, ok := index[p]
		if !ok {
			i = len(groups)
			index[p] = i
			groups = append(groups, spamdGroup{profile: p})
		}
		groups[i].recipients = append(groups[i].recipients, r.Address)
	}

	tooLarge := m.Size() > int64(s.maxSize())
	var msg []byte
	var readErr error
	if !tooLarge {
		msg, readErr = composeMessage(m)
	}
	vs := make(Verdicts, len(groups))
	sem := make(chan struct{}, s.concurrency())
	var wg sync.WaitGroup
	for i, g := range groups {
		vs[i].Recipients = g.recipients
		switch {
		case !validProfile(g.profile):
			vs[i].Err = errTextBadProfile
			continue
		case tooLarge:
			vs[i].Err = errTextTooLarge
			continue
		case readErr != nil:
			vs[i].Err = errTextIO
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return nil, ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res, err := s.Request(ctx, g.profile, msg)
			s.fill(&vs[i], res, err)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// A connection deadline taken from ctx can fire just before ctx's
	// own timer does: the context is over all the same.
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return nil, context.DeadlineExceeded
	}
	return vs, nil
}

// fill sets v's outcome from one request.
func (s *Spamd) fill(v *Verdict, res *SpamdResult, err error) {
	if err != nil {
		v.Err = errText(err)
		return
	}
	switch {
	case s.NoneScore != 0 && res.Score >= s.NoneScore:
		v.Destination = None
	case s.AltScore != 0 && res.Score >= s.AltScore, s.AltScore == 0 && res.Spam:
		v.Destination = Alternate
		v.AltLocation = s.altLocation()
	}
	for _, sym := range res.Symbols {
		if n, ok := s.Rules[sym]; ok && n > 0 {
			v.Rules = append(v.Rules, n)
		}
	}
	slices.Sort(v.Rules)
	v.Rules = slices.Compact(v.Rules)
}

// errText gives the short Verdict.Err text for a request error.
func errText(err error) string {
	var se *SpamdError
	var re *ReplyError
	var ce *ConnError
	switch {
	case errors.As(err, &se):
		t := "spamd: error " + strconv.Itoa(se.Code)
		if n := exName(se.Code); n != "" {
			t += " " + n
		}
		return t
	case errors.As(err, &re):
		return errTextReply + ": " + re.Reason
	case errors.Is(err, ErrSpamdTooLarge):
		return errTextTooLarge
	case errors.Is(err, ErrSpamdUser):
		return errTextBadProfile
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return errTextTimeout
	case errors.As(err, &ce) && ce.Op == "dial":
		return errTextConnect
	}
	return errTextIO
}

// composeMessage joins header, blank line and body, reading a
// BodyReader's BodySize octets (the caller has checked the size).
func composeMessage(m *Message) ([]byte, error) {
	b := make([]byte, 0, m.Size())
	b = append(b, m.Header...)
	b = append(b, blankLine(m.Header)...)
	if m.BodyReader == nil {
		return append(b, m.Body...), nil
	}
	n := len(b)
	b = b[:n+int(m.BodySize)]
	if _, err := io.ReadFull(m.BodyReader, b[n:]); err != nil {
		return nil, fmt.Errorf("bmi: reading the message body: %w", err)
	}
	return b, nil
}

// Request makes one spamd request with s.Command for msg (a complete
// message), as user (the User header; "" sends none). Errors are
// ErrSpamdTooLarge, ErrSpamdUser, *ConnError, *SpamdError or
// *ReplyError.
func (s *Spamd) Request(ctx context.Context, user string, msg []byte) (*SpamdResult, error) {
	if user != "" && !validProfile(user) {
		return nil, ErrSpamdUser
	}
	if len(msg) > s.maxSize() {
		return nil, ErrSpamdTooLarge
	}
	cmd := s.Command
	if cmd > SpamdCheck {
		return nil, errors.New("bmi: spamd: unknown command")
	}
	hdr := make([]byte, 0, 80+len(user))
	hdr = append(hdr, cmd.String()...)
	hdr = append(hdr, " SPAMC/1.5\r\nContent-length: "...)
	hdr = strconv.AppendInt(hdr, int64(len(msg)), 10)
	hdr = append(hdr, "\r\n"...)
	if user != "" {
		hdr = append(hdr, "User: "...)
		hdr = append(hdr, user...)
		hdr = append(hdr, "\r\n"...)
	}
	hdr = append(hdr, "\r\n"...)
	return s.exchange(ctx, cmd, hdr, msg)
}

// Ping sends PING and expects PONG.
func (s *Spamd) Ping(ctx context.Context) error {
	_, err := s.exchange(ctx, spamdPing, []byte("PING SPAMC/1.5\r\n\r\n"), nil)
	return err
}

func (s *Spamd) exchange(ctx context.Context, cmd SpamdCommand, hdr, msg []byte) (*SpamdResult, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	addr := s.addr()
	var d SpamdDialer = s.Dialer
	if d == nil {
		d = &net.Dialer{}
	}
	conn, err := d.DialContext(ctx, s.network(), addr)
	if err != nil {
		return nil, connErr("dial", addr, ctx, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	bufs := net.Buffers{hdr}
	if len(msg) > 0 {
		bufs = append(bufs, msg)
	}
	if _, err := bufs.WriteTo(conn); err != nil {
		return nil, connErr("write", addr, ctx, err)
	}
	br := bufio.NewReaderSize(conn, maxReplyLine)
	res, err := parseReply(br, cmd, MaxSpamdReply)
	if err != nil {
		var se *SpamdError
		var re *ReplyError
		if ctx.Err() != nil || !errors.As(err, &se) && !errors.As(err, &re) {
			// A truncated reply may be the AfterFunc closing the
			// connection: the context is the cause then.
			return nil, connErr("read", addr, ctx, err)
		}
		return nil, err
	}
	return res, nil
}

// connErr wraps err, replacing it with the context's error when the
// context ended (the connection was closed under the reader, or a
// deadline hit).
func connErr(op, addr string, ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		err = cerr
	} else if errors.Is(err, os.ErrDeadlineExceeded) {
		err = context.DeadlineExceeded
	}
	return &ConnError{Op: op, Addr: addr, Err: err}
}
