package prdr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"
)

// Options configure Send. The zero value (or nil) is usable.
type Options struct {
	// Helo is the EHLO name; default "localhost".
	Helo string
	// BDAT sends the message with BDAT when the server offers CHUNKING
	// (RFC 3030); otherwise DATA is used.
	BDAT bool
	// ChunkSize is the BDAT chunk size; 0 sends the message in one
	// "BDAT n LAST".
	ChunkSize int
	// NoPRDR never adds the PRDR parameter, even when it is offered.
	NoPRDR bool
	// Dialer dials the server; default a net.Dialer.
	Dialer interface {
		DialContext(ctx context.Context, network, addr string) (net.Conn, error)
	}
}

// A SendResult is the outcome of one Send.
type SendResult struct {
	Offered    bool               // the server's EHLO reply listed PRDR
	Requested  bool               // MAIL carried the PRDR parameter
	Chunking   bool               // the message went with BDAT
	DataCmd    string             // "DATA" or the last BDAT command; "" if no data was sent
	Recipients []RecipientOutcome // one per address given, in order
	Data       *DataResult        // the end-of-data replies; nil if no data was sent
}

// A CommandError is a reply that ends the session before any
// recipient could be tried: a greeting other than 220 or a refused
// EHLO.
type CommandError struct {
	Cmd   string // "connect" for the greeting, else the command sent
	Reply Reply
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("SMTP %s: %s", e.Cmd, e.Reply)
}

// Send delivers one message to the SMTP server at addr (host:port) and
// returns the outcome for each recipient. It says EHLO, sends MAIL FROM
// with the PRDR parameter when the server offers PRDR and there are at
// least two recipients, one RCPT per address, then the data with DATA
// (dot-stuffed, bare LF made CRLF) or BDAT, reads the end-of-data
// replies with ReadDataReplies and says QUIT.
//
// A refused MAIL, RCPT or data transfer is not an error: it shows in
// the recipients' outcomes. The error is for a connection that fails, a
// greeting or EHLO that is refused, and a malformed reply; the result
// may then be partial (see ReadDataReplies). The context's deadline
// bounds the whole session, and cancelling the context aborts it.
func Send(ctx context.Context, addr, from string, to []string, data io.Reader, opts *Options) (*SendResult, error) {
	if opts == nil {
		opts = &Options{}
	}
	if len(to) == 0 {
		return nil, errors.New("prdr: Send: no recipients")
	}
	for _, a := range append([]string{from}, to...) {
		if strings.ContainsAny(a, "<>\r\n ") {
			return nil, fmt.Errorf("prdr: Send: invalid address %q", a)
		}
	}
	msg, err := io.ReadAll(data)
	if err != nil {
		return nil, fmt.Errorf("prdr: reading message: %w", err)
	}
	msg = toCRLF(msg)

	var d interface {
		DialContext(ctx context.Context, network, addr string) (net.Conn, error)
	} = &net.Dialer{}
	if opts.Dialer != nil {
		d = opts.Dialer
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("prdr: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	rwc := struct {
		io.Reader
		io.Writer
		io.Closer
	}{LimitLines(conn), conn, conn}
	s := &session{c: textproto.NewConn(rwc), res: &SendResult{}}
	err = s.run(from, to, msg, opts)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		cerr := ctx.Err()
		if dl, ok := ctx.Deadline(); cerr == nil && ok && !time.Now().Before(dl) {
			cerr = context.DeadlineExceeded
		}
		if cerr != nil {
			err = fmt.Errorf("%w (%w)", cerr, err)
		}
	}
	if err != nil {
		err = fmt.Errorf("prdr: %w", err)
	}
	return s.res, err
}

type session struct {
	c   *textproto.Conn
	res *SendResult
}

// cmd sends one command and reads its reply.
func (s *session) cmd(line string) (Reply, error) {
	if err := s.c.PrintfLine("%s", line); err != nil {
		return Reply{}, err
	}
	rep, err := ReadReply(&s.c.Reader)
	if err != nil {
		return Reply{}, readErr(verb(line), err)
	}
	return rep, nil
}

func verb(line string) string {
	v, _, _ := strings.Cut(line, ":")
	v, _, _ = strings.Cut(v, " ")
	return v
}

