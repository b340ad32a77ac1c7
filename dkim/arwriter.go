package dkim

import (
	"strings"
	"unicode/utf8"
)

// The Authentication-Results writer below is dmarc's (dmarc/ar.go),
// which writes the whole header; ARResult needs it for one element.

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
