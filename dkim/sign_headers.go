package dkim

import (
	"strings"

	"github.com/mailpolicy/mailpolicy/internal/header"
)

// signHeaderSpec is one element of dkim_sign_headers.
type signHeaderSpec struct {
	name string
	mode byte // 0: one instance; '=': all present; '+': all present and one absent
}

// signParseHeaders parses a dkim_sign_headers list (colon-separated,
// white space around elements ignored, empty elements skipped).
func signParseHeaders(list string) ([]signHeaderSpec, string, bool) {
	if list == "" {
		list = DefaultSignHeaders
	}
	var specs []signHeaderSpec
	from := false
	for _, e := range strings.Split(list, ":") {
		e = strings.Trim(e, " \t\r\n")
		if e == "" {
			continue
		}
		var s signHeaderSpec
		if e[0] == '=' || e[0] == '+' {
			s.mode, e = e[0], e[1:]
		}
		if !signIsFieldName(e) {
			return nil, e, false
		}
		s.name = e
		if strings.EqualFold(e, "From") {
			from = true
		}
		specs = append(specs, s)
	}
	if !from {
		return nil, "From", false
	}
	return specs, "", true
}

// signIsFieldName: printable ASCII but colon (RFC 5322 ftext), and
// no semicolon, which would end h=.
func signIsFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f || s[i] == ':' || s[i] == ';' {
			return false
		}
	}
	return true
}

// signSelectHeaders chooses the header fields a signature covers, the
// way Exim's pdkim does: the fields are walked from the last to the
// first, and a field is signed when its name matches an element of the
// list (a plain element once, then it is ticked off; '=' and '+'
// elements any number of times). Then the names still to list follow:
// every '+' element once (an absent instance: oversigning) and every
// plain element not ticked off (its header's absence is signed). '='
// elements add nothing.
//
// It returns the indices of the fields to hash, in h= order, and the
// h= names (the fields' own names, then the absent ones).
func signSelectHeaders(hdr *header.Section, specs []signHeaderSpec, ticked []bool) (fields []int, names []string) {
	clear(ticked)
	for i := len(hdr.Fields) - 1; i >= 0; i-- {
		n := hdr.Name(i)
		if n == nil {
			continue
		}
		for j, s := range specs {
			if (s.mode == 0 && ticked[j]) || !header.EqualFold(n, s.name) {
				continue
			}
			if s.mode == 0 {
				ticked[j] = true
			}
			fields = append(fields, i)
			names = append(names, string(n))
			break
		}
	}
	for j, s := range specs {
		if s.mode == '+' || (s.mode == 0 && !ticked[j]) {
			names = append(names, s.name)
		}
	}
	return fields, names
}
