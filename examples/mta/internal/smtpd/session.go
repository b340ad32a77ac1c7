package smtpd

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/prdr"
	"github.com/mailpolicy/mailpolicy/proxyproto"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// Line limits: RFC 5321 §4.5.3.1.4 allows 512 octets for a command line
// (we take more, for long parameter lists), §4.5.3.1.6 1000 octets for
// a text line and §4.5.3.1.5 512 for a reply line, CRLF included.
const (
	maxCommandLine = 2048
	maxTextLine    = 1000
	maxReplyLine   = 512
	readBufferSize = 8 << 10
)

var (
	errLineTooLong = errors.New("line too long")
	errQuit        = errors.New("session ended")
	errShutdown    = errors.New("shutdown")
	// A CR or LF that is not part of a CRLF. A receiver that takes a
	// bare LF for a line end lets "<LF>.<LF>", which a relay passes on
	// as data, end the message early, and what follows run as commands
	// (SMTP smuggling, CVE-2023-51766). As with Postfix's
	// smtpd_forbid_bare_newline and Exim since 4.97.1, only CRLF ends a
	// line here, and a line with a bare CR or LF is refused whole.
	errBareLF = errors.New("bare <LF> received")
	errBareCR = errors.New("bare <CR> received")
)

// session is one SMTP connection.
type session struct {
	srv  *Server
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	id   string

	client netip.AddrPort // the SMTP client (PROXY source when proxied)
	proxy  netip.Addr     // the proxy's address when proxied

	helo   string
	esmtp  bool
	errors int

	listener    string
	implicitTLS bool                 // ServeTLS: the handshake comes first
	tls         *tls.ConnectionState // nil in clear text

	authMech, authUser string // after a successful AUTH

	// During DATA (inData), dataDeadline ends the whole transfer
	// (Config.DataTimeout; zero: none); dataCut says the last read's
	// deadline was it rather than the per-line one.
	inData       bool
	dataDeadline time.Time
	dataCut      bool

	replyBuf []byte

	mu   sync.Mutex // guards inTx against Shutdown's interruptIfIdle
	inTx bool
	tx   *transaction
}

// transaction is the state of one MAIL ... DATA sequence.
type transaction struct {
	from  string
	prdr  bool // the client asked for PRDR (and we advertised it)
	rcpts []string
	size  int64 // the SIZE= estimate, 0 without one
	bt    Transaction
	// smtputf8: MAIL had SMTPUTF8, so addresses may be UTF-8 (RFC 6531).
	smtputf8 bool
	bdat     *chunked // the message so far, once BDAT has begun
}

func newSession(srv *Server, conn net.Conn) *session {
	return &session{
		srv:  srv,
		conn: conn,
		r:    bufio.NewReaderSize(conn, readBufferSize),
		w:    bufio.NewWriter(conn),
		id:   strconv.FormatUint(srv.seq.Add(1), 36),
	}
}

// interruptIfIdle makes a session that waits for a command outside a
// transaction see a read timeout at once; serve then notices the
// shutdown and says 421.
func (s *session) interruptIfIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.inTx {
		s.conn.SetReadDeadline(time.Now())
	}
}

func (s *session) setTx(tx *transaction) {
	if old := s.tx; old != nil && old != tx && old.bdat != nil {
		// A BDAT transfer ended (LAST, a refusal) or cut off by RSET,
		// EHLO or the session's end: its buffer and its DataTimeout
		// go, or the stale deadline would cut a later command short.
		old.bdat.mf.release()
		s.dataDeadline = time.Time{}
	}
	s.mu.Lock()
	s.tx, s.inTx = tx, tx != nil
	s.mu.Unlock()
}

func (s *session) log() *loggerWith { return &loggerWith{s} }

// loggerWith adds the session's attributes to log lines.
type loggerWith struct{ s *session }

func (l *loggerWith) Info(msg string, args ...any) {
	l.s.srv.cfg.Logger.Info(msg, append([]any{"session", l.s.id, "client", l.s.client.String()}, args...)...)
}

func (l *loggerWith) Debug(msg string, args ...any) {
	l.s.srv.cfg.Logger.Debug(msg, append([]any{"session", l.s.id, "client", l.s.client.String()}, args...)...)
}

