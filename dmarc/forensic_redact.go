package dmarc

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"io"
	"strings"
)

// forensicRedactor replaces local parts with keyed tokens and defangs
// links in the copied header section (WithForensicRedaction).
type forensicRedactor struct {
	key    []byte
	tokens map[string]string
}

func newForensicRedactor(key []byte, rnd io.Reader) (*forensicRedactor, error) {
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := io.ReadFull(rnd, key); err != nil {
			return nil, err
		}
	}
	return &forensicRedactor{key: key, tokens: map[string]string{}}, nil
}

var forensicTokenEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// token is the 8-letter stand-in for a local part: the start of its
// HMAC under the key, so equal local parts give equal tokens (the RFC
// 9991 example replaces "users" with "lRLxexey" throughout the entity).
func (r *forensicRedactor) token(local string) string {
	if t, ok := r.tokens[local]; ok {
		return t
	}
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(local))
	t := forensicTokenEncoding.EncodeToString(m.Sum(nil))[:8]
	r.tokens[local] = t
	return t
}

// forensicIDFields hold message ids, which have the form of addresses
// but no personal data, and which a report consumer matches.
var forensicIDFields = map[string]bool{
	"message-id": true, "references": true, "in-reply-to": true, "content-id": true, "resent-message-id": true,
}

// headers returns the section's lines redacted; lines of id fields stay.
func (r *forensicRedactor) headers(lines []string, fields []forensicHdrField) []string {
	keep := make([]bool, len(lines))
	for _, f := range fields {
		if forensicIDFields[strings.ToLower(f.name)] {
			for i := f.first; i < f.end; i++ {
				keep[i] = true
			}
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		if keep[i] {
			out[i] = l
		} else {
			out[i] = r.line(l)
		}
	}
	return out
}

// address redacts a bare local@domain (Original-Mail-From).
func (r *forensicRedactor) address(a string) string {
	at := strings.LastIndexByte(a, '@')
	if at <= 0 {
		return a
	}
	return r.token(a[:at]) + a[at:]
}

// line replaces the local part before every "@" that is followed by a
// domain, and turns http: and https: into hxxp: and hxxps:.
func (r *forensicRedactor) line(l string) string {
	if !strings.Contains(l, "@") && !strings.Contains(strings.ToLower(l), "http") {
		return l
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(l); i++ {
		if l[i] != '@' || i+1 >= len(l) || !forensicDomainStart(l[i+1]) {
			continue
		}
		start := i
		if i > 0 && l[i-1] == '"' {
			// A quoted local part: back to its opening quote.
			if q := strings.LastIndexByte(l[last:i-1], '"'); q >= 0 {
				start = last + q
			}
		} else {
			for start > last && forensicLocalByte(l[start-1]) {
				start--
			}
			// "i=user@", "smtp.mailfrom=user@", "SRS0=...=user@": a
			// tag or property name before "=" is kept.
			if j := strings.IndexByte(l[start:i], '='); j > 0 && forensicTagName(l[start:start+j]) {
				start += j + 1
			}
		}
		if start == i {
			continue
		}
		b.WriteString(l[last:start])
		b.WriteString(r.token(l[start:i]))
		last = i
	}
	b.WriteString(l[last:])
	return forensicDefang(b.String())
}

func forensicTagName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !forensicAlnum(c) && c != '.' && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func forensicDomainStart(c byte) bool { return forensicAlnum(c) || c == '[' || c >= 0x80 }

// forensicLocalByte is an atext byte, a dot, or part of a UTF-8 local
// part (RFC 6532).
func forensicLocalByte(c byte) bool {
	return forensicAlnum(c) || c == '.' || c >= 0x80 || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// forensicDefang turns "http:" and "https:" (any case) into "hxxp:" and
// "hxxps:", as RFC 9991 §7.3 suggests.
func forensicDefang(s string) string {
	lower := strings.ToLower(s)
	if !strings.Contains(lower, "http") {
		return s
	}
	b := []byte(s)
	for i := 0; i+5 <= len(b); i++ {
		if lower[i:i+4] != "http" {
			continue
		}
		if lower[i+4] == ':' || i+6 <= len(b) && lower[i+4] == 's' && lower[i+5] == ':' {
			b[i+1], b[i+2] = 'x', 'x'
		}
	}
	return string(b)
}
