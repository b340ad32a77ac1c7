package dkim

import (
	"errors"
	"fmt"
	"strings"
)

// Error is the detail behind a DKIM result other than pass, in
// Result.Err. Match the class with Result.Status and Reason;
// the error adds what exactly was wrong and the underlying error (DNS,
// base64, ASN.1 or crypto) when there is one.
type Error struct {
	Domain   string // d= of the signature
	Selector string // s= of the signature
	Reason   Reason // as Result.Reason
	Tag      string // the signature or key record tag at fault ("x", "p"...), or ""
	Msg      string
	// Temporary is Result.Temporary: the key lookup failed in a
	// way that may not last.
	Temporary bool
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("dkim: ")
	if e.Domain != "" || e.Selector != "" {
		fmt.Fprintf(&b, "d=%s s=%s: ", e.Domain, e.Selector)
	}
	b.WriteString(e.Msg)
	if e.Tag != "" {
		fmt.Fprintf(&b, " (%s=)", e.Tag)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// OptionError reports an option Verify cannot use, such as an
// unknown hash name. Nothing is verified then.
type OptionError struct {
	// Option names the option: "WithHashes", "WithKeyTypes",
	// "WithMinKeyBits", "WithMaxSignatures" or "WithResolver".
	Option string
	Value  string // the value at fault, as given
	Msg    string
	Err    error
}

func (e *OptionError) Error() string {
	s := fmt.Sprintf("dkim: Verify: %s: %q: %s", e.Option, e.Value, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *OptionError) Unwrap() error { return e.Err }

// ErrHeaderTooLarge is the cause of a ReadError when the header
// section exceeds MaxHeaderBytes.
var ErrHeaderTooLarge = errors.New("header section larger than 1 MiB (MaxHeaderBytes)")

// ReadError reports that Verify could not read the message:
// the reader failed, or the header section is too large. No result is
// returned with it, since a partly read message proves nothing.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return "dkim: Verify: reading message: " + e.Err.Error() }

func (e *ReadError) Unwrap() error { return e.Err }
