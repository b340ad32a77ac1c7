package smtp

import (
	"errors"
	"strconv"
)

// An EnhancedCode is an RFC 3463 enhanced mail system status code,
// class.subject.detail, such as 5.7.1. The zero value means none.
type EnhancedCode struct {
	Class   int // 2 success, 4 persistent transient failure, 5 permanent failure
	Subject int // 0-999
	Detail  int // 0-999
}

// ErrEnhancedCode is returned by ParseEnhancedCode for text that is not
// an enhanced status code.
var ErrEnhancedCode = errors.New("smtp: malformed enhanced status code")

// ParseEnhancedCode parses "class.subject.detail": a class of 2, 4 or 5
// and subject and detail of one to three digits (RFC 3463 §2).
func ParseEnhancedCode(s string) (EnhancedCode, error) {
	if len(s) < 5 || len(s) > 9 || s[1] != '.' || (s[0] != '2' && s[0] != '4' && s[0] != '5') {
		return EnhancedCode{}, ErrEnhancedCode
	}
	e := EnhancedCode{Class: int(s[0] - '0')}
	rest := s[2:]
	var ok bool
	if e.Subject, rest, ok = number(rest); !ok || rest == "" || rest[0] != '.' {
		return EnhancedCode{}, ErrEnhancedCode
	}
	if e.Detail, rest, ok = number(rest[1:]); !ok || rest != "" {
		return EnhancedCode{}, ErrEnhancedCode
	}
	return e, nil
}

// number reads one to three digits from the start of s.
func number(s string) (int, string, bool) {
	n, i := 0, 0
	for ; i < len(s) && i < 4 && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
	}
	if i == 0 || i > 3 {
		return 0, s, false
	}
	return n, s[i:], true
}

// IsZero reports whether e is the zero value (no code).
func (e EnhancedCode) IsZero() bool { return e == EnhancedCode{} }

// Valid reports whether e can be sent: class 2, 4 or 5, subject and
// detail from 0 to 999.
func (e EnhancedCode) Valid() bool {
	return (e.Class == 2 || e.Class == 4 || e.Class == 5) &&
		e.Subject >= 0 && e.Subject <= 999 && e.Detail >= 0 && e.Detail <= 999
}

// String returns "class.subject.detail", or "" for a code that is not
// Valid (the zero value included).
func (e EnhancedCode) String() string {
	if !e.Valid() {
		return ""
	}
	b := make([]byte, 0, 9)
	b = strconv.AppendInt(b, int64(e.Class), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(e.Subject), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(e.Detail), 10)
	return string(b)
}