func (l *loggerWith) Warn(msg string, args ...any) {
	l.s.srv.cfg.Logger.Warn(msg, append([]any{"session", l.s.id, "client", l.s.client.String()}, args...)...)
}

func (s *session) serve() {
	defer s.conn.Close()
	defer s.setTx(nil)
	cfg := &s.srv.cfg
	if pc, ok := s.conn.(*proxyproto.Conn); ok {
		info, err := pc.Handshake(s.srv.ctx)
		if info == nil || info.Failed {
			// Exim's QUIT-only mode: banner, then 503 to everything.
			s.srv.cfg.Logger.Warn("PROXY negotiation failed", "session", s.id, "peer", pc.NetConn().RemoteAddr().String(), "err", err)
			nc := pc.NetConn()
			nc.SetDeadline(time.Now().Add(cfg.ReadTimeout))
			if _, err := fmt.Fprintf(nc, "220 %s ESMTP mailpolicy\r\n", cfg.Hostname); err != nil {
				return
			}
			proxyproto.RefuseCommands(s.srv.ctx, &deadlineRW{nc, cfg.ReadTimeout}, cfg.Hostname)
			return
		}
		s.client = unmapPort(info.Client)
		if info.Header != nil && info.Header.HasAddresses() {
			s.proxy = info.LocalAddress
		}
	} else if ap, err := netip.ParseAddrPort(s.conn.RemoteAddr().String()); err == nil {
		s.client = unmapPort(ap)
	}
	if !s.srv.enterHost(s.client.Addr()) {
		cfg.Metrics.ConnectionRefused("max_sessions_per_host")
		s.log().Info("connection refused", "reason", "too many connections from this host")
		s.reply(smtp.ReplyServiceNotAvailable, "4.3.2", cfg.Hostname+" Too many concurrent SMTP connections from this IP address; please try again later")
		s.flush()
		return
	}
	defer s.srv.leaveHost(s.client.Addr())
	cfg.Metrics.ConnectionOpened(s.listener)
	defer cfg.Metrics.ConnectionClosed(s.listener)
	if s.implicitTLS && !s.handshake() {
		return
	}
	if r := s.connect(); r != nil { // the Backend's Connector (connect.go)
		s.reply(r.Code, r.Enhanced, r.Text)
		s.flush()
		return
	}
	s.log().Info("connection", "proxy", proxyString(s.proxy))
	s.reply(smtp.ReplyServiceReady, "", cfg.Hostname+" ESMTP mailpolicy")
	for {
		if err := s.command(); err != nil {
			if !errors.Is(err, errQuit) {
				s.log().Info("connection closed", "reason", err.Error())
			}
			s.flush()
			return
		}
	}
}

// deadlineRW renews the connection's deadline before each read, so
// that QUIT-only mode cannot hold a connection forever.
type deadlineRW struct {
	c net.Conn
	d time.Duration
}

func (d *deadlineRW) Read(p []byte) (int, error) {
	d.c.SetDeadline(time.Now().Add(d.d))
	return d.c.Read(p)
}

func (d *deadlineRW) Write(p []byte) (int, error) { return d.c.Write(p) }

func unmapPort(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func proxyString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// reply queues one reply; text lines are separated by "\n". The enhanced
// status code, when given, starts every line.
func (s *session) reply(code int, enhanced, text string) {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		if enhanced != "" {
			l = enhanced + " " + l
		}
		s.replyLine(strconv.Itoa(code) + sep + l)
	}
}

// writeWire queues replies already in wire form (prdr.Respond's), line
// by line through the same filter as reply.
func (s *session) writeWire(b []byte) {
	for len(b) > 0 {
		l, rest, _ := bytes.Cut(b, []byte("\n"))
		s.replyLine(string(bytes.TrimSuffix(l, []byte("\r"))))
		b = rest
	}
}

