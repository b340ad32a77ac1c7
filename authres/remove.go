package authres

import (
	"bytes"
	"strings"

	msgauth "github.com/emersion/go-msgauth/authres"
)

// Claims reports whether the Authentication-Results field body value
// (what follows the colon, folded or not) claims authservID, comparing
// case-insensitively and ignoring one final ".". RFC 8601 §5 has a
// receiver remove such fields arriving from outside, since only it may
// write them.
//
// The authserv-id is read twice, by go-msgauth's Parse and by this
// package's own reading of RFC 8601's grammar (CFWS, comments, a
// quoted-string id, a version); either one matching is a claim. A value
// whose id this package cannot read unambiguously (followed by nothing,
// a version or ";") but whose text starts with
// authservID (after white space and comments) is a claim too: a field
// must not survive removal by being malformed.
func Claims(value, authservID string) bool {
	id := trimDot(strings.TrimSpace(authservID))
	if id == "" {
		return false
	}
	v := unfold(value)
	ident, _, err := msgauth.Parse(v)
	if err == nil && strings.EqualFold(trimDot(ident), id) {
		return true
	}
	own, rest, ok := readID(v)
	if ok && strings.EqualFold(trimDot(own), id) {
		return true
	}
	if ok && wellFormedAfterID(rest) {
		return false
	}
	// Malformed: fail closed on a prefix match.
	s := skipCFWS(v)
	s = strings.TrimPrefix(s, `"`)
	return len(s) >= len(id) && strings.EqualFold(s[:len(id)], id)
}

// RemoveOwn removes from a message's header section every
// Authentication-Results field that Claims authservID, and returns the
// result and the number of fields removed. header may be the header
// section alone or the whole message: everything from the empty line
// that ends the header on is kept as it is, and so is every other
// field, byte for byte, with its own line ends (CRLF or LF). When
// nothing is removed the result is header itself.
func RemoveOwn(header []byte, authservID string) ([]byte, int) {
	var out []byte
	removed := 0
	kept := 0 // header[:kept] is in out (or, while out is nil, unchanged)
	for i := 0; i < len(header); {
		if header[i] == '\n' || header[i] == '\r' && i+1 < len(header) && header[i+1] == '\n' {
			break // the empty line: the body follows
		}
		// The field: its first line and every continuation line.
		end := i
		for {
			nl := bytes.IndexByte(header[end:], '\n')
			if nl < 0 {
				end = len(header)
				break
			}
			end += nl + 1
			if end >= len(header) || header[end] != ' ' && header[end] != '\t' {
				break
			}
		}
		field := header[i:end]
		if isAR(field) && Claims(string(field[bytes.IndexByte(field, ':')+1:]), authservID) {
			if out == nil {
				out = make([]byte, 0, len(header))
			}
			out = append(out, header[kept:i]...)
			kept = end
			removed++
		}
		i = end
	}
	if removed == 0 {
		return header, 0
	}
	return append(out, header[kept:]...), removed
}

// isAR reports whether a field is named Authentication-Results, with
// white space before the colon allowed (RFC 5322 obs-optional).
func isAR(field []byte) bool {
	c := bytes.IndexByte(field, ':')
	if c < 0 {
		return false
	}
	name := bytes.TrimRight(field[:c], " \t")
	return bytes.EqualFold(name, []byte(FieldName))
}

func unfold(s string) string {
	if strings.IndexAny(s, "\r\n") < 0 {
		return s
	}
	return strings.NewReplacer("\r\n", "", "\n", "", "\r", "").Replace(s)
}

func trimDot(s string) string {
	if s == "." {
		return s // an id of only the root must still match itself
	}
	return strings.TrimSuffix(s, ".")
}

// skipCFWS skips white space and (nested, quoted-pair escaped) comments.
func skipCFWS(s string) string {
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if !strings.HasPrefix(s, "(") {
			return s
		}
		depth := 0
		i := 0
		for ; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++
			case '(':
				depth++
			case ')':
				depth--
			}
			if depth == 0 {
				break
			}
		}
		if i >= len(s) {
			return "" // unterminated comment
		}
		s = s[i+1:]
	}
}

// readID reads the authserv-id: [CFWS] (token / quoted-string), and
// returns it and what follows; ok is false when there is none.
func readID(s string) (id, rest string, ok bool) {
	s = skipCFWS(s)
	if s == "" {
		return "", "", false
	}
	if s[0] == '"' {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				if i+1 < len(s) {
					i++
					b.WriteByte(s[i])
				}
			case '"':
				return b.String(), s[i+1:], true
			default:
				b.WriteByte(s[i])
			}
		}
		return "", "", false
	}
	i := 0
	for i < len(s) && s[i] > ' ' && s[i] < 0x7f && !strings.ContainsRune("()<>@,;:\\\"/[]?=", rune(s[i])) {
		i++
	}
	if i == 0 {
		return "", "", false
	}
	return s[:i], s[i:], true
}

// wellFormedAfterID reports whether what follows an id read by readID
// is an optional version and then ";" or the end: the id was read in
// full, so a prefix match is no evidence of a claim.
func wellFormedAfterID(rest string) bool {
	rest = skipCFWS(rest)
	if strings.HasPrefix(rest, "1") {
		rest = skipCFWS(rest[1:])
	}
	return rest == "" || rest[0] == ';'
}
