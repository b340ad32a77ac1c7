package smtp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

// Default timeouts of a Client (RFC 5321 §4.5.3.2 suggests 5 minutes
// for commands and 10 for the reply to the end of the data).
const (
	DefaultTimeout     = 5 * time.Minute
	DefaultDataTimeout = 10 * time.Minute
)

// Stages passed to Client.OnReply: which reply was read.
const (
	StageConnect   = "connect"  // the greeting (Exim's smtp:connect event)
	StageEHLO      = "EHLO"     // the EHLO reply (Exim's smtp:ehlo event)
	StageHELO      = "HELO"     // the HELO reply after a refused EHLO
	StageSTARTTLS  = "STARTTLS" // the reply to STARTTLS
	StageMAIL      = "MAIL"
	StageRCPT      = "RCPT"
	StageDATA      = "DATA" // the 354 (or refusal) to DATA
	StageBDAT      = "BDAT" // the reply to a BDAT chunk other than the last
	StageEndOfData = "end of data"
	StageRSET      = "RSET"
	StageNOOP      = "NOOP"
	StageQUIT      = "QUIT"
)

// A Client is an SMTP client connection (RFC 5321), one command at a
// time. Set its fields before the first call; they are not changed by
// it. A Client is not safe for concurrent use.
//
// Every call takes a context: its deadline and cancellation apply to
// the connection for the duration of the call, and each read of a
// reply is also bounded by Timeout (DataTimeout for the end of the
// data), so a slow or silent peer cannot hold the client for longer.
// A call whose context ends fails with an error that wraps ctx.Err().
//
// The greeting and EHLO are read and sent when first needed, so a
// caller can start with Mail; call Greet and Hello itself to see their
// replies (or set OnReply). After an I/O error, a malformed reply or a
// protocol error the connection is out of step: every later call
// returns the same error (see Err), and only Close is useful.
type Client struct {
	// LocalName is the name sent with EHLO and HELO; "localhost" when
	// empty.
	LocalName string
	// Timeout bounds each write of a command and each read of a reply;
	// DefaultTimeout when zero.
	Timeout time.Duration
	// DataTimeout bounds each read of a reply after the message data;
	// DefaultDataTimeout when zero.
	DataTimeout time.Duration
	// Limits bound the replies read (see ReplyReader).
	Limits Limits
	// OnReply, when set, is called with every reply read, with the
	// stage it answers (StageConnect, StageEHLO, ...), before the call
	// that read it returns. It is where a caller raises its events
	// (Exim's smtp:connect and smtp:ehlo). It must not use the Client.
	OnReply func(stage string, r Reply)

	conn    net.Conn
	rr      *ReplyReader
	bw      *bufio.Writer
	tls     bool
	greeted bool
	greetR  Reply
	greetE  error
	hello   bool // EHLO or HELO answered
	esmtp   bool
	ext     Extensions
	helloR  Reply
	mail    bool // MAIL accepted
	prdr    bool // MAIL carried PRDR
	rcpts   int  // RCPTs accepted in this transaction
	err     error
	cur     *call // the call under way
}

// NewClient returns a client on conn, a connection to an SMTP server
// whose greeting has not been read yet.
func NewClient(conn net.Conn) *Client {
	c := &Client{}
	c.setConn(conn)
	return c
}

// Dial connects to addr (host:port) over TCP with a net.Dialer and
// returns a client on the connection; ctx bounds the connection
// attempt only. To use another dialer, dial and call NewClient.
func Dial(ctx context.Context, addr string) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return NewClient(conn), nil
}

func (c *Client) setConn(conn net.Conn) {
	c.conn = conn
	// A small buffer: after STARTTLS nothing may have been buffered.
	c.rr = NewReplyReader(bufio.NewReaderSize(conn, 4096))
	c.bw = bufio.NewWriterSize(timedWriter{c}, 4096)
}

// timedWriter writes to the connection, each write bounded by Timeout
// (and the current call's context): a long message may take long, but
// no single write may stall.
type timedWriter struct{ c *Client }

func (w timedWriter) Write(p []byte) (int, error) {
	if k := w.c.cur; k != nil {
		if err := k.deadline(w.c.timeout()); err != nil {
			return 0, err
		}
	}
	return w.c.conn.Write(p)
}

// Conn returns the connection: after StartTLS the *tls.Conn. Reading
// or writing it directly puts the client out of step.
func (c *Client) Conn() net.Conn { return c.conn }

// Err returns the error that put the client out of step, or nil.
func (c *Client) Err() error { return c.err }

