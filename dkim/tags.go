package dkim

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// tagSpec is one tag=value pair of a DKIM tag list (RFC 6376 §3.2), as
// used by both DKIM-Signature fields and key records.
type tagSpec struct {
	name  string
	value string // without the surrounding whitespace; inner folding kept
	// start and end bound everything between the "=" and the ";" (or
	// the end of the list): the value with the whitespace around it,
	// which is what RFC 6376 §3.5 deletes from b= before hashing.
	start, end int
}

// tagError is a tag list that breaks the grammar of RFC 6376 §3.2.
type tagError struct {
	pos int
	msg string
}

func (e *tagError) Error() string { return fmt.Sprintf("%s (at offset %d)", e.msg, e.pos) }

// parseTagList parses a tag list strictly:
//
//	tag-list  =  tag-spec *( ";" tag-spec ) [ ";" ]
//	tag-spec  =  [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
//	tag-name  =  ALPHA *ALNUMPUNC
//	tag-value =  [ tval *( 1*(WSP / FWS) tval ) ]   tval = 1*VALCHAR
//
// Folding (CRLF followed by WSP) is accepted anywhere whitespace is; a
// CR or LF that is not part of a fold, another control character, an
// empty tag-spec before the last ";", a tag without "=" and a tag that
// occurs twice ("the entire tag-list is invalid", §3.2) are errors.
// Octets above 0x7E are accepted in values: RFC 8616 allows UTF-8 in
// the identities of internationalised mail. Tag names are
// case-sensitive, as §3.2 requires.
func parseTagList(s string) ([]tagSpec, error) {
	var tags []tagSpec
	i := 0
	for {
		var err error
		if i, err = skipFWS(s, i); err != nil {
			return nil, err
		}
		if i == len(s) {
			return tags, nil // empty list, or a trailing ";"
		}
		if !isAlpha(s[i]) {
			return nil, &tagError{i, fmt.Sprintf("tag name expected, found %q", s[i])}
		}
		j := i + 1
		for j < len(s) && (isAlpha(s[j]) || isDigit(s[j]) || s[j] == '_') {
			j++
		}
		name := s[i:j]
		k, err := skipFWS(s, j)
		if err != nil {
			return nil, err
		}
		if k == len(s) || s[k] != '=' {
			return nil, &tagError{k, fmt.Sprintf("tag %q: \"=\" expected", name)}
		}
		start := k + 1
		end := strings.IndexByte(s[start:], ';')
		if end < 0 {
			end = len(s)
		} else {
			end += start
		}
		value, err := tagValue(s, start, end)
		if err != nil {
			return nil, err
		}
		for _, t := range tags {
			if t.name == name {
				return nil, &tagError{i, fmt.Sprintf("tag %q occurs twice", name)}
			}
		}
		tags = append(tags, tagSpec{name: name, value: value, start: start, end: end})
		if end == len(s) {
			return tags, nil
		}
		i = end + 1
	}
}

// tagValue checks the octets of s[start:end] and returns them
// without leading and trailing whitespace.
func tagValue(s string, start, end int) (string, error) {
	for p := start; p < end; p++ {
		c := s[p]
		switch {
		case c == ' ' || c == '\t':
		case c == '\r':
			if p+2 >= end || s[p+1] != '\n' || !isWSP(s[p+2]) {
				return "", &tagError{p, "CR not part of a folded line"}
			}
			p++ // the LF; the WSP after it is checked next
		case c < 0x21 || c == 0x7f:
			return "", &tagError{p, fmt.Sprintf("control character %q in a tag value", c)}
		}
	}
	return strings.Trim(s[start:end], " \t\r\n"), nil
}

// skipFWS skips whitespace and folds from s[i].
func skipFWS(s string, i int) (int, error) {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t':
			i++
		case '\r':
			if i+2 >= len(s) || s[i+1] != '\n' || !isWSP(s[i+2]) {
				return i, &tagError{i, "CR not part of a folded line"}
			}
			i += 3
		default:
			return i, nil
		}
	}
	return i, nil
}

func isWSP(c byte) bool   { return c == ' ' || c == '\t' }
func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// tagLookup returns the value of the named tag.
func tagLookup(tags []tagSpec, name string) (string, bool) {
	for _, t := range tags {
		if t.name == name {
			return t.value, true
		}
	}
	return "", false
}

// stripFWS removes all whitespace and folding from a value: b=,
// bh= and p= allow it anywhere inside (RFC 6376 §3.5, §3.6.1).
func stripFWS(s string) string {
	if !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\r', '\n':
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// decodeBase64 decodes a base64 tag value (b=, bh=, p=), which may
// be folded; padding is required.
func decodeBase64(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(stripFWS(s))
}

// splitColonList splits a colon-separated list (h=, q=, and key
// h=, s=, t=), trimming whitespace around each element.
func splitColonList(s string) []string {
	parts := strings.Split(s, ":")
	for i, p := range parts {
		parts[i] = strings.Trim(p, " \t\r\n")
	}
	return parts
}

// lenientTags extracts tags from a list that parseTagList
// rejected, first occurrence winning, so that a malformed signature can
// still be reported with its d=, s=, i= and a= instead of vanishing.
// Nothing it returns is used to verify anything.
func lenientTags(s string) []tagSpec {
	var tags []tagSpec
	for part := range strings.SplitSeq(s, ";") {
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		name = strings.Trim(name, " \t\r\n")
		if _, dup := tagLookup(tags, name); dup || name == "" {
			continue
		}
		tags = append(tags, tagSpec{name: name, value: strings.Trim(value, " \t\r\n")})
	}
	return tags
}
