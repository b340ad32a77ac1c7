package dkim

import "strconv"

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
// The texts are Exim's, with deliberate differences: a key lookup that
// failed (Temporary) gives "temperror (pubkey unavailable)", the RFC
// 8601 word, where Exim misspells it "tmperror"; a key that does not
// exist gives "permerror (pubkey unavailable)", where Exim calls it
// temporary too (RFC 6376 §6.1.2 makes it a PERMFAIL); and an expired
// signature (which Exim never reports, as it does not enforce x=) gives
// "permerror (signature expired)". Exim's "policy (...)" form, for a
// status a DKIM ACL overrode, does not arise here.
//
// d=, i=, s= and a= come from the message. Each is written as is when
// it is a plain token (or local-part@domain for i=), otherwise as an
// RFC 8601 quoted-string that is 7-bit printable: controls, CR, LF,
// DEL, every non-ASCII character (U+0085, U+202E, invalid UTF-8...),
// ";", "(" and ")" become "?", and a value over 384 octets is cut and
// ends in "...". So a signature cannot inject text, a ";" or a new line
// into the header. Lines stay within 998 octets, counting the tab the
// caller writes before the element and the ";" after it: when the
// properties would make a line longer, the element is folded once
// more ("\n\t\t") before the one that does not fit.
func (r Result) ARResult() string {
	w := arWriter{fold: "\n\t\t ", indent: 3, col: 1}
	word := "permerror"
	fold := true
	switch r.Status {
	case StatusPass:
		word, fold = "pass", false
	case StatusNone:
		word, fold = "none", false
	case StatusInvalid:
		switch r.Reason {
		case ReasonPubkeyUnavailable:
			if r.Temporary {
				word = "temperror (pubkey unavailable)"
			} else {
				word = "permerror (pubkey unavailable)"
			}
		case ReasonPubkeyDNSSyntax, ReasonPubkeyDERSyntax:
			word = "neutral (public key record import problem)"
		case ReasonSignatureTag:
			word = "neutral (signature tag missing or invalid)"
		case ReasonVersion:
			word = "neutral (unsupported DKIM version)"
		case ReasonExpired:
			word = "permerror (signature expired)"
		default:
			word = "permerror (unspecified problem)"
		}
	case StatusFail:
		switch r.Reason {
		case ReasonBodyHashMismatch:
			word = "fail (body hash mismatch; body probably modified in transit)"
		case ReasonSignatureIncorrect:
			word = "fail (signature did not verify; headers probably modified in transit)"
		case ReasonPubkeyTooShort:
			word = "fail (public key too short: " + strconv.Itoa(r.KeyBits) + " bits)"
		default:
			word = "fail (unspecified reason)"
		}
	default:
		fold = false
	}
	w.b.WriteString("dkim=" + word)
	w.col += w.b.Len()
	if fold {
		w.b.WriteString("\n\t\t")
		w.col = 2
	}
	w.prop("header.d", r.Domain, false)
	w.prop("header.i", r.Identifier, true)
	w.prop("header.s", r.Selector, false)
	if r.Algorithm == "" {
		w.token("header.a=err")
	} else {
		w.prop("header.a", r.Algorithm, false)
	}
	return w.b.String()
}

// plainARValue reports whether s can be written as a pvalue without
// quotes: letters, digits and "-._+" and, for an identity, one "@" that
// is not last.
func plainARValue(s string, identity bool) bool {
	if s == "" {
		return false
	}
	at := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlpha(c), isDigit(c), c == '-', c == '.', c == '_', c == '+':
		case c == '@' && identity && at < 0:
			at = i
		default:
			return false
		}
	}
	return at < len(s)-1
}