// replyLine is where every reply line goes out. Texts carry parts of
// what the client sent (addresses, parameters, the From domain), so
// whatever the caller passes, the line is made 7-bit printable (tab
// becomes a space; anything else outside ' '..'~', CR and LF included,
// becomes '?', one per character of 8-bit text and one per byte of
// invalid UTF-8) and cut to 512 octets with its CRLF.
func (s *session) replyLine(l string) {
	b := s.replyBuf[:0]
	for _, r := range l {
		if len(b) == maxReplyLine-2 {
			break
		}
		switch {
		case r == '\t':
			r = ' '
		case r < ' ' || r > '~':
			r = '?'
		}
		b = append(b, byte(r))
	}
	b = append(b, '\r', '\n')
	s.w.Write(b)
	s.replyBuf = b
}

// flush sends the queued replies.
func (s *session) flush() error {
	s.conn.SetWriteDeadline(time.Now().Add(s.srv.cfg.ReadTimeout))
	return s.w.Flush()
}

// readLine reads one line of at most limit octets (CRLF included) and
// returns it without its CRLF; the slice may point into the reader's
// buffer and is only valid until the next read. Replies are flushed
// first unless a complete line is already buffered: that is what makes
// pipelining work (RFC 2920 §3.1: the server may hold replies while it
// has input). Only CRLF ends a line: a line with a bare LF or CR in it
// is read to its CRLF and reported as errBareLF or errBareCR, an
// over-long one is read to its end and reported as errLineTooLong.
func (s *session) readLine(limit int) ([]byte, error) {
	if buf, _ := s.r.Peek(s.r.Buffered()); !bytes.Contains(buf, []byte("\r\n")) {
		if err := s.flush(); err != nil {
			return nil, err
		}
	}
	// One deadline for the whole line, so that a client cannot drip a
	// line forever; in DATA no later than the end of the transfer.
	deadline := time.Now().Add(s.srv.cfg.ReadTimeout)
	s.dataCut = !s.dataDeadline.IsZero() && s.dataDeadline.Before(deadline)
	if s.dataCut {
		deadline = s.dataDeadline
	}
	s.conn.SetReadDeadline(deadline)
	// Shutdown may have cut the deadline just before it was renewed.
	if s.srv.closing.Load() && !s.inTxLocked() {
		return nil, errShutdown
	}
	var line []byte
	n := 0
	tooLong, bareLF, bareCR := false, false, false
	cr := false // the previous chunk ended in CR: a CRLF may straddle them
	for {
		chunk, err := s.r.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			return nil, err
		}
		// ReadSlice never returns an empty chunk without an error.
		last := len(chunk) - 1
		end := err == nil && (last >= 1 && chunk[last-1] == '\r' || last == 0 && cr)
		if err == nil && !end {
			bareLF = true
		}
		if !bareCR {
			bareCR = cr && chunk[0] != '\n' || hasBareCR(chunk)
		}
		cr = err != nil && chunk[last] == '\r'
		n += len(chunk)
		if !tooLong {
			if n > limit {
				tooLong, line = true, nil
			} else if end && line == nil {
				line = chunk // the common case: no copy
			} else {
				line = append(line, chunk...)
			}
		}
		if end {
			break
		}
	}
	switch {
	case bareLF:
		return nil, errBareLF
	case bareCR:
		return nil, errBareCR
	case tooLong:
		return nil, errLineTooLong
	}
	return line[:len(line)-2], nil
}

// hasBareCR reports a CR followed by something else than LF; a CR at
// the very end is left to the next chunk.
func hasBareCR(b []byte) bool {
	for {
		i := bytes.IndexByte(b, '\r')
		if i < 0 || i == len(b)-1 {
			return false
		}
		if b[i+1] != '\n' {
			return true
		}
		b = b[i+1:]
	}
}

// readErr turns a read error into the session's end, with 421 for a
// timeout or a shutdown.
func (s *session) readErr(err error) error {
	var ne net.Error
	if errors.Is(err, errShutdown) || errors.As(err, &ne) && ne.Timeout() {
		if s.srv.closing.Load() {
			s.reply(smtp.ReplyServiceNotAvailable, "4.3.2", s.srv.cfg.Hostname+" Service not available - closing connection")
			return errors.New("shutdown")
		}
		switch {
		case s.dataCut:
			s.reply(smtp.ReplyServiceNotAvailable, "4.4.2", s.srv.cfg.Hostname+" Message transfer time limit exceeded - closing connection")
			return errors.New("data timeout")
		case s.inData:
			s.reply(smtp.ReplyServiceNotAvailable, "4.4.2", s.srv.cfg.Hostname+" SMTP incoming data timeout - closing connection")
		default:
			s.reply(smtp.ReplyServiceNotAvailable, "4.4.2", s.srv.cfg.Hostname+" SMTP command timeout - closing connection")
		}
		return errors.New("read timeout")
	}
	if errors.Is(err, io.EOF) {
		return errors.New("client disconnected")
	}
	return err
}

