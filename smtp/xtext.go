package smtp

import (
	"errors"
	"strings"
)

// ErrXtext is returned by DecodeXtext for text that is not xtext.
var ErrXtext = errors.New("smtp: malformed xtext")

// DecodeXtext decodes RFC 3461 §4 xtext, the encoding of the ENVID,
// ORCPT and AUTH parameters: characters "!" to "~" stand for themselves
// except "+" and "=", and "+XX" (two hexadecimal digits, upper case
// per the RFC, lower case accepted) stands for the octet XX.
func DecodeXtext(s string) (string, error) {
	if strings.IndexByte(s, '+') < 0 {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < '!' || c > '~' || c == '=' {
				return "", ErrXtext
			}
		}
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			if i+2 >= len(s) {
				return "", ErrXtext
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", ErrXtext
			}
			b = append(b, hi<<4|lo)
			i += 2
		case c < '!' || c > '~' || c == '=':
			return "", ErrXtext
		default:
			b = append(b, c)
		}
	}
	return string(b), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// EncodeXtext encodes s as RFC 3461 xtext: "+", "=", controls, space
// and octets beyond ASCII become "+XX".
func EncodeXtext(s string) string {
	const hex = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < '!' || c > '~' || c == '+' || c == '=' {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '!' || c > '~' || c == '+' || c == '=' {
			b = append(b, '+', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, c)
	}
	return string(b)
}
