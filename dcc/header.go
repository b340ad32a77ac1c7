package dcc

import (
	"bytes"
	"strings"

	"github.com/mailpolicy/mailpolicy/internal/header"
)

// foldWidth is the line length folded X-DCC headers aim for.
const foldWidth = 78

// extractHeader returns $dcc_header from the reply payload: the first
// field, if it is an X-DCC field, unfolded, checked (printable ASCII
// and tabs only, so nothing can be injected into the message header),
// cut at a word boundary to max bytes, refolded, ending in "\n".
func extractHeader(payload []byte, max int) string {
	if !bytes.HasPrefix(payload, []byte("X-DCC")) {
		return ""
	}
	first := firstField(payload)
	s, _, err := header.Parse(first, header.Options{Max: 2*len(first) + 2})
	if err != nil || len(s.Fields) == 0 || s.Name(0) == nil {
		return ""
	}
	// The name as written: white space before the colon, which header
	// accepts as obsolete syntax, is no name dccifd sends.
	raw := s.Raw(0)
	name := string(raw[:bytes.IndexByte(raw, ':')])
	value := s.Unfolded(0)
	for _, t := range [...]string{name, value} {
		for i := 0; i < len(t); i++ {
			if c := t[i]; (c < 0x20 && c != '\t') || c > 0x7e {
				return ""
			}
		}
	}
	if !validFieldName(name) {
		return ""
	}
	words := strings.Fields(value)
	if len(words) == 0 {
		return ""
	}
	// Cut at a word boundary to max bytes unfolded.
	n := len(name) + 1
	keep := 0
	for _, w := range words {
		if n+1+len(w) > max {
			break
		}
		n += 1 + len(w)
		keep++
	}
	if keep == 0 {
		return ""
	}
	return fold(name, words[:keep])
}

// firstField is b up to the end of its first field (the first line and
// the continuation lines after it): dccifd may send the whole message
// after the X-DCC field, and only that field is wanted.
func firstField(b []byte) []byte {
	end := 0
	for {
		i := bytes.IndexByte(b[end:], '\n')
		if i < 0 {
			return b
		}
		end += i + 1
		if end == len(b) || b[end] != ' ' && b[end] != '\t' {
			return b[:end]
		}
	}
}

// fold lays out "name: w1 w2 ..." in lines of at most foldWidth
// characters where words allow, continuation lines starting with a
// tab, ending in "\n".
func fold(name string, words []string) string {
	var b strings.Builder
	b.WriteString(name + ":")
	col := len(name) + 1
	for i, w := range words {
		if i > 0 && col+1+len(w) > foldWidth {
			b.WriteString("\n\t")
			b.WriteString(w)
			col = 8 + len(w)
			continue
		}
		b.WriteByte(' ')
		b.WriteString(w)
		col += 1 + len(w)
	}
	b.WriteByte('\n')
	return b.String()
}

// validFieldName reports whether s is an RFC 5322 field name.
func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

// CheckAddHeader checks extra header text to add with the X-DCC
// header, Exim's $acl_m_dcc_add_header, and returns it with LF line
// ends and a final newline. Exim appends the text verbatim; here every
// line must be a "Name: value" field or a continuation line (starting
// with a space or tab), with printable ASCII (and tabs) only, and no
// blank lines. Empty text returns "".
func CheckAddHeader(text string) (string, error) {
	t := strings.TrimRight(text, "\r\n")
	if t == "" {
		return "", nil
	}
	lines := strings.Split(strings.ReplaceAll(t, "\r\n", "\n"), "\n")
	for i, line := range lines {
		for j := 0; j < len(line); j++ {
			if c := line[j]; (c < 0x20 && c != '\t') || c == 0x7f {
				return "", &HeaderError{i + 1, "control character"}
			}
		}
		if strings.TrimSpace(line) == "" {
			return "", &HeaderError{i + 1, "blank line"}
		}
		if line[0] == ' ' || line[0] == '\t' {
			if i == 0 {
				return "", &HeaderError{i + 1, "continuation line without a field"}
			}
			continue
		}
		name, _, ok := strings.Cut(line, ":")
		if !ok || !validFieldName(name) {
			return "", &HeaderError{i + 1, "not a \"Name: value\" header field"}
		}
	}
	return strings.Join(lines, "\n") + "\n", nil
}

// HeadersToAdd returns the header text Exim adds to the message when
// dcc_direct_add_header is true: $dcc_header, then the checked extra
// text. For a nil Result it returns the extra text alone.
func (r *Result) HeadersToAdd(extra string) (string, error) {
	x, err := CheckAddHeader(extra)
	if err != nil {
		return "", err
	}
	if r == nil {
		return x, nil
	}
	return r.Header + x, nil
}