// synprot counts a syntax or protocol error, raises its event, queues the
// reply, and ends the session after MaxErrors of them.
func (s *session) synprot(protocol bool, code int, enhanced, text string) error {
	s.reply(code, enhanced, text)
	s.srv.raise(s.srv.ctx, events.Event{
		Name:        events.SyntaxFailEvent(protocol),
		Data:        fmt.Sprintf("%d %s %s", code, enhanced, text),
		HostAddress: s.client.Addr(),
		HostPort:    int(s.client.Port()),
	})
	s.errors++
	if s.errors >= s.srv.cfg.MaxErrors {
		s.reply(smtp.ReplyServiceNotAvailable, "4.7.0", s.srv.cfg.Hostname+" too many syntax or protocol errors")
		return errors.New("too many errors")
	}
	return nil
}

// command reads and executes one command. A non-nil error ends the
// session (after the queued replies are sent).
func (s *session) command() error {
	if s.srv.closing.Load() && !s.inTxLocked() {
		s.reply(smtp.ReplyServiceNotAvailable, "4.3.2", s.srv.cfg.Hostname+" Service not available - closing connection")
		return errors.New("shutdown")
	}
	line, err := s.readLine(maxCommandLine)
	if errors.Is(err, errLineTooLong) {
		return s.synprot(false, smtp.ReplySyntaxError, "5.5.2", "Line too long")
	}
	if errors.Is(err, errBareLF) || errors.Is(err, errBareCR) {
		return s.synprot(false, smtp.ReplySyntaxError, "5.5.2", "Syntax error: "+err.Error()+", lines must end with CRLF")
	}
	if err != nil {
		return s.readErr(err)
	}
	if bytes.ContainsFunc(line, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
		return s.synprot(false, smtp.ReplyParamSyntaxError, "5.5.2", "Control character in command")
	}
	verb, arg, _ := strings.Cut(string(line), " ")
	verb = strings.ToUpper(verb)
	switch verb {
	case "EHLO", "HELO":
		return s.cmdHelo(verb, strings.TrimSpace(arg))
	case "MAIL":
		return s.cmdMail(arg)
	case "RCPT":
		return s.cmdRcpt(arg)
	case "DATA":
		return s.cmdData(arg)
	case "BDAT":
		return s.cmdBDAT(arg)
	case "STARTTLS":
		return s.cmdStartTLS(arg)
	case "AUTH":
		return s.cmdAuth(arg)
	case "RSET":
		if arg != "" {
			return s.synprot(false, smtp.ReplyParamSyntaxError, "5.5.4", "RSET takes no argument")
		}
		s.setTx(nil)
		s.reply(smtp.ReplyOK, "2.0.0", "Reset OK")
	case "NOOP":
		s.reply(smtp.ReplyOK, "2.0.0", "OK")
	case "QUIT":
		s.reply(smtp.ReplyServiceClosing, "2.0.0", s.srv.cfg.Hostname+" closing connection")
		return errQuit
	case "VRFY":
		if arg == "" {
			return s.synprot(false, smtp.ReplyParamSyntaxError, "5.5.4", "VRFY must have an address argument")
		}
		s.reply(smtp.ReplyCannotVerify, "2.1.5", "Administrative prohibition: VRFY is not supported; send a message")
	case "HELP":
		s.reply(smtp.ReplyHelp, "2.0.0", "Commands supported:\nEHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP")
	default:
		return s.synprot(false, smtp.ReplySyntaxError, "5.5.1", "Unrecognized command")
	}
	return nil
}

func (s *session) inTxLocked() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inTx
}

