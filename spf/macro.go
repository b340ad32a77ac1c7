package spf

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

var errBadMacro = errors.New("spf: invalid macro")

// checkMacroString validates a macro-string (RFC 7208 §7.1). exp allows
// the explanation-only letters c, r and t, and spaces.
func checkMacroString(s string, exp bool) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			if (c < 0x21 || c > 0x7e) && !(exp && c == ' ') {
				return errBadMacro
			}
			continue
		}
		i++
		if i >= len(s) {
			return errBadMacro
		}
		switch s[i] {
		case '%', '_', '-':
			continue
		case '{':
		default:
			return errBadMacro
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return errBadMacro
		}
		if _, _, _, _, ok := parseMacroBody(s[i+1:i+end], exp); !ok {
			return errBadMacro
		}
		i += end
	}
	return nil
}

// parseMacroBody parses "letter digits [r] delimiters" (the text between
// "%{" and "}").
func parseMacroBody(b string, exp bool) (letter byte, keep int, reverse bool, delims string, ok bool) {
	if b == "" {
		return 0, 0, false, "", false
	}
	letter = b[0]
	switch letter | 0x20 {
	case 's', 'l', 'o', 'd', 'i', 'p', 'h', 'v':
	case 'c', 'r', 't':
		if !exp {
			return 0, 0, false, "", false
		}
	default:
		return 0, 0, false, "", false
	}
	i := 1
	if i < len(b) && isDigit(b[i]) {
		if b[i] == '0' {
			return 0, 0, false, "", false // "the value MUST be nonzero"
		}
		for ; i < len(b) && isDigit(b[i]); i++ {
			if keep < 1000 {
				keep = keep*10 + int(b[i]-'0')
			}
		}
	}
	if i < len(b) && (b[i]|0x20) == 'r' {
		reverse = true
		i++
	}
	delims = b[i:]
	for j := 0; j < len(delims); j++ {
		switch delims[j] {
		case '.', '-', '+', ',', '/', '_', '=':
		default:
			return 0, 0, false, "", false
		}
	}
	return letter, keep, reverse, delims, true
}

// expand expands a validated macro-string for current domain d.
func (e *evaluator) expand(ctx context.Context, s, d string, exp bool) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		return s, nil
	}
	buf := e.buf[:0]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			buf = append(buf, c)
			continue
		}
		i++
		if i >= len(s) {
			return "", errBadMacro
		}
		switch s[i] {
		case '%':
			buf = append(buf, '%')
			continue
		case '_':
			buf = append(buf, ' ')
			continue
		case '-':
			buf = append(buf, "%20"...)
			continue
		case '{':
		default:
			return "", errBadMacro
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", errBadMacro
		}
		letter, keep, rev, delims, ok := parseMacroBody(s[i+1:i+end], exp)
		if !ok {
			return "", errBadMacro
		}
		i += end
		val := e.macroValue(ctx, letter|0x20, d)
		start := len(buf)
		buf = appendTransformed(buf, val, keep, rev, delims)
		if letter < 'a' {
			// An uppercase letter asks for URL escaping (§7.3).
			esc := urlEscape(e.buf2[:0], buf[start:])
			buf = append(buf[:start], esc...)
			e.buf2 = esc
		}
	}
	e.buf = buf
	return string(buf), nil
}

func (e *evaluator) macroValue(ctx context.Context, letter byte, d string) string {
	switch letter {
	case 's':
		return e.sender
	case 'l':
		return e.local
	case 'o':
		return e.senderDomain
	case 'd':
		return d
	case 'i':
		return e.ipDotted()
	case 'p':
		return e.validatedName(ctx, d)
	case 'v':
		if e.ip.Is4() {
			return "in-addr"
		}
		return "ip6"
	case 'h':
		return e.helo
	case 'c':
		return e.ipText()
	case 'r':
		if e.cfg.receiver != "" {
			return e.cfg.receiver
		}
		return "unknown"
	case 't':
		return strconv.FormatInt(e.cfg.now().Unix(), 10)
	}
	return ""
}

// appendTransformed splits val on delims (default "."), optionally
// reverses, keeps the rightmost keep parts (0 = all) and joins with ".".
func appendTransformed(buf []byte, val string, keep int, rev bool, delims string) []byte {
	if keep == 0 && !rev && (delims == "" || delims == ".") {
		return append(buf, val...)
	}
	if delims == "" {
		delims = "."
	}
	isDelim := func(c byte) bool { return strings.IndexByte(delims, c) >= 0 }
	n := 1
	for i := 0; i < len(val); i++ {
		if isDelim(val[i]) {
			n++
		}
	}
	// Parts are addressed by index so no slice of parts is needed.
	part := func(k int) string {
		start := 0
		for i := 0; i < len(val); i++ {
			if isDelim(val[i]) {
				if k == 0 {
					return val[start:i]
				}
				k--
				start = i + 1
			}
		}
		return val[start:]
	}
	first := 0
	if keep > 0 && keep < n {
		first = n - keep
	}
	// Output order: parts first..n-1, or reversed order then the
	// rightmost keep of those.
	for j := first; j < n; j++ {
		k := j
		if rev {
			k = n - 1 - j
		}
		if j > first {
			buf = append(buf, '.')
		}
		buf = append(buf, part(k)...)
	}
	return buf
}

// urlEscape escapes everything but RFC 3986 unreserved characters.
func urlEscape(dst, src []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, c := range src {
		if isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', hex[c>>4], hex[c&15])
	}
	return dst
}

// ipDotted is %{i}: dotted quad, or 32 dot-separated nibbles for IPv6.
func (e *evaluator) ipDotted() string {
	if e.ipDot != "" {
		return e.ipDot
	}
	if e.ip.Is4() {
		e.ipDot = e.ipText()
		return e.ipDot
	}
	const hex = "0123456789abcdef"
	a := e.ip.As16()
	b := make([]byte, 0, 63)
	for i, x := range a {
		if i > 0 {
			b = append(b, '.')
		}
		b = append(b, hex[x>>4], '.', hex[x&15])
	}
	e.ipDot = string(b)
	return e.ipDot
}

// ipText is the client address in its usual text form, made once.
func (e *evaluator) ipText() string {
	if e.ipStr == "" && e.ip.IsValid() {
		e.ipStr = e.ip.String()
	}
	return e.ipStr
}
