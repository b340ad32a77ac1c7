package prdr

import (
	"fmt"
	"strings"
)

// Keyword is the EHLO keyword and MAIL parameter of the extension.
const Keyword = "PRDR"

// A Param is one ESMTP parameter of a MAIL or RCPT command. Keyword is
// upper-cased; Value is "" for a parameter without "=".
type Param struct {
	Keyword  string
	Value    string
	HasValue bool
}

// MailParams are the parameters after "MAIL FROM:<addr>".
type MailParams struct {
	PRDR   bool    // the PRDR parameter was given
	Others []Param // the other parameters, in order, for the caller
}

// A ParamError reports a MAIL parameter list that cannot be used; a
// server answers it with 501 (or 555 per RFC 5321 §4.1.1.11 for an
// unrecognised parameter, which this package leaves to the caller).
type ParamError struct {
	Param  string // the offending parameter as given
	Reason string
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("MAIL parameter %q: %s", e.Param, e.Reason)
}

// ParseMailParams parses the ESMTP parameters that follow the reverse
// path of a MAIL command, separated by spaces. Keywords are matched
// without regard to case. PRDR must appear at most once and without a
// value (draft-hall-prdr-00 §4(e)); every parameter must be an
// RFC 5321 esmtp-keyword with an optional non-empty esmtp-value.
//
// A server that does not enable PRDR should not call this for the PRDR
// decision: Exim then ignores the parameter silently (see the package
// documentation).
func ParseMailParams(s string) (MailParams, error) {
	var mp MailParams
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' }) {
		kw, val, hasVal := strings.Cut(f, "=")
		if !validKeyword(kw) {
			return MailParams{}, &ParamError{Param: f, Reason: "invalid keyword"}
		}
		if hasVal && !validValue(val) {
			return MailParams{}, &ParamError{Param: f, Reason: "invalid value"}
		}
		kw = strings.ToUpper(kw)
		if kw == Keyword {
			if hasVal {
				return MailParams{}, &ParamError{Param: f, Reason: "PRDR takes no value"}
			}
			if mp.PRDR {
				return MailParams{}, &ParamError{Param: f, Reason: "PRDR given twice"}
			}
			mp.PRDR = true
			continue
		}
		mp.Others = append(mp.Others, Param{Keyword: kw, Value: val, HasValue: hasVal})
	}
	return mp, nil
}

// validKeyword: esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-").
func validKeyword(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '-') {
			return false
		}
	}
	return true
}

// validValue: esmtp-value = 1*(%d33-60 / %d62-126), or UTF-8 beyond
// ASCII (RFC 6531).
func validValue(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 33 || c == '=' || c == 127 {
			return false
		}
	}
	return true
}

// Offered reports whether the lines of an EHLO reply (Reply.Text, the
// first being the greeting) contain the PRDR keyword with no
// parameters, as Exim's client requires.
func Offered(ehlo Reply) bool {
	return hasKeyword(ehlo, Keyword)
}

func hasKeyword(ehlo Reply, kw string) bool {
	if ehlo.Class() != 2 {
		return false
	}
	for i, l := range ehlo.Text {
		if i == 0 {
			continue
		}
		if strings.EqualFold(strings.TrimRight(l, " \t"), kw) {
			return true
		}
	}
	return false
}

// MailSuffix returns " PRDR" when the parameter is to be added to the
// MAIL command: the server offered PRDR and the transaction has at
// least two recipients (Exim sends it only then). Otherwise it is "".
func MailSuffix(offered bool, recipients int) string {
	if offered && recipients >= 2 {
		return " " + Keyword
	}
	return ""
}
