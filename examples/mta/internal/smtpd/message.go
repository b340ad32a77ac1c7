package smtpd

import (
	"bytes"
	"errors"

	"github.com/mailpolicy/mailpolicy/authres"
)

// ErrNoDataMemory is a stored copy that MaxDataMemory has no room for.
var ErrNoDataMemory = errors.New("insufficient memory for the message copy (data memory limit)")

// msgHeadroom is kept free in front of the message for the header
// fields we prepend to a stored copy (Return-path ... Authentication-
// Results, a few hundred octets, more with many DKIM signatures): each
// copy is then one slice over the buffer, and the message is never
// copied per recipient.
const msgHeadroom = 8 << 10

// Growth of a message buffer: doubling while small, then by half, so a
// 10 MiB message wastes at most a third of its buffer; once the client
// has really sent dataTrustSize, its SIZE= estimate is used to allocate
// the rest at once (trusting it from the start would let a client
// reserve MaxSize by announcing it and sending nothing).
const (
	dataInitial   = 16 << 10
	dataTrustSize = 1 << 20
)

// msgBuf is one message being received, dot-unstuffed with CRLF line
// ends, in memory charged to the server's memBudget.
type msgBuf struct {
	b       []byte // b[:msgHeadroom] is headroom, b[msgHeadroom:] the message
	budget  *memBudget
	held    int64 // reserved for b
	extra   int64 // reserved for a withPrefix copy that did not fit
	hintCap int   // capacity the SIZE= estimate asks for, 0 without one
	maxCap  int
}

// newMsgBuf reserves the first buffer for a message of at most max
// bytes, hint the client's SIZE= (0: none); nil when the budget is
// exhausted.
func newMsgBuf(budget *memBudget, hint, max int64) *msgBuf {
	m := &msgBuf{budget: budget, maxCap: msgHeadroom + int(max)}
	if hint > 0 && hint <= max {
		m.hintCap = msgHeadroom + int(hint)
	}
	n := msgHeadroom + dataInitial
	if hint > 0 && hint+512 < dataInitial {
		n = msgHeadroom + int(hint) + 512
	}
	n = min(n, m.maxCap)
	if !budget.reserve(int64(n)) {
		return nil
	}
	m.held = int64(n)
	m.b = make([]byte, msgHeadroom, n)
	return m
}

// appendLine adds line and CRLF; false when the buffer would have to
// grow past the budget (the caller then drops the message).
func (m *msgBuf) appendLine(line []byte) bool {
	need := len(m.b) + len(line) + 2
	if need > cap(m.b) && !m.grow(need) {
		return false
	}
	m.b = append(m.b, line...)
	m.b = append(m.b, '\r', '\n')
	return true
}

// appendRaw adds b as it is (a BDAT chunk); false as appendLine.
func (m *msgBuf) appendRaw(b []byte) bool {
	need := len(m.b) + len(b)
	if need > cap(m.b) && !m.grow(need) {
		return false
	}
	m.b = append(m.b, b...)
	return true
}

func (m *msgBuf) grow(need int) bool {
	c := cap(m.b)
	n := 2 * c
	if c >= dataTrustSize {
		n = c + c/2
		if need <= m.hintCap {
			n = max(n, m.hintCap)
		}
	}
	n = min(max(n, need), m.maxCap)
	if n < need {
		return false
	}
	// Old and new buffer both exist during the copy: reserve for both.
	if !m.budget.reserve(int64(n)) {
		return false
	}
	nb := make([]byte, len(m.b), n)
	copy(nb, m.b)
	m.b = nb
	m.budget.release(m.held)
	m.held = int64(n)
	return true
}

// msg is the message as received (CRLF), or as toLF left it.
func (m *msgBuf) msg() []byte { return m.b[msgHeadroom:] }

// toLF turns the message's CRLF line ends into LF in place, the form of
// the Maildir copies; the CRLF form is gone afterwards.
func (m *msgBuf) toLF() {
	m.b = m.b[:msgHeadroom+len(crlfToLF(m.b[msgHeadroom:]))]
}

