package dmarc

import (
	"os"
	"strings"
	"unicode/utf8"

	"github.com/mailpolicy/mailpolicy/dkim"
)

// authResults builds the Authentication-Results header with the spf,
// dkim (one per signature) and dmarc results, in Exim's method order,
// on one line unless a line would pass 998 octets; it is then folded
// ("\n\t") between results or properties. Every value from the message,
// the envelope or the configuration goes through arValue.
func authResults(c *config, in *Input, o *Outcome) string {
	id := c.authservID
	if id == "" {
		id, _ = os.Hostname()
	}
	w := arWriter{fold: "\n\t", indent: 1}
	w.b.WriteString("Authentication-Results:")
	w.col = w.b.Len()
	w.token(arValue(id, false))

	w.result("spf=" + in.SPF.String())
	if in.MailFrom != "" {
		domain := in.MailFrom
		if i := strings.LastIndexByte(domain, '@'); i >= 0 {
			domain = domain[i+1:]
		}
		w.prop("smtp.mailfrom", domain, false)
	} else {
		w.prop("smtp.helo", in.HELO, false)
	}
	if len(in.DKIM) == 0 {
		w.result("dkim=none")
	}
	for _, d := range in.DKIM {
		w.result("dkim=" + dkimARWord(d))
		w.prop("header.a", d.Algorithm, false)
		w.prop("header.d", d.Domain, false)
		w.prop("header.i", d.Identifier, true)
		w.prop("header.s", d.Selector, false)
	}
	w.result("dmarc=" + o.Status.ARWord())
	w.prop("header.from", o.FromDomain, false)
	return w.b.String()
}

// dkimARWord maps Exim's verify status to an RFC 8601 dkim result.
func dkimARWord(d dkim.Result) string {
	switch d.Status {
	case dkim.StatusPass:
		return "pass"
	case dkim.StatusFail:
		return "fail"
	case dkim.StatusInvalid:
		if d.Temporary {
			return "temperror"
		}
		return "permerror"
	}
	return "none"
}

// arLineMax is the longest line an arWriter lets a token end: RFC 5322
// §2.1.1's 998 octets, less one for the ";" that may follow.
const arLineMax = 998 - 1

// arValueMax bounds a property value as written, quotes included. The
// longest value DKIM allows is an i= of 64 + 1 + 253 octets; a longer
// one is hostile, and cutting it keeps every token shorter than a line.
const arValueMax = 384

// arWriter builds Authentication-Results text a token at a time,
// folding before a token that would make the line too long. Tokens are
// bounded (arValueMax), so one always fits on a new line.
type arWriter struct {
	b      strings.Builder
	col    int    // octets on the current line, including what the caller writes before
	fold   string // replaces the space before a token that does not fit
	indent int    // octets a line starts with after fold
}

// token writes " "+t, or fold+t when the line would get too long.
func (w *arWriter) token(t string) {
	if w.col+1+len(t) > arLineMax {
		w.b.WriteString(w.fold)
		w.col = w.indent
	} else {
		w.b.WriteByte(' ')
		w.col++
	}
	w.b.WriteString(t)
	w.col += len(t)
}

// result ends the previous result or the authserv-id with ";" and
// starts the next.
func (w *arWriter) result(methodValue string) {
	w.b.WriteByte(';')
	w.col++
	w.token(methodValue)
}

// prop writes name=value, unless value is empty.
func (w *arWriter) prop(name, value string, identity bool) {
	if value != "" {
		w.token(name + "=" + arValue(value, identity))
	}
}

// arValue renders remote-controlled text as an RFC 8601 value or pvalue
// that is 7-bit printable, one token, and cannot end the result or add
// one. It is written as is when made of letters, digits and "-._+" (and,
// for an identity, one "@" that is not last), otherwise as a
// quoted-string in which '"' and '\' are escaped and every other octet
// outside printable ASCII becomes "?": controls, DEL, each UTF-8
// character (valid or not, RFC 8601 allows UTF-8 only with RFC 6532,
// and U+0085 or U+202E would reach a reader's screen) and also ";", "("
// and ")", which careless parsers split on even inside quotes. A value
// over arValueMax is cut and ends in "...", inside the quotes, so it is
// never taken for a whole domain.
func arValue(s string, identity bool) string {
	if len(s) <= arValueMax && plainARValue(s, identity) {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	cut := 1 // b's length at the last character boundary that leaves room for `..."`
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteByte(byte(r))
		case r < 0x20 || r >= 0x7f || r == ';' || r == '(' || r == ')':
			b.WriteByte('?')
		default:
			b.WriteByte(byte(r))
		}
		if b.Len() <= arValueMax-len(`..."`) {
			cut = b.Len()
		}
		if b.Len()+1 > arValueMax {
			break // the closing quote no longer fits: it will be cut
		}
	}
	if b.Len()+1 > arValueMax {
		return b.String()[:cut] + `..."`
	}
	b.WriteByte('"')
	return b.String()
}

// clean replaces control characters and the characters that would end
// a header value's token or comment, so remote text stays one value.
// Variables uses it; the Authentication-Results header has arValue.
func clean(s string) string {
	if strings.IndexFunc(s, func(r rune) bool {
		return r < 0x20 || r == 0x7f || r == ';' || r == '(' || r == ')' || r == '"' || r == '\\'
	}) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == ';' || r == '(' || r == ')' || r == '"' || r == '\\' {
			return '?'
		}
		return r
	}, s)
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
		case c|0x20 >= 'a' && c|0x20 <= 'z', c >= '0' && c <= '9', c == '-', c == '.', c == '_', c == '+':
		case c == '@' && identity && at < 0:
			at = i
		default:
			return false
		}
	}
	return at < len(s)-1
}