func (s *session) cmdHelo(verb, arg string) error {
	if arg == "" || !smtp.ValidHelo(arg) {
		return s.synprot(false, smtp.ReplyParamSyntaxError, "5.5.2", "Syntactically invalid "+verb+" argument(s)")
	}
	s.setTx(nil) // RFC 5321 §4.1.4: EHLO resets the state
	s.helo, s.esmtp = arg, verb == "EHLO"
	cfg := &s.srv.cfg
	greet := fmt.Sprintf("%s Hello %s [%s]", cfg.Hostname, arg, s.client.Addr())
	if !s.esmtp {
		s.reply(smtp.ReplyOK, "", greet)
		return nil
	}
	s.reply(smtp.ReplyOK, "", strings.Join(append([]string{greet}, s.extensions()...), "\n"))
	return nil
}

func (s *session) cmdMail(arg string) error {
	if s.helo == "" {
		return s.synprot(true, smtp.ReplyBadSequence, "5.5.1", "EHLO or HELO first")
	}
	if s.tx != nil {
		return s.synprot(true, smtp.ReplyBadSequence, "5.5.1", "Sender already given")
	}
	rest, ok := cutPrefixFold(arg, "FROM:")
	if !ok {
		return s.synprot(false, smtp.ReplyParamSyntaxError, "5.5.2", "MAIL must have an address operand: MAIL FROM:<address>")
	}
	path, err := smtp.ParsePath(rest, smtp.WithUTF8(true))
	if err != nil {
		return s.synprot(false, smtp.ReplyParamSyntaxError, "5.1.7", "Invalid sender address syntax")
	}
	from, params := path.Mailbox, path.Params
	if params != "" && !s.esmtp {
		return s.synprot(false, smtp.ReplyParamsNotRecognized, "5.5.4", "Parameters are not allowed after HELO")
	}
	var size int64
	mp, err := smtp.ParseMailParams(params)
	if err != nil {
		return s.synprot(false, smtp.ReplyParamSyntaxError, "5.5.4", "Invalid parameter: "+safeText(err.Error()))
	}
	if mp.Body == smtp.BodyBinaryMIME {
		return s.synprot(false, smtp.ReplyParamSyntaxError, "5.5.4", "Invalid BODY parameter")
	}
	if unsupported := s.unsupportedMailParam(&mp); unsupported != "" {
		s.reply(smtp.ReplyParamsNotRecognized, "5.5.4", "Unsupported parameter "+unsupported)
		return nil
	}
	if r := asciiRefusal(from, false); r != nil && !mp.SMTPUTF8 {
		s.reply(r.Code, r.Enhanced, r.Text)
		return nil
	}
	if n := mp.Size; n > 0 {
		if n > s.srv.cfg.MaxSize {
			s.reply(smtp.ReplyExceededStorage, "5.3.4", "Message size exceeds fixed maximum message size")
			return nil
		}
		// RFC 1870 §6.1: a size that cannot be stored now is a
		// temporary refusal, before the client sends it.
		if !s.srv.spaceFor(n) {
			s.reply(smtp.ReplyInsufficientStorage, "4.3.1", "Insufficient system storage")
			return nil
		}
		size = n
	}
	ctx, cancel := context.WithTimeout(s.srv.ctx, s.srv.cfg.PolicyTimeout)
	defer cancel()
	bt, refused := s.srv.cfg.Backend.Mail(ctx, s.info(), from, &mp)
	if refused != nil {
		s.reply(refused.Code, refused.Enhanced, refused.Text)
		return nil
	}
	s.setTx(&transaction{from: from, prdr: mp.PRDR, size: size, bt: bt, smtputf8: mp.SMTPUTF8})
	if mp.PRDR {
		s.reply(smtp.ReplyOK, "2.1.0", "OK, PRDR requested")
	} else {
		s.reply(smtp.ReplyOK, "2.1.0", "OK")
	}
	return nil
}

// info is the session as the Backend sees it.
func (s *session) info() *Conn {
	return &Conn{ID: s.id, Client: s.client, Proxy: s.proxy, HELO: s.helo, ESMTP: s.esmtp, Listener: s.listener,
		TLS: s.tls, AuthMechanism: s.authMech, AuthUser: s.authUser}
}

