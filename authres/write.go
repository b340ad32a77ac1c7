package authres

import "unicode/utf8"

const (
	// foldCol is where a line is folded: RFC 5322 §2.1.1's 78 octets.
	foldCol = 78
	// valueMax bounds a value as written, quotes included. The longest
	// value a mail identity needs is an i= of 64 + 1 + 253 octets; a
	// longer one is hostile, and cutting it keeps every token far
	// shorter than the 998-octet line limit.
	valueMax = 384
	// commentMax bounds a comment as written, parentheses included.
	commentMax = 256
	// nameMax bounds a method name, result word or property name.
	nameMax = 64
)

// writer builds the header a token at a time. Every token is bounded
// (valueMax, commentMax, nameMax), so a line that starts with a fold
// and holds one token is always far below 998 octets: folding before a
// token that would pass foldCol is enough to keep the hard limit too.
type writer struct {
	b   []byte
	col int // octets on the current line
}

// token writes " "+t, or a fold and t when the line would pass foldCol.
// The ";" that may follow t is counted.
func (w *writer) token(t string) {
	if w.col+1+len(t)+1 > foldCol && w.col > 2 {
		w.b = append(w.b, "\r\n\t\t"...)
		w.col = 2
	} else {
		w.b = append(w.b, ' ')
		w.col++
	}
	w.b = append(w.b, t...)
	w.col += len(t)
}

// method writes ";", a new line and the method; false if m has no name.
func (w *writer) method(m *Method) bool {
	name := tokenText(m.Name)
	if name == "" {
		return false
	}
	res := tokenText(m.Result)
	if res == "" {
		res = "none"
	}
	w.b = append(w.b, ";\r\n\t"...)
	w.b = append(w.b, name...)
	w.b = append(w.b, '=')
	w.b = append(w.b, res...)
	w.col = 1 + len(name) + 1 + len(res)
	if m.Comment != "" {
		w.comment(m.Comment)
	}
	if m.Reason != "" {
		w.token("reason=" + value(m.Reason, false))
	}
	for _, p := range m.Props {
		if p.Value == "" {
			continue
		}
		n := tokenText(p.Property)
		if t := tokenText(p.Type); t != "" {
			n = t + "." + n
		}
		w.token(n + "=" + value(p.Value, true))
	}
	return true
}

// comment writes "(c)" with c sanitised so that it stays one comment on
// the header's lines and cannot look like more results to a careless
// parser: controls (CR, LF, TAB...), DEL and every non-ASCII character
// become "?", ";" becomes ",", "(", ")", "\" and '"' are escaped as
// quoted-pairs, runs of spaces become one, and the text is cut at
// commentMax. It is folded at its spaces like the other tokens.
func (w *writer) comment(c string) {
	var buf [commentMax]byte
	b := append(buf[:0], '(')
	space := true // drop leading spaces
	for i := 0; i < len(c); {
		r, size := utf8.DecodeRuneInString(c[i:])
		i += size
		var enc [2]byte
		e := enc[:0]
		switch {
		case r == ' ':
			if space {
				continue
			}
			e = append(e, ' ')
		case r == '(' || r == ')' || r == '\\' || r == '"':
			e = append(e, '\\', byte(r))
		case r == ';':
			e = append(e, ',')
		case r < 0x20 || r >= 0x7f:
			e = append(e, '?')
		default:
			e = append(e, byte(r))
		}
		if len(b)+len(e)+1 > commentMax {
			break
		}
		b = append(b, e...)
		space = r == ' '
	}
	for len(b) > 1 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	if len(b) == 1 {
		return // nothing left to say
	}
	b = append(b, ')')
	// One token per word, so the comment folds at its spaces.
	start := 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == ' ' {
			w.token(string(b[start:i]))
			start = i + 1
		}
	}
}

// tokenText keeps the letters, digits, "-", "_" and "." of s (a method,
// result or property name), at most nameMax of them.
func tokenText(s string) string {
	ok := len(s) <= nameMax
	for i := 0; ok && i < len(s); i++ {
		ok = isTokenChar(s[i])
	}
	if ok {
		return s
	}
	b := make([]byte, 0, min(len(s), nameMax))
	for i := 0; i < len(s) && len(b) < nameMax; i++ {
		if isTokenChar(s[i]) {
			b = append(b, s[i])
		}
	}
	return string(b)
}

func isTokenChar(c byte) bool {
	return c|0x20 >= 'a' && c|0x20 <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
}

// value renders text as an RFC 8601 value (or pvalue, when identity
// allows one "@") that is 7-bit printable, one token, and cannot end the
// result or add one. It is written as is when made of letters, digits
// and "-._+" (and, for an identity, one "@" that is not last), otherwise
// as an RFC 2045 quoted-string in which '"' and '\' are escaped and
// every other octet outside printable ASCII becomes "?": controls, DEL,
// each UTF-8 character (valid or not: RFC 8601 allows UTF-8 only with
// RFC 6532, and U+0085 or U+202E would reach a reader's screen) and
// also ";", "(" and ")", which careless parsers split on even inside
// quotes. A value over valueMax is cut and ends in "...", inside the
// quotes, so it is never taken for a whole domain.
func value(s string, identity bool) string {
	if len(s) <= valueMax && plainValue(s, identity) {
		return s
	}
	b := make([]byte, 0, min(len(s)+8, valueMax))
	b = append(b, '"')
	cut := 1 // len(b) at the last character boundary that leaves room for `..."`
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20 || r >= 0x7f || r == ';' || r == '(' || r == ')':
			b = append(b, '?')
		default:
			b = append(b, byte(r))
		}
		if len(b) <= valueMax-len(`..."`) {
			cut = len(b)
		}
		if len(b)+1 > valueMax {
			break // the closing quote no longer fits: it will be cut
		}
	}
	if len(b)+1 > valueMax {
		return string(b[:cut]) + `..."`
	}
	b = append(b, '"')
	return string(b)
}

// plainValue reports whether s can be written without quotes: letters,
// digits and "-._+" and, for an identity, one "@" that is not last.
func plainValue(s string, identity bool) bool {
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
