package spf

import (
	"errors"
	"fmt"
)

// ErrCode classifies a permanent error. Its String is libspf2's text,
// which Exim shows in $spf_header_comment for permerror.
type ErrCode int

// Error codes, named after libspf2's SPF_E_* values.
const (
	ErrCodeSyntax ErrCode = iota + 1
	ErrCodeNotSPF
	ErrCodeInvalidChar
	ErrCodeUnknownMech
	ErrCodeInvalidCIDR
	ErrCodeMissingOpt
	ErrCodeInvalidMacro
	ErrCodeDupModifier
	ErrCodeInvalidIP4
	ErrCodeInvalidIP6
	ErrCodeBadHostTLD
	ErrCodeTooManyLookups
	ErrCodeTooManyVoids
	ErrCodeTooManyMX
	ErrCodeMultipleRecords
	ErrCodeIncludeNone
	ErrCodeRedirectNone
	ErrCodeRecursion
	ErrCodeBadSender
)

var errCodeText = map[ErrCode]string{
	ErrCodeSyntax:          "Syntax error",
	ErrCodeNotSPF:          "Could not find a valid SPF record",
	ErrCodeInvalidChar:     "Invalid character found",
	ErrCodeUnknownMech:     "Unknown mechanism found",
	ErrCodeInvalidCIDR:     "Invalid CIDR length",
	ErrCodeMissingOpt:      "Required option is missing",
	ErrCodeInvalidMacro:    "Invalid macro variable",
	ErrCodeDupModifier:     "Modifier found more than once",
	ErrCodeInvalidIP4:      "Invalid IPv4 address literal",
	ErrCodeInvalidIP6:      "Invalid IPv6 address literal",
	ErrCodeBadHostTLD:      "Hostname has a missing or invalid TLD",
	ErrCodeTooManyLookups:  "Mechanisms used too many DNS lookups",
	ErrCodeTooManyVoids:    "Too many void DNS lookups",
	ErrCodeTooManyMX:       "Too many MX records",
	ErrCodeMultipleRecords: "Multiple SPF or TXT records for domain.",
	ErrCodeIncludeNone:     "Included domain has no SPF record",
	ErrCodeRedirectNone:    "Redirect domain has no SPF record",
	ErrCodeRecursion:       "include: or redirect= caused unlimited recursion",
	ErrCodeBadSender:       "Invalid envelope sender",
}

func (c ErrCode) String() string {
	if s, ok := errCodeText[c]; ok {
		return s
	}
	return "Unknown SPF error code"
}

// SyntaxError is a malformed record or term; it makes the result
// permerror.
type SyntaxError struct {
	Code ErrCode
	Term string // the offending term or record text
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("spf: %s in %q", e.Code, e.Term)
}

// EvalError is a permerror that is not a syntax error: a processing limit
// or a structural problem found during evaluation.
type EvalError struct {
	Code   ErrCode
	Domain string
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("spf: %s (domain %s)", e.Code, e.Domain)
}

// DNSError wraps the DNS error that made the result temperror.
type DNSError struct {
	Name string // the name being looked up
	Err  error
}

func (e *DNSError) Error() string {
	return fmt.Sprintf("spf: temporary DNS error looking up %s: %v", e.Name, e.Err)
}

func (e *DNSError) Unwrap() error { return e.Err }

// errCodeOf extracts the libspf2-style code from a permerror's error.
func errCodeOf(err error) ErrCode {
	var se *SyntaxError
	if errors.As(err, &se) {
		return se.Code
	}
	var pe *EvalError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ErrCodeSyntax
}
