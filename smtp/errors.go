package smtp

import (
	"errors"
	"fmt"
)

// Errors wrapped by a *ReplyError.
var (
	// ErrMalformed: a line is not "ddd", "ddd text" or "ddd-text", a
	// continuation line changes the code, or a line holds a bare CR or
	// LF.
	ErrMalformed = errors.New("smtp: malformed reply")
	// ErrLineTooLong: a reply line is longer than Limits.MaxLineLength.
	ErrLineTooLong = errors.New("smtp: reply line too long")
	// ErrReplyTooLarge: a reply has more lines than Limits.MaxLines or
	// more text than Limits.MaxSize.
	ErrReplyTooLarge = errors.New("smtp: reply too large")
)

var (
	errTrailing  = fmt.Errorf("%w: text after the last line", ErrMalformed)
	errCodeShift = fmt.Errorf("%w: code changes inside a multi-line reply", ErrMalformed)
	errBareEOL   = fmt.Errorf("%w: bare CR or LF in a line", ErrMalformed)
)

// A ReplyError reports a reply that could not be read. Err is
// ErrMalformed, ErrLineTooLong or ErrReplyTooLarge (possibly wrapped),
// io.ErrUnexpectedEOF for a connection that ended inside a reply (a
// line without its CRLF included), or the read error itself, such as a
// timeout.
type ReplyError struct {
	Line string // the offending line without CRLF, cut to 80 octets ("" when none)
	Err  error
}

func (e *ReplyError) Error() string {
	if e.Line == "" {
		return "reading SMTP reply: " + e.Err.Error()
	}
	return fmt.Sprintf("reading SMTP reply: %v: %q", e.Err, e.Line)
}

func (e *ReplyError) Unwrap() error { return e.Err }

// A CommandError is a well-formed reply that refuses a command: a
// greeting other than 220, or a reply of another class than the
// command's success (2xx; 354 for DATA, 220 for STARTTLS).
type CommandError struct {
	// Cmd is what was answered: "connect" for the greeting, "end of
	// data" for the reply after DATA's final dot, otherwise the command
	// line as sent ("MAIL FROM:<a@b> SIZE=12", "BDAT 100 LAST").
	Cmd   string
	Reply Reply
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("SMTP %s: %s", e.Cmd, e.Reply)
}

// Temporary reports whether the refusal is a 4xx.
func (e *CommandError) Temporary() bool { return e.Reply.Class() == 4 }

// A ProtocolError is a reply the client cannot use where it stands,
// such as a 1xx or 3xx in place of a per-recipient PRDR reply, or data
// the server sent before TLS started. The connection is unusable after
// it.
type ProtocolError struct {
	After string // the command that was answered, e.g. "DATA"
	Reply Reply  // the reply, zero when the error is not about one
	Why   string
}

func (e *ProtocolError) Error() string {
	if e.Reply.Code == 0 {
		return fmt.Sprintf("SMTP protocol error after %s: %s", e.After, e.Why)
	}
	return fmt.Sprintf("SMTP protocol error after %s: %s: %s", e.After, e.Why, e.Reply)
}

// ErrNotOffered is wrapped by the error of a client call that needs an
// extension the server's EHLO reply did not list (STARTTLS, CHUNKING).
var ErrNotOffered = errors.New("extension not offered by the server")

// ErrClosed is returned by the calls of a Client after Close or Quit.
var ErrClosed = errors.New("smtp: client closed")
