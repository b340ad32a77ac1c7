package dkim

// Status is a signature's verification status, Exim's
// $dkim_verify_status; String gives Exim's word. The zero value is
// StatusNone.
type Status int

// Verification statuses, in Exim's words.
const (
	StatusNone    Status = iota // "none": not verified (WithMinimal, or over WithMaxSignatures)
	StatusInvalid               // "invalid": the signature or its key could not be used (Exim's "invalid" class)
	StatusFail                  // "fail": the signature was checked and is wrong, or its key is unacceptable
	StatusPass                  // "pass"
)

var statusWords = [...]string{StatusNone: "none", StatusInvalid: "invalid", StatusFail: "fail", StatusPass: "pass"}

// String returns Exim's $dkim_verify_status word: "none", "invalid",
// "fail" or "pass" ("" for a value that is none of the constants).
func (s Status) String() string {
	if s < 0 || int(s) >= len(statusWords) {
		return ""
	}
	return statusWords[s]
}

// Reason says why a signature did not pass, Exim's
// $dkim_verify_reason; String gives Exim's word. It is "" when there
// is no reason to give: for a pass, a signature not verified, and a
// fail without one of the three fail reasons (a key whose k=, h=, s=
// or t=s excludes the signature), as in Exim, whose
// Authentication-Results then says "fail (unspecified reason)";
// Result.Err tells what happened.
type Reason string

// Verification reasons, Exim's $dkim_verify_reason words.
const (
	ReasonNone Reason = ""

	// Status "fail".
	ReasonBodyHashMismatch   Reason = "bodyhash_mismatch"
	ReasonSignatureIncorrect Reason = "signature_incorrect"
	ReasonPubkeyTooShort     Reason = "pubkey_too_short" // key below WithMinKeyBits

	// Status "invalid".
	ReasonPubkeyUnavailable Reason = "pubkey_unavailable" // no key record, or the lookup failed (Result.Temporary)
	ReasonPubkeyDNSSyntax   Reason = "pubkey_dns_syntax"  // key record malformed or revoked (empty p=)
	ReasonPubkeyDERSyntax   Reason = "pubkey_der_syntax"  // p= is not a usable key
	ReasonSignatureTag      Reason = "signature_tag_missing_or_invalid"
	ReasonVersion           Reason = "unsupported_dkim_version"
	// ReasonExpired is not an Exim word: Exim does not enforce x=.
	// RFC 6376 §6.1.1 lists an expired signature among the PERMFAILs of
	// signature validation, which Exim reports as "invalid"; it gets
	// its own reason so that it is not mistaken for a malformed tag.
	ReasonExpired Reason = "signature_expired"
)

// String returns Exim's $dkim_verify_reason word, "" for none.
func (r Reason) String() string { return string(r) }