// Close closes the connection without QUIT.
func (c *Client) Close() error {
	if c.err == nil {
		c.err = ErrClosed
	}
	return c.conn.Close()
}

// Extensions returns the extensions of the last EHLO reply; none after
// HELO or before Hello.
func (c *Client) Extensions() Extensions { return c.ext }

// ESMTP reports whether the server answered EHLO (rather than only
// HELO).
func (c *Client) ESMTP() bool { return c.esmtp }

// TLSConnectionState returns the TLS state after StartTLS; ok is false
// when TLS was not started.
func (c *Client) TLSConnectionState() (state tls.ConnectionState, ok bool) {
	tc, ok := c.conn.(*tls.Conn)
	if !ok || !c.tls {
		return tls.ConnectionState{}, false
	}
	return tc.ConnectionState(), true
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Client) dataTimeout() time.Duration {
	if c.DataTimeout > 0 {
		return c.DataTimeout
	}
	return DefaultDataTimeout
}

func (c *Client) localName() (string, error) {
	n := c.LocalName
	if n == "" {
		return "localhost", nil
	}
	if strings.ContainsAny(n, " \t\r\n") || !printable(n) {
		return "", fmt.Errorf("smtp: invalid LocalName %q", n)
	}
	return n, nil
}

// call is the context of one Client call.
type call struct {
	c    *Client
	ctx  context.Context
	stop func() bool
}

// begin starts a call: ctx's cancellation now interrupts the
// connection.
func (c *Client) begin(ctx context.Context) (*call, error) {
	if c.err != nil {
		return nil, c.err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Fields are set after NewClient: the bounds apply from the next read.
	c.rr.Limits = c.Limits
	conn := c.conn
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	c.cur = &call{c: c, ctx: ctx, stop: stop}
	return c.cur, nil
}

// end finishes a call. (A call interrupted by its context has failed
// already; every later read or write sets a deadline of its own.)
func (k *call) end() {
	k.stop()
	k.c.cur = nil
}

// deadline sets the connection's deadline to d from now, or ctx's
// deadline if sooner.
func (k *call) deadline(d time.Duration) error {
	t := time.Now().Add(d)
	if dl, ok := k.ctx.Deadline(); ok && dl.Before(t) {
		t = dl
	}
	k.c.conn.SetDeadline(t)
	// After the deadline is set, so that a cancellation in between is
	// not lost: the AfterFunc has run (or will) once ctx is done.
	return k.ctx.Err()
}

// fail makes err the client's error and adds the context's error to a
// timeout that it caused.
func (k *call) fail(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		cerr := k.ctx.Err()
		if dl, ok := k.ctx.Deadline(); cerr == nil && ok && !time.Now().Before(dl) {
			cerr = context.DeadlineExceeded
		}
		if cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w (%w)", cerr, err)
		}
	}
	if k.c.err == nil {
		k.c.err = err
	}
	return err
}

// write sends one command line.
func (k *call) write(line string) error {
	if err := k.deadline(k.c.timeout()); err != nil {
		return k.fail(err)
	}
	k.c.bw.WriteString(line)
	k.c.bw.WriteString("\r\n")
	if err := k.c.bw.Flush(); err != nil {
		return k.fail(err)
	}
	return nil
}

// read reads one reply within d and reports it to OnReply.
func (k *call) read(stage string, d time.Duration) (Reply, error) {
	if err := k.deadline(d); err != nil {
		return Reply{}, k.fail(err)
	}
	r, err := k.c.rr.ReadReply()
	if err != nil {
		if err == io.EOF {
			err = &ReplyError{Err: io.ErrUnexpectedEOF}
		}
		return Reply{}, k.fail(err)
	}
	if k.c.OnReply != nil {
		k.c.OnReply(stage, r)
	}
	return r, nil
}

// cmd sends a command and reads its reply.
func (k *call) cmd(stage, line string) (Reply, error) {
	if err := k.write(line); err != nil {
		return Reply{}, err
	}
	return k.read(stage, k.c.timeout())
}

// Greet reads the server's greeting, once: a later call returns the
// same reply and error. A greeting other than 220 is a *CommandError
// (Cmd "connect"); the caller should then Quit.
func (c *Client) Greet(ctx context.Context) (Reply, error) {
	if c.greeted {
		return c.greetR, c.greetE
	}
	k, err := c.begin(ctx)
	if err != nil {
		return Reply{}, err
	}
	defer k.end()
	return c.greet(k)
}