func (s *session) run(from string, to []string, msg []byte, opts *Options) error {
	res := s.res
	res.Recipients = make([]RecipientOutcome, len(to))
	for i, a := range to {
		res.Recipients[i] = RecipientOutcome{Recipient: a, Status: Deferred}
	}
	greet, err := ReadReply(&s.c.Reader)
	if err != nil {
		return readErr("connect", err)
	}
	if greet.Code != 220 {
		s.quit()
		return &CommandError{Cmd: "connect", Reply: greet}
	}
	helo := opts.Helo
	if helo == "" {
		helo = "localhost"
	}
	ehlo, err := s.cmd("EHLO " + helo)
	if err != nil {
		return err
	}
	if ehlo.Class() != 2 {
		s.quit()
		return &CommandError{Cmd: "EHLO " + helo, Reply: ehlo}
	}
	res.Offered = Offered(ehlo)
	res.Chunking = opts.BDAT && hasKeyword(ehlo, "CHUNKING")
	suffix := ""
	if !opts.NoPRDR {
		suffix = MailSuffix(res.Offered, len(to))
	}
	res.Requested = suffix != ""

	all := func(idx []int, rep Reply) {
		for _, i := range idx {
			res.Recipients[i].Status = statusOf(rep)
			res.Recipients[i].Reply = rep
			res.Recipients[i].Message = rep.String()
		}
	}
	everyone := make([]int, len(to))
	for i := range everyone {
		everyone[i] = i
	}
	mail, err := s.cmd("MAIL FROM:<" + from + ">" + suffix)
	if err != nil {
		return err
	}
	if mail.Class() != 2 {
		all(everyone, mail)
		s.quit()
		return nil
	}
	var okIdx []int
	var okAddr []string
	for i, a := range to {
		rep, err := s.cmd("RCPT TO:<" + a + ">")
		if err != nil {
			return err
		}
		if rep.Class() == 2 {
			okIdx = append(okIdx, i)
			okAddr = append(okAddr, a)
			continue
		}
		all([]int{i}, rep)
	}
	if len(okIdx) == 0 {
		s.quit()
		return nil
	}

	var dataCmd string
	if res.Chunking {
		dataCmd, err = s.sendBDAT(msg, opts.ChunkSize, func(rep Reply) { all(okIdx, rep) })
		if err != nil || dataCmd == "" {
			if err == nil {
				s.quit()
			}
			return err
		}
	} else {
		dataCmd = "DATA"
		rep, err := s.cmd("DATA")
		if err != nil {
			return err
		}
		if rep.Code != 354 {
			all(okIdx, rep)
			s.quit()
			return nil
		}
		dw := s.c.DotWriter()
		if _, err := dw.Write(msg); err != nil {
			return err
		}
		if err := dw.Close(); err != nil {
			return err
		}
	}
	res.DataCmd = dataCmd
	dr, err := ReadDataReplies(&s.c.Reader, okAddr, dataCmd)
	res.Data = dr
	for j, i := range okIdx {
		res.Recipients[i] = dr.Recipients[j]
	}
	if err != nil {
		return err
	}
	s.quit()
	return nil
}

// sendBDAT sends msg in chunks and returns the last command, or "" when
// the server refused a chunk (refuse is then called with its reply).
func (s *session) sendBDAT(msg []byte, size int, refuse func(Reply)) (string, error) {
	if size <= 0 {
		size = len(msg)
	}
	for {
		n := min(size, len(msg))
		last := n == len(msg)
		line := "BDAT " + strconv.Itoa(n)
		if last {
			line += " LAST"
		}
		w := s.c.W
		if _, err := w.WriteString(line + "\r\n"); err != nil {
			return "", err
		}
		if _, err := w.Write(msg[:n]); err != nil {
			return "", err
		}
		if err := w.Flush(); err != nil {
			return "", err
		}
		msg = msg[n:]
		if last {
			return line, nil
		}
		rep, err := ReadReply(&s.c.Reader)
		if err != nil {
			return "", readErr(line, err)
		}
		if rep.Class() != 2 {
			refuse(rep)
			return "", nil
		}
	}
}

// quit says QUIT and reads the reply, ignoring errors: the outcome is
// known by then.
func (s *session) quit() {
	if s.c.PrintfLine("QUIT") == nil {
		ReadReply(&s.c.Reader)
	}
}

// toCRLF turns every bare LF into CRLF and makes sure a non-empty
// message ends with CRLF.
func toCRLF(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b) + len(b)/32 + 2)
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out.WriteByte('\r')
		}
		out.WriteByte(c)
	}
	if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\r\n")) {
		out.WriteString("\r\n")
	}
	return out.Bytes()
}

// maxLine bounds a reply line from the server (RFC 5321 §4.5.3.1.5 says
// 512 octets; this is generous), so that a hostile server cannot make
// the client buffer without end.
const maxLine = 64 << 10

// ErrLineTooLong is returned when a server's reply line exceeds 64 KiB.
var ErrLineTooLong = errors.New("reply line too long")

// LimitLines wraps a connection's reading side so that a server's reply
// line longer than 64 KiB fails the read with ErrLineTooLong instead of
// growing a buffer without end: put it under the textproto.Reader that
// ReadReply and ReadDataReplies read from. Send does this itself.
func LimitLines(r io.Reader) io.Reader { return &lineLimiter{r: r} }

// lineLimiter fails reads once more than maxLine bytes come without a
// line feed.
type lineLimiter struct {
	r   io.Reader
	run int
}

func (l *lineLimiter) Read(p []byte) (int, error) {
	if l.run > maxLine {
		return 0, ErrLineTooLong
	}
	n, err := l.r.Read(p)
	for _, c := range p[:n] {
		if c == '\n' {
			l.run = 0
		} else {
			l.run++
		}
	}
	return n, err
}
