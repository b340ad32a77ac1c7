package dsninfo

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"

	"github.com/mailpolicy/mailpolicy/internal/header"
)

// The MIME reader is deliberately lenient (see Parse): input has LF
// line ends (Parse turns CRLF into LF first), a header ends at an
// empty line or at the first line that is neither a field nor a
// continuation, and a boundary line may be indented. Header fields
// are read by internal/header, the reader DKIM and DMARC use, so that
// a bounce cannot be read with fields a verifier would not see.

// readHeader splits b into its header fields and the body. It fails
// only when the header is longer than max bytes.
func readHeader(b []byte, max int) (fields []Field, body []byte, ok bool) {
	if max <= 0 {
		max = len(b)
	}
	// header counts its CRLF copy; every input byte becomes at most two.
	s, rest, err := header.Parse(b, header.Options{Lenient: true, Max: 2*max + 2})
	if err != nil {
		return nil, nil, false
	}
	seen := s.N // the limit counts the line that ended the header
	if rest != nil && !endedAtEmpty(b, s.N) {
		line, _, _ := bytes.Cut(rest, []byte{'\n'})
		seen = min(s.N+len(line)+1, len(b))
		if len(bytes.TrimSpace(line)) == 0 {
			// A line of white space header does not call empty (a
			// vertical tab, a no-break space) ends the header too,
			// and is no part of the body; one that starts with a
			// space or tab is a continuation, as header reads it.
			rest = b[seen:]
		}
	}
	if seen > max {
		return nil, nil, false
	}
	fields, _ = fieldsOf(s, false)
	return fields, rest, true
}

// endedAtEmpty says whether the n bytes header.Parse took from b end
// with the empty line that ends a section, rather than before a line
// Options.Lenient stopped at.
func endedAtEmpty(b []byte, n int) bool {
	if n == 0 || b[n-1] != '\n' {
		return false
	}
	i := n - 1
	if i > 0 && b[i-1] == '\r' {
		i--
	}
	return i == 0 || b[i-1] == '\n'
}

// fieldsOf returns the well-formed fields of s. With stopAtBad it ends
// at the first other line (a line without a colon, a bad name, a
// leading continuation) and says so, else it skips such lines and
// their continuations.
func fieldsOf(s *header.Section, stopAtBad bool) (fields []Field, stopped bool) {
	fields = make([]Field, 0, len(s.Fields))
	for i := range s.Fields {
		if !wellFormed(s, i) {
			if stopAtBad {
				return fields, true
			}
			continue
		}
		fields = append(fields, Field{Name: string(s.Name(i)), Value: strings.TrimSpace(s.Unfolded(i))})
	}
	return fields, false
}

// wellFormed says whether field i is "Name: value" with an RFC 5322
// name: the lines Options.Lenient reads as fields. header keeps the
// others as fields with defects so that strict readers can refuse
// them; here they are skipped as they always were.
func wellFormed(s *header.Section, i int) bool {
	name := s.Name(i)
	if len(name) == 0 || s.Raw(i)[0] == ' ' || s.Raw(i)[0] == '\t' {
		return false
	}
	for _, c := range name {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}

func get(fields []Field, name string) string {
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// contentType returns the lower-case media type and parameters of a
// header, text/plain when there is none. A value mime.ParseMediaType
// rejects is read again leniently.
func contentType(fields []Field) (string, map[string]string) {
	v := get(fields, "Content-Type")
	if v == "" {
		return "text/plain", nil
	}
	mt, params, err := mime.ParseMediaType(v)
	if err == nil {
		return mt, params
	}
	params = map[string]string{}
	parts := strings.Split(v, ";")
	mt = strings.ToLower(strings.TrimSpace(parts[0]))
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' {
			if j := strings.IndexByte(val[1:], '"'); j >= 0 {
				val = val[1 : j+1]
			}
		}
		params[strings.ToLower(strings.TrimSpace(k))] = val
	}
	return mt, params
}

// splitMultipart returns the parts of body between boundary lines
// ("--boundary", possibly indented or followed by white space) up to
// the closing line or the end. ok is false when no boundary line was
// found.
func splitMultipart(body []byte, boundary string, maxParts int) (parts [][]byte, ok, tooMany bool) {
	delim := "--" + boundary
	start := -1 // start of the current part, -1 in the preamble
	pos := 0
	for pos <= len(body) {
		end := bytes.IndexByte(body[pos:], '\n')
		next := len(body) + 1
		if end < 0 {
			end = len(body)
		} else {
			end += pos
			next = end + 1
		}
		line := bytes.TrimSpace(body[pos:end])
		if bytes.HasPrefix(line, []byte(delim)) {
			rest := line[len(delim):]
			closing := string(rest) == "--"
			if len(rest) == 0 || closing {
				ok = true
				if start >= 0 {
					partEnd := pos - 1 // the LF before the boundary line belongs to it
					if partEnd < start {
						partEnd = start
					}
					parts = append(parts, body[start:partEnd])
					if maxParts > 0 && len(parts) > maxParts {
						return parts, ok, true
					}
				}
				if closing {
					return parts, ok, false
				}
				start = min(next, len(body))
			}
		}
		pos = next
	}
	if start >= 0 {
		parts = append(parts, body[start:])
	}
	return parts, ok, maxParts > 0 && len(parts) > maxParts
}

// decodeBody undoes a base64 or quoted-printable transfer encoding;
// other encodings, and bodies that do not decode, are returned as is.
func decodeBody(fields []Field, body []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(get(fields, "Content-Transfer-Encoding"))) {
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, body)
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, err := base64.StdEncoding.Decode(out, clean)
		if err != nil {
			return body
		}
		return bytes.ReplaceAll(out[:n], []byte("\r\n"), []byte("\n"))
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil {
			return body
		}
		return bytes.ReplaceAll(out, []byte("\r\n"), []byte("\n"))
	}
	return body
}