func (c *Client) greet(k *call) (Reply, error) {
	if c.greeted {
		return c.greetR, c.greetE
	}
	r, err := k.read(StageConnect, c.timeout())
	if err != nil {
		return Reply{}, err
	}
	c.greeted, c.greetR = true, r
	if r.Code != ReplyServiceReady {
		c.greetE = &CommandError{Cmd: "connect", Reply: r}
	}
	return r, c.greetE
}

// Hello sends EHLO LocalName (reading the greeting first if need be)
// and, when the server refuses it with a 5xx, HELO. It returns the
// reply that was accepted, or a *CommandError with the refusal (of
// HELO when EHLO was refused). Hello may be called again, as after
// StartTLS; it ends any transaction.
func (c *Client) Hello(ctx context.Context) (Reply, error) {
	k, err := c.begin(ctx)
	if err != nil {
		return Reply{}, err
	}
	defer k.end()
	return c.sayHello(k)
}

func (c *Client) sayHello(k *call) (Reply, error) {
	name, err := c.localName()
	if err != nil {
		return Reply{}, err
	}
	if _, err := c.greet(k); err != nil {
		return Reply{}, err
	}
	c.hello, c.esmtp, c.ext = false, false, nil
	c.endTransaction()
	r, err := k.cmd(StageEHLO, "EHLO "+name)
	if err != nil {
		return Reply{}, err
	}
	switch r.Class() {
	case 2:
		c.hello, c.esmtp, c.ext, c.helloR = true, true, ParseEHLO(r), r
		return r, nil
	case 5:
	default:
		return r, &CommandError{Cmd: "EHLO " + name, Reply: r}
	}
	h, err := k.cmd(StageHELO, "HELO "+name)
	if err != nil {
		return Reply{}, err
	}
	if h.Class() != 2 {
		return h, &CommandError{Cmd: "HELO " + name, Reply: h}
	}
	c.hello, c.helloR = true, h
	return h, nil
}

// ensureHello says hello unless done.
func (c *Client) ensureHello(k *call) error {
	if c.hello {
		return nil
	}
	_, err := c.sayHello(k)
	return err
}

// StartTLS sends STARTTLS (RFC 3207) and runs the TLS handshake with
// config, which the caller builds (for DANE, dane.ClientConfig); it
// must set ServerName or InsecureSkipVerify. It says hello first if
// need be. Without STARTTLS in the EHLO reply it returns an error
// wrapping ErrNotOffered and sends nothing; a refusal is a
// *CommandError and leaves the session usable in clear text. Data the
// server sends after its 220 and before the handshake is refused with
// a *ProtocolError (a command injection attempt). After the handshake
// the server's extensions are forgotten: Hello says EHLO again (it is
// called when next needed).
func (c *Client) StartTLS(ctx context.Context, config *tls.Config) error {
	if config == nil {
		return errors.New("smtp: StartTLS: nil tls.Config")
	}
	k, err := c.begin(ctx)
	if err != nil {
		return err
	}
	defer k.end()
	if c.tls {
		return errors.New("smtp: StartTLS: TLS already started")
	}
	if err := c.ensureHello(k); err != nil {
		return err
	}
	if !c.ext.Has("STARTTLS") {
		return fmt.Errorf("smtp: STARTTLS: %w", ErrNotOffered)
	}
	r, err := k.cmd(StageSTARTTLS, "STARTTLS")
	if err != nil {
		return err
	}
	if r.Code != ReplyServiceReady {
		return &CommandError{Cmd: "STARTTLS", Reply: r}
	}
	if c.rr.Buffered() > 0 {
		return k.fail(&ProtocolError{After: "STARTTLS", Why: "data sent before the TLS handshake"})
	}
	if err := k.deadline(c.timeout()); err != nil {
		return k.fail(err)
	}
	tc := tls.Client(c.conn, config)
	if err := tc.HandshakeContext(k.ctx); err != nil {
		return k.fail(err)
	}
	// The old AfterFunc watches the raw connection, under tc: fine.
	c.setConn(tc)
	c.tls = true
	c.hello, c.esmtp, c.ext = false, false, nil
	c.endTransaction()
	return nil
}

func (c *Client) endTransaction() { c.mail, c.prdr, c.rcpts = false, false, 0 }

