package dsninfo

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"
)

// The MIME reader is deliberately lenient (see Parse): input has LF
// line ends (Parse turns CRLF into LF first), a header ends at an
// empty line or at the first line that is neither a field nor a
// continuation, and a boundary line may be indented.

// readHeader splits b into its header fields and the body. It fails
// only when the header is longer than max bytes.
func readHeader(b []byte, max int) (fields []Field, body []byte, ok bool) {
	var fb fieldBuilder
	pos := 0
	for pos < len(b) {
		end := bytes.IndexByte(b[pos:], '\n')
		next := len(b)
		if end < 0 {
			end = len(b)
		} else {
			end += pos
			next = end + 1
		}
		if max > 0 && next > max {
			return fb.done(b), nil, false
		}
		line := b[pos:end]
		if len(bytes.TrimSpace(line)) == 0 {
			return fb.done(b), b[next:], true
		}
		if (line[0] == ' ' || line[0] == '\t') && fb.open() {
			fb.extend(end)
			pos = next
			continue
		}
		i, isField := fieldColon(line)
		if !isField {
			return fb.done(b), b[pos:], true
		}
		fb.start(b, pos, pos+i, end)
		pos = next
	}
	return fb.done(b), nil, true
}

// fieldBuilder collects fields as offsets and makes each value once,
// so that long runs of continuation lines cost linear time.
type fieldBuilder struct {
	fields     []Field
	valStart   int
	valEnd     int
	pending    bool
	pendingRaw string
}

func (fb *fieldBuilder) open() bool { return fb.pending }

func (fb *fieldBuilder) start(b []byte, lineStart, colon, end int) {
	fb.flush(b)
	fb.pendingRaw = string(bytes.TrimRight(b[lineStart:colon], " \t"))
	fb.valStart, fb.valEnd, fb.pending = colon+1, end, true
}

func (fb *fieldBuilder) extend(end int) { fb.valEnd = end }

func (fb *fieldBuilder) flush(b []byte) {
	if fb.pending {
		fb.fields = append(fb.fields, Field{Name: fb.pendingRaw, Value: unfold(b[fb.valStart:fb.valEnd])})
		fb.pending = false
	}
}

func (fb *fieldBuilder) done(b []byte) []Field {
	fb.flush(b)
	return fb.fields
}

// unfold returns b without its LFs, white space trimmed.
func unfold(b []byte) string {
	if bytes.IndexByte(b, '\n') < 0 {
		return string(bytes.TrimSpace(b))
	}
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c != '\n' {
			out = append(out, c)
		}
	}
	return string(bytes.TrimSpace(out))
}

// fieldColon returns the index of the colon of a "Name: value" line
// (spaces allowed before the colon).
func fieldColon(line []byte) (int, bool) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return 0, false
	}
	n := bytes.TrimRight(line[:i], " \t")
	if len(n) == 0 {
		return 0, false
	}
	for _, c := range n {
		if c <= ' ' || c >= 0x7f {
			return 0, false
		}
	}
	return i, true
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
