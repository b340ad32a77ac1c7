package smtp

import (
	"strconv"
	"strings"
)

// An Extension is one service extension from an EHLO reply (RFC 5321
// §4.1.1.1): "SIZE 52428800" is Keyword "SIZE", Params "52428800".
type Extension struct {
	Keyword string // upper case
	Params  string // the rest of the line, white space around it removed
}

// Extensions are the service extensions a server listed in its EHLO
// reply, in order. The zero value lists none (a HELO session).
//
// One rule is used for every keyword: the keyword is the first word of
// a reply line after the greeting line, matched without regard to case,
// and whatever follows it is its parameters. A line whose first word is
// not an RFC 5321 ehlo-keyword is ignored.
type Extensions []Extension

// ParseEHLO returns the extensions listed in an EHLO reply: the lines
// after the first (the greeting). A reply that is not 2xx lists none.
func ParseEHLO(r Reply) Extensions {
	if r.Class() != 2 || len(r.Text) < 2 {
		return nil
	}
	ext := make(Extensions, 0, len(r.Text)-1)
	for _, l := range r.Text[1:] {
		l = strings.Trim(l, " \t")
		kw, params, _ := strings.Cut(l, " ")
		if i := strings.IndexByte(kw, '\t'); i >= 0 {
			kw, params = kw[:i], l[i+1:]
		}
		if !validKeyword(kw) {
			continue
		}
		ext = append(ext, Extension{Keyword: strings.ToUpper(kw), Params: strings.Trim(params, " \t")})
	}
	return ext
}

// Has reports whether the keyword is listed, whatever its parameters.
func (e Extensions) Has(keyword string) bool {
	_, ok := e.Param(keyword)
	return ok
}

// Param returns the parameters of the keyword ("" for none) and
// whether it is listed at all. With a keyword listed twice the first
// counts.
func (e Extensions) Param(keyword string) (string, bool) {
	for _, x := range e {
		if strings.EqualFold(x.Keyword, keyword) {
			return x.Params, true
		}
	}
	return "", false
}

// Size returns the SIZE extension's limit (RFC 1870): ok is false when
// SIZE is not listed; max is 0 when the server declared no limit (SIZE
// without a number, or "SIZE 0"), and also for a value that is not a
// number.
func (e Extensions) Size() (max int64, ok bool) {
	p, ok := e.Param("SIZE")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(p, 10, 64)
	if err != nil || n < 0 {
		return 0, true
	}
	return n, true
}

// Keywords returns the listed keywords, in order.
func (e Extensions) Keywords() []string {
	out := make([]string, len(e))
	for i, x := range e {
		out[i] = x.Keyword
	}
	return out
}

// validKeyword: esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
// (RFC 5321 §4.1.2), the same syntax as an ehlo-keyword.
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