// withPrefix returns prefix followed by the message as one slice, valid
// until the next withPrefix or release. It uses the headroom when the
// prefix fits and otherwise a copy charged to the budget; false when
// that cannot be had.
func (m *msgBuf) withPrefix(prefix string) ([]byte, bool) {
	m.budget.release(m.extra)
	m.extra = 0
	if len(prefix) <= msgHeadroom {
		start := msgHeadroom - len(prefix)
		copy(m.b[start:], prefix)
		return m.b[start:], true
	}
	n := len(prefix) + len(m.b) - msgHeadroom
	if !m.budget.reserve(int64(n)) {
		return nil, false
	}
	m.extra = int64(n)
	out := make([]byte, 0, n)
	out = append(out, prefix...)
	return append(out, m.msg()...), true
}

// removeOwnAR removes, in place, the Authentication-Results fields of
// the message's header section that claim authservID (authres.RemoveOwn,
// RFC 8601 §5), moving what follows them up, and returns how many went.
// Only the header section is copied, never the body.
func (m *msgBuf) removeOwnAR(authservID string) int {
	msg := m.msg()
	end := headerSectionLen(msg)
	hdr, n := authres.RemoveOwn(msg[:end], authservID)
	if n == 0 {
		return 0
	}
	k := copy(msg, hdr)
	k += copy(msg[k:], msg[end:])
	m.b = m.b[:msgHeadroom+k]
	return n
}

// headerSectionLen is the length of msg's header section, up to the
// empty line that ends it (or all of msg).
func headerSectionLen(msg []byte) int {
	for i := 0; i < len(msg); {
		if msg[i] == '\n' || msg[i] == '\r' && i+1 < len(msg) && msg[i+1] == '\n' {
			return i
		}
		nl := bytes.IndexByte(msg[i:], '\n')
		if nl < 0 {
			return len(msg)
		}
		i += nl + 1
	}
	return len(msg)
}

// release gives the memory back to the budget; m is empty afterwards.
// Safe to call more than once.
func (m *msgBuf) release() {
	if m == nil {
		return
	}
	m.budget.release(m.held + m.extra)
	m.held, m.extra, m.b = 0, 0, nil
}

// crlfToLF rewrites every CRLF in b as LF, in place, and returns the
// shortened slice: bytes.ReplaceAll without a second copy of the
// message.
func crlfToLF(b []byte) []byte {
	w, r := 0, 0
	for {
		i := bytes.Index(b[r:], []byte("\r\n"))
		if i < 0 {
			w += copy(b[w:], b[r:])
			return b[:w]
		}
		w += copy(b[w:], b[r:r+i])
		b[w] = '\n'
		w++
		r += i + 2
	}
}

// Message is a received message as the Backend gets it: dot-unstuffed,
// CRLF line ends, in memory charged to the data budget, valid until
// Data returns.
type Message struct {
	buf *msgBuf
	// PRDR says the replies are per recipient (RFC PRDR draft): the
	// client asked for it and there is more than one recipient. Without
	// it a temporary refusal of any recipient should defer the whole
	// message, or a retry duplicates what was delivered.
	PRDR bool
}

// Bytes is the message as received (CRLF), or LF after ToLF.
func (m *Message) Bytes() []byte { return m.buf.msg() }

// ToLF turns the message's CRLF line ends into LF in place (the form
// of Maildir files); the CRLF form is gone afterwards.
func (m *Message) ToLF() { m.buf.toLF() }

// WithPrefix returns prefix followed by the message as one slice,
// valid until the next WithPrefix: the headroom in front of the
// message takes the prefix, so no copy is made unless the prefix is
// larger; false when the budget has no room for that copy.
func (m *Message) WithPrefix(prefix string) ([]byte, bool) { return m.buf.withPrefix(prefix) }

// RemoveOwnAR removes the Authentication-Results fields that claim
// authservID (authres.RemoveOwn) and returns how many went.
func (m *Message) RemoveOwnAR(authservID string) int { return m.buf.removeOwnAR(authservID) }