func (s *session) cmdRcpt(arg string) error {
	tx := s.tx
	if tx == nil {
		return s.synprot(true, smtp.ReplyBadSequence, "5.5.1", "Sender not yet given")
	}
	rest, ok := cutPrefixFold(arg, "TO:")
	if !ok {
		return s.synprot(false, smtp.ReplyParamSyntaxError, "5.5.2", "RCPT must have an address operand: RCPT TO:<address>")
	}
	path, err := smtp.ParsePath(rest, smtp.WithUTF8(true))
	rcpt, params := path.Mailbox, path.Params
	ok = err == nil && rcpt != ""
	if !ok && strings.EqualFold(strings.TrimSpace(rest), "<postmaster>") {
		rcpt, ok = s.srv.cfg.Postmaster, s.srv.cfg.Postmaster != ""
	}
	if !ok {
		return s.synprot(false, smtp.ReplyParamSyntaxError, "5.1.3", "Invalid recipient address syntax")
	}
	if r := asciiRefusal(rcpt, true); r != nil && !tx.smtputf8 {
		s.reply(r.Code, r.Enhanced, r.Text)
		return nil
	}
	rp, refused := s.rcptParams(params, tx.smtputf8)
	if refused != nil {
		if refused.Code == smtp.ReplyParamSyntaxError {
			return s.synprot(false, refused.Code, refused.Enhanced, refused.Text)
		}
		s.reply(refused.Code, refused.Enhanced, refused.Text)
		return nil
	}
	if len(tx.rcpts) >= s.srv.cfg.MaxRecipients {
		s.reply(smtp.ReplyInsufficientStorage, "4.5.3", "Too many recipients")
		return nil
	}
	ctx, cancel := context.WithTimeout(s.srv.ctx, s.srv.cfg.PolicyTimeout)
	defer cancel()
	if refused := tx.bt.Rcpt(ctx, s.info(), rcpt, rp); refused != nil {
		s.reply(refused.Code, refused.Enhanced, refused.Text)
		return nil
	}
	tx.rcpts = append(tx.rcpts, rcpt)
	s.reply(smtp.ReplyOK, "2.1.5", "Accepted")
	return nil
}

func (s *session) cmdData(arg string) error {
	tx := s.tx
	switch {
	case arg != "":
		return s.synprot(false, smtp.ReplyParamSyntaxError, "5.5.4", "DATA takes no argument")
	case tx == nil:
		return s.synprot(true, smtp.ReplyBadSequence, "5.5.1", "Sender not yet given")
	case len(tx.rcpts) == 0:
		return s.synprot(true, smtp.ReplyBadSequence, "5.5.1", "Valid RCPT command must precede DATA")
	case tx.bdat != nil:
		return s.synprot(true, smtp.ReplyBadSequence, "5.5.1", "DATA after BDAT in one transaction")
	}
	mf := s.newMsgFile()
	if mf == nil {
		s.reply(smtp.ReplyInsufficientStorage, "4.3.1", "Insufficient system storage")
		return nil
	}
	defer mf.release()
	s.reply(smtp.ReplyStartMailInput, "", "Enter message, ending with \".\" on a line by itself")
	s.inData = true
	if d := s.srv.cfg.DataTimeout; d > 0 {
		s.dataDeadline = time.Now().Add(d)
	}
	problem, err := s.readData(mf)
	if err != nil {
		return s.readErr(err)
	}
	s.inData, s.dataDeadline = false, time.Time{}
	s.finish(tx, mf, problem)
	return nil
}

// finish answers a message read to its end (by DATA or BDAT ... LAST):
// refused for its problem, or handed to the Backend. The transaction
// is over either way.
func (s *session) finish(tx *transaction, mf *msgFile, problem dataProblem) {
	defer s.setTx(nil)
	if problem == dataOK {
		if err := mf.finish(); err != nil {
			s.log().Warn("message not stored", "err", err)
			problem = dataNoSpace
		}
	}
	switch problem {
	case dataBareLF, dataBareCR:
		bare := "<LF>"
		if problem == dataBareCR {
			bare = "<CR>"
		}
		s.log().Warn("message refused", "reason", "bare "+bare)
		s.reply(smtp.ReplyTransactionFailed, "5.5.2", "Message refused: bare "+bare+" received, lines must end with CRLF")
	case dataTooBig:
		s.reply(smtp.ReplyExceededStorage, "5.3.4", "Message size exceeds fixed maximum message size")
	case dataLongLine:
		s.reply(smtp.ReplyTransactionFailed, "5.6.0", "Message contains a line longer than 998 characters")
	case dataHeaderTooBig:
		// Exim's header_maxsize.
		s.reply(smtp.ReplyExceededStorage, "5.3.4", "Message header size exceeds maximum permitted")
	case dataNoMemory:
		s.log().Warn("data memory exhausted, message dropped", "limit", s.srv.budget.limit)
		s.reply(smtp.ReplyInsufficientStorage, "4.3.1", "Insufficient system storage")
	case dataNoSpace:
		s.log().Warn("message file could not be written, message dropped")
		s.reply(smtp.ReplyInsufficientStorage, "4.3.1", "Insufficient system storage")
	default:
		s.receive(tx, mf)
	}
}

