package proxyproto

import (
	"errors"
	"fmt"
)

// ErrIncomplete is matched (errors.Is) by the error ReadHeader returns
// when the input ended, or the read failed (a deadline passed, ...),
// before a whole header arrived. The error also matches the cause:
// io.ErrUnexpectedEOF after a partial header, io.EOF on empty input, or
// the read error.
var ErrIncomplete = errors.New("proxyproto: incomplete header")

// ErrNoHeader is matched by the error ReadHeader returns when the input
// does not start with either PROXY signature.
var ErrNoHeader = errors.New("proxyproto: no PROXY protocol signature")

// ErrCRC32C is matched by the error ReadHeader returns when a v2 header
// carries a PP2_TYPE_CRC32C TLV whose checksum does not match.
var ErrCRC32C = errors.New("proxyproto: CRC32C checksum mismatch")

// ErrTooLong is matched when a v1 line exceeds 107 bytes or a v2 header
// exceeds the configured length cap.
var ErrTooLong = errors.New("proxyproto: header too long")

// ErrNegotiationFailed is matched by the errors a Conn returns after the
// PROXY header from a host in Config.Required (or a started header from
// a host in Config.Optional) could not be read.
var ErrNegotiationFailed = errors.New("proxyproto: required Proxy negotiation failed")

// SyntaxError describes a malformed header. Offset is the byte offset
// (from the start of the header) where the problem was found.
type SyntaxError struct {
	Version int // 1 or 2; 0 when the signature itself was wrong
	Offset  int
	Msg     string
	kind    error // ErrNoHeader, ErrTooLong, ErrCRC32C or nil
}

func (e *SyntaxError) Error() string {
	v := "header"
	if e.Version != 0 {
		v = fmt.Sprintf("v%d header", e.Version)
	}
	return fmt.Sprintf("proxyproto: bad %s at byte %d: %s", v, e.Offset, e.Msg)
}

// Unwrap returns the sentinel error that classifies this one, if any.
func (e *SyntaxError) Unwrap() error { return e.kind }

// IncompleteError is returned when the input ends (or the read fails)
// before the header is complete. Read is the number of header bytes
// received. It matches ErrIncomplete and, via Err, the read error.
type IncompleteError struct {
	Version int
	Read    int
	Err     error // the error from the underlying reader
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("proxyproto: incomplete v%d header after %d bytes: %v", e.Version, e.Read, e.Err)
}

// Unwrap returns ErrIncomplete and the underlying read error.
func (e *IncompleteError) Unwrap() []error { return []error{ErrIncomplete, e.Err} }

// NegotiationError is the reason a Conn's PROXY negotiation failed. It
// matches ErrNegotiationFailed and the cause (a *SyntaxError,
// *IncompleteError, a timeout, ...).
type NegotiationError struct {
	Err error
}

func (e *NegotiationError) Error() string {
	return "proxyproto: required Proxy negotiation failed: " + e.Err.Error()
}

// Unwrap returns ErrNegotiationFailed and the cause.
func (e *NegotiationError) Unwrap() []error { return []error{ErrNegotiationFailed, e.Err} }

func syntaxErr(v, off int, msg string) error {
	return &SyntaxError{Version: v, Offset: off, Msg: msg}
}
