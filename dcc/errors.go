package dcc

import (
	"fmt"
)

// An AddressError reports a dccifd_address value that is neither a
// socket path nor "host port".
type AddressError struct {
	Address string // the value given
	Reason  string
}

func (e *AddressError) Error() string {
	return fmt.Sprintf("dcc: invalid dccifd address %q: %s", e.Address, e.Reason)
}

// A RequestError reports a Request field that cannot be sent to dccifd,
// for example a line break inside the HELO value, which would shift
// every following protocol line.
type RequestError struct {
	Field  string // "HELO", "Sender", "Recipients[2]", "Header[0]", ...
	Reason string
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("dcc: request field %s: %s", e.Field, e.Reason)
}

// A ReplyError reports a dccifd reply that does not follow the
// protocol: empty, an unknown result letter, a result line longer than
// one character, or a per-recipient line that does not match the
// recipients sent.
type ReplyError struct {
	Reason string
	Reply  []byte // at most the first 200 bytes of the reply
}

func (e *ReplyError) Error() string {
	return fmt.Sprintf("dcc: malformed dccifd reply: %s: %q", e.Reason, e.Reply)
}

func newReplyError(reason string, reply []byte) *ReplyError {
	if len(reply) > 200 {
		reply = reply[:200]
	}
	return &ReplyError{Reason: reason, Reply: append([]byte(nil), reply...)}
}

// A ConnError reports a failure to talk to dccifd: connecting, writing
// the request, half-closing or reading the reply. Op says which; Err is
// the underlying error (context.DeadlineExceeded or context.Canceled
// when the context ended the exchange).
type ConnError struct {
	Op   string // "dial", "write", "half-close", "read"
	Addr Address
	Err  error
}

func (e *ConnError) Error() string {
	return fmt.Sprintf("dcc: %s %s: %v", e.Op, e.Addr, e.Err)
}

func (e *ConnError) Unwrap() error { return e.Err }

// A HeaderError reports extra header text ($acl_m_dcc_add_header)
// that is not a sequence of well-formed header fields.
type HeaderError struct {
	Line   int // 1-based line of the text
	Reason string
}

func (e *HeaderError) Error() string {
	return fmt.Sprintf("dcc: extra header line %d: %s", e.Line, e.Reason)
}