// dataProblem is why a message read to its end is not taken; the
// larger value wins when there are several.
type dataProblem int

const (
	dataOK       dataProblem = iota
	dataNoMemory             // the budget refused (temporary)
	dataNoSpace              // the message file could not be written (temporary)
	dataLongLine
	dataHeaderTooBig
	dataTooBig
	dataBareCR // framing errors first: they are what smuggling looks like
	dataBareLF
)

// readData reads the message up to the line "." (only CRLF.CRLF ends
// it), undoing the dot stuffing, into mf. After the first problem the
// rest is read and dropped and mf released; the size is counted to the
// end, so that a message too big is still called too big.
func (s *session) readData(mf *msgFile) (dataProblem, error) {
	problem := dataOK
	note := func(p dataProblem) {
		if p > problem {
			problem = p
		}
		mf.release()
	}
	var size int64
	for {
		line, err := s.readLine(maxTextLine)
		switch {
		case errors.Is(err, errBareLF):
			note(dataBareLF)
			continue
		case errors.Is(err, errBareCR):
			note(dataBareCR)
			continue
		case errors.Is(err, errLineTooLong):
			note(dataLongLine)
			continue
		case err != nil:
			return dataOK, err
		}
		if len(line) == 1 && line[0] == '.' {
			return problem, nil
		}
		if len(line) > 0 && line[0] == '.' {
			line = line[1:]
		}
		size += int64(len(line) + 2)
		switch {
		case size > s.srv.cfg.MaxSize:
			note(dataTooBig)
		case problem == dataOK:
			if p := mf.appendLine(line); p != dataOK {
				note(p)
			}
		}
	}
}

// cutPrefixFold is strings.CutPrefix ignoring ASCII case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// safeText keeps printable ASCII for a reply text.
func safeText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return '?'
		}
		return r
	}, s)
}

// receive hands a complete message to the Backend and sends the
// end-of-data reply (or replies, with PRDR).
func (s *session) receive(tx *transaction, mf *msgFile) {
	s.srv.cfg.Metrics.BytesReceived(int(mf.size))
	ctx, cancel := context.WithTimeout(s.srv.ctx, s.srv.cfg.PolicyTimeout)
	defer cancel()
	t := &prdr.Transaction{Requested: tx.prdr, Recipients: tx.rcpts}
	res := tx.bt.Data(ctx, s.info(), &Message{m: mf, PRDR: t.Active()})
	if res == nil || res.Reply != nil || len(res.Decisions) != len(tx.rcpts) {
		r := &Reply{Code: smtp.ReplyLocalError, Enhanced: "4.3.0", Text: "Local problem, try again later"}
		if res != nil && res.Reply != nil {
			r = res.Reply
		} else {
			s.log().Warn("backend gave no decision per recipient")
		}
		s.reply(r.Code, r.Enhanced, r.Text)
		return
	}
	t.MessageID = res.MessageID
	var replies bytes.Buffer
	out, err := prdr.Respond(&replies, t, func(i int, _ string) prdr.Decision { return res.Decisions[i] })
	s.writeWire(replies.Bytes())
	if err != nil {
		s.log().Warn("reply", "id", res.MessageID, "err", err)
	}
	if out != nil {
		s.log().Debug("message", "id", res.MessageID, "from", tx.from, "rcpts", len(tx.rcpts), "prdr", out.PRDR, "reply", out.Final.String())
	}
}