// Mail sends MAIL FROM:<from> with the parameters p (nil for none),
// saying hello first if need be. from "" is the null reverse path. A
// refusal is a *CommandError with the reply.
func (c *Client) Mail(ctx context.Context, from string, p *MailParams) (Reply, error) {
	line, params, err := mailCommand(from, p)
	if err != nil {
		return Reply{}, err
	}
	k, err := c.begin(ctx)
	if err != nil {
		return Reply{}, err
	}
	defer k.end()
	if err := c.ensureHello(k); err != nil {
		return Reply{}, err
	}
	if params && !c.esmtp {
		return Reply{}, errParamsNeedEHLO
	}
	r, err := k.cmd(StageMAIL, line)
	if err != nil {
		return Reply{}, err
	}
	if r.Class() != 2 {
		return r, &CommandError{Cmd: line, Reply: r}
	}
	c.mail, c.prdr, c.rcpts = true, p != nil && p.PRDR, 0
	return r, nil
}

// Rcpt sends RCPT TO:<to> with the parameters p (nil for none). A
// refusal is a *CommandError with the reply.
func (c *Client) Rcpt(ctx context.Context, to string, p *RcptParams) (Reply, error) {
	line, _, err := rcptCommand(to, p)
	if err != nil {
		return Reply{}, err
	}
	k, err := c.begin(ctx)
	if err != nil {
		return Reply{}, err
	}
	defer k.end()
	if !c.mail {
		return Reply{}, errors.New("smtp: RCPT without an accepted MAIL")
	}
	r, err := k.cmd(StageRCPT, line)
	if err != nil {
		return Reply{}, err
	}
	if r.Class() != 2 {
		return r, &CommandError{Cmd: line, Reply: r}
	}
	c.rcpts++
	return r, nil
}

// Reset sends RSET, ending the transaction.
func (c *Client) Reset(ctx context.Context) (Reply, error) {
	return c.simple(ctx, StageRSET, "RSET")
}

// Noop sends NOOP.
func (c *Client) Noop(ctx context.Context) (Reply, error) {
	return c.simple(ctx, StageNOOP, "NOOP")
}

func (c *Client) simple(ctx context.Context, stage, verb string) (Reply, error) {
	k, err := c.begin(ctx)
	if err != nil {
		return Reply{}, err
	}
	defer k.end()
	if _, err := c.greet(k); err != nil {
		return Reply{}, err
	}
	r, err := k.cmd(stage, verb)
	if err != nil {
		return Reply{}, err
	}
	if verb == "RSET" {
		c.endTransaction()
	}
	if r.Class() != 2 {
		return r, &CommandError{Cmd: verb, Reply: r}
	}
	return r, nil
}

// Quit sends QUIT, reads the reply and closes the connection. The
// connection is closed whatever happens; the error is that of the
// dialogue (a reply other than 2xx is a *CommandError).
func (c *Client) Quit(ctx context.Context) error {
	defer c.Close()
	k, err := c.begin(ctx)
	if err != nil {
		return err
	}
	defer k.end()
	if !c.greeted {
		var ce *CommandError
		if _, err := c.greet(k); err != nil && !errors.As(err, &ce) {
			return err
		}
	}
	r, err := k.cmd(StageQUIT, "QUIT")
	if err != nil {
		return err
	}
	if r.Class() != 2 {
		return &CommandError{Cmd: "QUIT", Reply: r}
	}
	return nil
}

var errParamsNeedEHLO = errors.New("smtp: MAIL parameters need EHLO, and the server answered HELO only")

// mailCommand returns the MAIL command line for from and p, and whether
// it carries parameters.
func mailCommand(from string, p *MailParams) (line string, params bool, err error) {
	if err := checkAddr(from); err != nil {
		return "", false, err
	}
	line = "MAIL FROM:<" + from + ">"
	if p != nil {
		if err := p.check(); err != nil {
			return "", false, err
		}
		if s := p.String(); s != "" {
			return line + " " + s, true, nil
		}
	}
	return line, false, nil
}

// rcptCommand returns the RCPT command line for to and p, and whether
// it carries parameters.
func rcptCommand(to string, p *RcptParams) (line string, params bool, err error) {
	if err := checkAddr(to); err != nil {
		return "", false, err
	}
	if to == "" {
		return "", false, &PathError{Text: "", Reason: "empty forward path"}
	}
	line = "RCPT TO:<" + to + ">"
	if p != nil {
		if err := p.check(); err != nil {
			return "", false, err
		}
		if s := p.String(); s != "" {
			return line + " " + s, true, nil
		}
	}
	return line, false, nil
}

// checkAddr refuses an address that would break the command line.
func checkAddr(a string) error {
	for i := 0; i < len(a); i++ {
		if c := a[i]; c < ' ' || c == 0x7f || c == '<' || c == '>' {
			return &PathError{Text: a, Reason: "control character or angle bracket"}
		}
	}
	return nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
