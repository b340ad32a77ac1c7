package smtpd

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/smtp"
)

// maxChunk bounds one BDAT size argument: more than any message we
// take, small enough that nothing overflows.
const maxChunk = 1 << 40

// chunked is a message arriving by BDAT (RFC 3030): the buffer and
// what the line scan has seen so far, across chunk boundaries.
type chunked struct {
	mf      *msgFile
	size    int64
	problem dataProblem
	cr      bool // the last octet was CR
	line    int  // octets in the current line, CRLF not counted
}

// parseBDAT reads "size [LAST]".
func parseBDAT(arg string) (size int64, last bool, ok bool) {
	f := strings.Fields(arg)
	if len(f) == 0 || len(f) > 2 || strings.Join(f, " ") != strings.TrimSpace(arg) {
		return 0, false, false
	}
	for _, c := range f[0] {
		if c < '0' || c > '9' {
			return 0, false, false
		}
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || n > maxChunk {
		return 0, false, false
	}
	if len(f) == 2 {
		if !strings.EqualFold(f[1], "LAST") {
			return 0, false, false
		}
		last = true
	}
	return n, last, true
}

// cmdBDAT is RFC 3030's BDAT. The chunk is read whatever the state, as
// the RFC requires (its octets are not commands). The message is held
// to the same rules as DATA: a bare CR or LF anywhere, or a line over
// 998 octets, refuses it at LAST (a relay would pass a bare LF on to a
// DATA server, the SMTP smuggling way); the size limit and the memory
// budget end the transaction at the chunk that passes them.
func (s *session) cmdBDAT(arg string) error {
	n, last, ok := parseBDAT(arg)
	if !ok {
		// The chunk's length is unknown, so its octets would be read
		// as commands: the session cannot go on.
		s.reply(smtp.ReplyParamSyntaxError, "5.5.4", "Syntax error in BDAT parameters")
		return errors.New("BDAT syntax error")
	}
	tx := s.tx
	switch {
	case tx == nil || len(tx.rcpts) == 0:
		if err := s.discardChunk(n); err != nil {
			return s.readErr(err)
		}
		return s.synprot(true, smtp.ReplyBadSequence, "5.5.1", "Valid MAIL and RCPT commands must precede BDAT")
	case tx.bdat == nil:
		mf := s.newMsgFile()
		if mf == nil {
			// A chunk cut short must end the session: the rest of
			// it would be read as commands.
			if err := s.discardChunk(n); err != nil {
				return s.readErr(err)
			}
			s.setTx(nil)
			s.reply(smtp.ReplyInsufficientStorage, "4.3.1", "Insufficient system storage")
			return nil
		}
		tx.bdat = &chunked{mf: mf}
		if d := s.srv.cfg.DataTimeout; d > 0 {
			s.dataDeadline = time.Now().Add(d)
		}
	}
	c := tx.bdat
	s.inData = true
	err := s.readChunk(n, c)
	s.inData = false
	if err != nil {
		return s.readErr(err)
	}
	// Past the size limit the transaction ends at once, whatever else
	// was found (a message already doomed by a bare LF must not make
	// the server read without end); so does a budget that refused.
	// setTx releases the buffer and the transfer's deadline.
	switch {
	case c.size > s.srv.cfg.MaxSize:
		s.setTx(nil)
		s.reply(smtp.ReplyExceededStorage, "5.3.4", "Message size exceeds fixed maximum message size")
		return nil
	case c.problem == dataNoMemory || c.problem == dataNoSpace:
		if c.problem == dataNoMemory {
			s.log().Warn("data memory exhausted, message dropped", "limit", s.srv.budget.limit)
		} else {
			s.log().Warn("message file could not be written, message dropped")
		}
		s.setTx(nil)
		s.reply(smtp.ReplyInsufficientStorage, "4.3.1", "Insufficient system storage")
		return nil
	}
	if !last {
		s.reply(smtp.ReplyOK, "2.0.0", strconv.FormatInt(n, 10)+" octets received")
		return nil
	}
	s.dataDeadline = time.Time{}
	if c.cr {
		c.note(dataBareCR)
	}
	// A message must end in CRLF (RFC 5321 §4.1.1.4), as every message
	// read by DATA does; the CRLF counts towards the size.
	if c.problem == dataOK && c.size > 0 && !c.mf.endsLF() {
		switch {
		case c.size+2 > s.srv.cfg.MaxSize:
			c.note(dataTooBig)
		default:
			if p := c.mf.appendLine(nil); p != dataOK {
				c.note(p)
			}
		}
	}
	s.finish(tx, c.mf, c.problem)
	return nil
}

// note records a problem; the message is refused then, so its file and
// memory go back at once (msgFile.release may be called again).
func (c *chunked) note(p dataProblem) {
	if p > c.problem {
		c.problem = p
	}
	c.mf.release()
}

// discardChunk reads and drops a chunk outside a transfer, within
// DataTimeout as a transfer would be: a client must not keep the server
// reading a huge chunk it is not taking.
func (s *session) discardChunk(n int64) error {
	if d := s.srv.cfg.DataTimeout; d > 0 && s.dataDeadline.IsZero() {
		s.dataDeadline = time.Now().Add(d)
		defer func() { s.dataDeadline = time.Time{} }()
	}
	return s.readChunk(n, nil)
}

// readChunk reads exactly n octets into c (nil: thrown away), each
// read within ReadTimeout and the whole transfer within DataTimeout.
func (s *session) readChunk(n int64, c *chunked) error {
	for n > 0 {
		deadline := time.Now().Add(s.srv.cfg.ReadTimeout)
		s.dataCut = !s.dataDeadline.IsZero() && s.dataDeadline.Before(deadline)
		if s.dataCut {
			deadline = s.dataDeadline
		}
		s.conn.SetReadDeadline(deadline)
		if s.r.Buffered() == 0 {
			if err := s.flush(); err != nil {
				return err
			}
		}
		// Peek waits for k octets or an error, and gives what it has.
		b, err := s.r.Peek(int(min(n, int64(s.r.Size()))))
		if c != nil {
			c.add(b, s.srv.cfg.MaxSize)
		}
		s.r.Discard(len(b))
		n -= int64(len(b))
		if err != nil && n > 0 {
			return err
		}
	}
	return nil
}

// add appends b to the message after scanning it for bare CR and LF
// and long lines; past maxSize, or after any problem, the rest is
// only counted.
func (c *chunked) add(b []byte, maxSize int64) {
	for _, x := range b {
		switch {
		case x == '\n':
			if !c.cr {
				c.note(dataBareLF)
			}
			c.line = 0
		case c.cr:
			c.note(dataBareCR)
			c.line++
		case x != '\r':
			c.line++
		}
		c.cr = x == '\r'
		if c.line > 998 {
			c.note(dataLongLine)
		}
	}
	c.size += int64(len(b))
	switch {
	case c.size > maxSize:
		c.note(dataTooBig)
	case c.problem == dataOK:
		if p := c.mf.appendRaw(b); p != dataOK {
			c.note(p)
		}
	}
}
