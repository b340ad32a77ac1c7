package dkim

import (
	"strconv"

	"github.com/mailpolicy/mailpolicy/eximvar"
)

// Result is one DKIM signature's outcome, as Verify reports it and
// dmarc.Evaluate consumes it.
type Result struct {
	Domain     string // d=
	Selector   string // s=
	Identifier string // i=, "" when absent
	Algorithm  string // a=, e.g. "rsa-sha256"
	KeyBits    int    // public key size, 0 when unknown
	// Status is Exim's $dkim_verify_status: pass, fail, invalid or none
	// (not verified, e.g. after dkim_verify_minimal).
	Status Status
	// Reason is Exim's $dkim_verify_reason, when there is one
	// (pubkey_unavailable, pubkey_dns_syntax, pubkey_der_syntax,
	// bodyhash_mismatch, signature_incorrect, pubkey_too_short...).
	Reason Reason
	// Temporary reports an RFC 6376 TEMPFAIL: the key lookup got no
	// answer (SERVFAIL, timeout, REFUSED, the context ended), so the
	// same signature may verify later. It is false for every other
	// result, including a key that does not exist (NXDOMAIN, NODATA, no
	// DKIM key among the TXT records: a PERMFAIL, RFC 6376 §6.1.2), which
	// has the same Status invalid and Reason pubkey_unavailable:
	// Exim uses that word for both and $dkim_verify_reason keeps it.
	// dmarc.Evaluate lets only a Temporary aligned result make DMARC
	// temperror, so a caller building Results from elsewhere sets it
	// for lookups that failed and leaves it false otherwise.
	Temporary bool
	Err       error
}

// Variables returns the result as Exim's $dkim_* variables for the
// signature, in a fixed order: dkim_cur_signer and dkim_domain (d=),
// dkim_selector (s=), dkim_identity (i=), dkim_algo (a=),
// dkim_key_length (bits, "" when unknown), dkim_verify_status and
// dkim_verify_reason.
func (r Result) Variables() []eximvar.Variable {
	bits := ""
	if r.KeyBits > 0 {
		bits = strconv.Itoa(r.KeyBits)
	}
	return []eximvar.Variable{
		{Name: "dkim_cur_signer", Value: r.Domain},
		{Name: "dkim_domain", Value: r.Domain},
		{Name: "dkim_selector", Value: r.Selector},
		{Name: "dkim_identity", Value: r.Identifier},
		{Name: "dkim_algo", Value: r.Algorithm},
		{Name: "dkim_key_length", Value: bits},
		{Name: "dkim_verify_status", Value: r.Status.String()},
		{Name: "dkim_verify_reason", Value: r.Reason.String()},
	}
}
