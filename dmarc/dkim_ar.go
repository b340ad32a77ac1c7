package dmarc

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// ARResult is the dkim element Exim's ${authresults} writes for this
// signature (authres_dkim), without the ";\n\t" that precedes each
// element: the result word, for fail and invalid a comment and a fold
// ("\n\t\t"), then header.d=, header.i= and header.s= when known and
// header.a=. Examples:
//
//	dkim=pass header.d=example.com header.s=sel header.a=rsa-sha256
//	dkim=fail (body hash mismatch; body probably modified in transit)
//			 header.d=example.com header.s=sel header.a=rsa-sha256
//
// The texts are Exim's, with two deliberate differences: an unavailable
// key gives "temperror (pubkey unavailable)", the RFC 8601 word, where
// Exim misspells it "tmperror"; and an expired signature (which Exim
// never reports, as it does not enforce x=) gives "permerror (signature
// expired)". Exim's "policy (...)" form, for a status a DKIM ACL
// overrode, does not arise here.
//
// d=, i= and s= come from the message: a value that is not a plain
// token (or local-part@domain for i=) is written as an RFC 8601
// quoted-string, with control characters, CR and LF replaced by "?",
// so that a signature cannot inject text, a ";" or a new line into the
// header.
func (r DKIMResult) ARResult() string {
	var b strings.Builder
	b.WriteString("dkim=")
	fold := true
	switch r.Status {
	case DKIMStatusPass:
		b.WriteString("pass")
		fold = false
	case DKIMStatusNone:
		b.WriteString("none")
		fold = false
	case DKIMStatusInvalid:
		switch r.Reason {
		case DKIMReasonPubkeyUnavailable:
			b.WriteString("temperror (pubkey unavailable)")
		case DKIMReasonPubkeyDNSSyntax, DKIMReasonPubkeyDERSyntax:
			b.WriteString("neutral (public key record import problem)")
		case DKIMReasonSignatureTag:
			b.WriteString("neutral (signature tag missing or invalid)")
		case DKIMReasonVersion:
			b.WriteString("neutral (unsupported DKIM version)")
		case DKIMReasonExpired:
			b.WriteString("permerror (signature expired)")
		default:
			b.WriteString("permerror (unspecified problem)")
		}
	case DKIMStatusFail:
		switch r.Reason {
		case DKIMReasonBodyHashMismatch:
			b.WriteString("fail (body hash mismatch; body probably modified in transit)")
		case DKIMReasonSignatureIncorrect:
			b.WriteString("fail (signature did not verify; headers probably modified in transit)")
		case DKIMReasonPubkeyTooShort:
			b.WriteString("fail (public key too short: " + strconv.Itoa(r.KeyBits) + " bits)")
		default:
			b.WriteString("fail (unspecified reason)")
		}
	default:
		b.WriteString("permerror")
		fold = false
	}
	if fold {
		b.WriteString("\n\t\t")
	}
	if r.Domain != "" {
		b.WriteString(" header.d=")
		writeDKIMARValue(&b, r.Domain, false)
	}
	if r.Identifier != "" {
		b.WriteString(" header.i=")
		writeDKIMARValue(&b, r.Identifier, true)
	}
	if r.Selector != "" {
		b.WriteString(" header.s=")
		writeDKIMARValue(&b, r.Selector, false)
	}
	b.WriteString(" header.a=")
	if r.Algorithm == "" {
		b.WriteString("err")
	} else {
		writeDKIMARValue(&b, r.Algorithm, false)
	}
	return b.String()
}

// writeDKIMARValue writes a property value (RFC 8601 §2.2 pvalue): as
// is when it is made of letters, digits and "-._+" (and, for an
// identity, one "@" that is not last), otherwise as a quoted-string.
func writeDKIMARValue(b *strings.Builder, s string, identity bool) {
	if plainDKIMARValue(s, identity) {
		b.WriteString(s)
		return
	}
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1, r < 0x20, r == 0x7f:
			b.WriteByte('?')
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}

func plainDKIMARValue(s string, identity bool) bool {
	if s == "" {
		return false
	}
	at := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDKIMAlpha(c), isDKIMDigit(c), c == '-', c == '.', c == '_', c == '+':
		case c == '@' && identity && at < 0:
			at = i
		default:
			return false
		}
	}
	return at < len(s)-1
}
