package dsninfo

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrUTF8Addr is wrapped by the errors of DecodeUTF8Addr.
var ErrUTF8Addr = errors.New("dsninfo: invalid utf-8-addr-xtext")

// Address returns the Typed value a DSN carries for addr: rfc822 for
// an ASCII address, and for an internationalised one (SMTPUTF8, RFC
// 6531) the utf-8 address type of RFC 6533 §3 in its 7-bit form,
// utf-8-addr-xtext, so that it survives Compose, which writes a 7-bit
// message/delivery-status part ("utf-8;b\x{F8}b@example.org").
func Address(addr string) Typed {
	for i := 0; i < len(addr); i++ {
		if addr[i] >= 0x80 {
			return Typed{Type: "utf-8", Value: EncodeUTF8Addr(addr)}
		}
	}
	return Rfc822(addr)
}

// Addr returns the address t holds: Value, decoded from the
// utf-8-addr-xtext or utf-8-addr-unitext form for the utf-8 type (RFC
// 6533 §3); Value as it is when that does not decode.
func (t Typed) Addr() string {
	if t.Type != "utf-8" {
		return t.Value
	}
	a, err := DecodeUTF8Addr(t.Value)
	if err != nil {
		return t.Value
	}
	return a
}

// EncodeUTF8Addr writes s in RFC 6533's utf-8-addr-xtext form: every
// printable ASCII character but '\', '+' and '=' as it is, anything
// else (space, controls, those three, every non-ASCII character) as
// "\x{HEX}", upper-case hex of the code point, two digits at least.
// Invalid UTF-8 bytes are written as U+FFFD.
func EncodeUTF8Addr(s string) string {
	var b strings.Builder
	for _, r := range s {
		if qchar(r) {
			b.WriteRune(r)
			continue
		}
		h := strings.ToUpper(strconv.FormatInt(int64(r), 16))
		if len(h) < 2 {
			h = "0" + h
		}
		b.WriteString(`\x{` + h + "}")
	}
	return b.String()
}

// DecodeUTF8Addr reads the utf-8-addr-xtext or utf-8-addr-unitext form
// (RFC 6533 §3): QCHARs, UTF-8 beyond ASCII, and "\x{HEX}" with one to
// six hex digits naming a Unicode scalar value other than NUL. Errors
// wrap ErrUTF8Addr.
func DecodeUTF8Addr(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrUTF8Addr)
	}
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: not UTF-8", ErrUTF8Addr)
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\\':
			rest, ok := strings.CutPrefix(s[i:], `\x{`)
			end := strings.IndexByte(rest, '}')
			if !ok || end < 1 || end > 6 {
				return "", fmt.Errorf("%w: %q at %d is not \\x{HEX}", ErrUTF8Addr, '\\', i)
			}
			v, err := strconv.ParseUint(rest[:end], 16, 32)
			if err != nil || v == 0 || v > utf8.MaxRune || v >= 0xD800 && v <= 0xDFFF {
				return "", fmt.Errorf("%w: \\x{%s} is not a Unicode scalar value", ErrUTF8Addr, rest[:end])
			}
			b.WriteRune(rune(v))
			i += len(`\x{`) + end + 1
			continue
		case r < 0x80 && !qchar(r):
			return "", fmt.Errorf("%w: %q at %d must be written \\x{HEX}", ErrUTF8Addr, r, i)
		}
		b.WriteRune(r)
		i += n
	}
	return b.String(), nil
}

// qchar: printable ASCII except SP, '\', '+' and '=' (RFC 6533 §3).
func qchar(r rune) bool {
	return r > ' ' && r <= '~' && r != '\\' && r != '+' && r != '='
}
