package dmarc

import (
	"errors"
	"fmt"
	"strings"
)

// DKIM verification statuses: Exim's $dkim_verify_status words, the
// values of DKIMResult.Status.
const (
	DKIMStatusPass    = "pass"
	DKIMStatusFail    = "fail"    // the signature was checked and is wrong, or its key is unacceptable
	DKIMStatusInvalid = "invalid" // the signature or its key could not be used (Exim's "invalid" class)
	DKIMStatusNone    = "none"    // not verified (WithDKIMMinimal, or over WithDKIMMaxSignatures)
)

// DKIM verification reasons: Exim's $dkim_verify_reason words, the
// values of DKIMResult.Reason. A fail without one of the three fail
// reasons (a key whose k=, h=, s= or t=s excludes the signature) has
// Reason "", as in Exim, whose Authentication-Results then says
// "fail (unspecified reason)"; DKIMResult.Err tells what happened.
const (
	// Status "fail".
	DKIMReasonBodyHashMismatch   = "bodyhash_mismatch"
	DKIMReasonSignatureIncorrect = "signature_incorrect"
	DKIMReasonPubkeyTooShort     = "pubkey_too_short" // key below WithDKIMMinKeyBits

	// Status "invalid".
	DKIMReasonPubkeyUnavailable = "pubkey_unavailable" // no key record, or the lookup failed (DKIMResult.Temporary)
	DKIMReasonPubkeyDNSSyntax   = "pubkey_dns_syntax"  // key record malformed or revoked (empty p=)
	DKIMReasonPubkeyDERSyntax   = "pubkey_der_syntax"  // p= is not a usable key
	DKIMReasonSignatureTag      = "signature_tag_missing_or_invalid"
	DKIMReasonVersion           = "unsupported_dkim_version"
	// DKIMReasonExpired is not an Exim word: Exim does not enforce x=.
	// RFC 6376 §6.1.1 lists an expired signature among the PERMFAILs of
	// signature validation, which Exim reports as "invalid"; it gets
	// its own reason so that it is not mistaken for a malformed tag.
	DKIMReasonExpired = "signature_expired"
)

// DKIMError is the detail behind a DKIM result other than pass, in
// DKIMResult.Err. Match the class with DKIMResult.Status and Reason;
// the error adds what exactly was wrong and the underlying error (DNS,
// base64, ASN.1 or crypto) when there is one.
type DKIMError struct {
	Domain   string // d= of the signature
	Selector string // s= of the signature
	Reason   string // as DKIMResult.Reason
	Tag      string // the signature or key record tag at fault ("x", "p"...), or ""
	Msg      string
	// Temporary is DKIMResult.Temporary: the key lookup failed in a
	// way that may not last.
	Temporary bool
	Err       error
}

func (e *DKIMError) Error() string {
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

func (e *DKIMError) Unwrap() error { return e.Err }

// DKIMOptionError reports an option VerifyDKIM cannot use, such as an
// unknown hash name. Nothing is verified then.
type DKIMOptionError struct {
	// Option names the option: "WithDKIMHashes", "WithDKIMKeyTypes",
	// "WithDKIMMinKeyBits", "WithDKIMMaxSignatures" or "WithResolver".
	Option string
	Value  string // the value at fault, as given
	Msg    string
	Err    error
}

func (e *DKIMOptionError) Error() string {
	s := fmt.Sprintf("dmarc: VerifyDKIM: %s: %q: %s", e.Option, e.Value, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *DKIMOptionError) Unwrap() error { return e.Err }

// ErrDKIMHeaderTooLarge is the cause of a DKIMReadError when the header
// section exceeds DKIMMaxHeaderBytes.
var ErrDKIMHeaderTooLarge = errors.New("header section larger than 1 MiB (DKIMMaxHeaderBytes)")

// DKIMReadError reports that VerifyDKIM could not read the message:
// the reader failed, or the header section is too large. No result is
// returned with it, since a partly read message proves nothing.
type DKIMReadError struct{ Err error }

func (e *DKIMReadError) Error() string { return "dmarc: VerifyDKIM: reading message: " + e.Err.Error() }

func (e *DKIMReadError) Unwrap() error { return e.Err }
