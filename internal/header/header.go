package header

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
)

// DefaultMax bounds a header section (after bare LFs became CRLFs):
// Exim's default header_maxsize.
const DefaultMax = 1 << 20

// ErrTooLarge is returned for a header section over the limit.
var ErrTooLarge = errors.New("header section too large")

// Field locates one header field, continuation lines included, in
// Section.Buf.
type Field struct {
	Start, End int // Buf[Start:End] is the field with its final CRLF
	NameEnd    int // end of the name, without white space before the colon
	Colon      int // index of the colon in Buf; -1 when the line has none
}

// Section is a message's header section.
type Section struct {
	Buf     []byte // the section's lines, each ending CRLF, without the empty line
	Fields  []Field
	Defects []Defect
	// N is how many input bytes the section took, the empty line that
	// ends it included.
	N int
	// EOF says the input ended before an empty line (a message
	// without a body); a last line without a line end counts.
	EOF bool

	line int // lines seen, for Defect.Line
}

// Options adjust the reader; the zero value is the strict receiver's
// reading every caller but DSN parsing wants.
type Options struct {
	// Max bounds the section in bytes; 0 means DefaultMax.
	Max int
	// Lenient ends the section at a line that is neither a field nor a
	// continuation (or holds only white space) instead of reading it as
	// a defect: how bounce parsers cope with MIME parts whose blank line
	// a broken mailer left out. The line is not consumed (Parse only).
	Lenient bool
}

func (o Options) max() int {
	if o.Max > 0 {
		return o.Max
	}
	return DefaultMax
}

// Raw is field i as on the wire, continuation lines and final CRLF
// included.
func (s *Section) Raw(i int) []byte { return s.Buf[s.Fields[i].Start:s.Fields[i].End] }

// Name is field i's name; nil for a line without a colon, which is no
// field and so matches no name.
func (s *Section) Name(i int) []byte {
	f := s.Fields[i]
	if f.Colon < 0 {
		return nil
	}
	return s.Buf[f.Start:f.NameEnd]
}

// Value is the text after the colon, folding CRLFs included, without
// the final CRLF.
func (s *Section) Value(i int) []byte {
	f := s.Fields[i]
	if f.Colon < 0 {
		return nil
	}
	return s.Buf[f.Colon+1 : f.End-2]
}

// Unfolded is Value with the folding CRLFs removed (RFC 5322 §2.2.3)
// and surrounding white space trimmed.
func (s *Section) Unfolded(i int) string {
	v := s.Value(i)
	if bytes.IndexByte(v, '\n') < 0 {
		return string(bytes.Trim(v, " \t"))
	}
	var b strings.Builder
	b.Grow(len(v))
	for len(v) > 0 {
		j := bytes.Index(v, crlf)
		if j < 0 {
			b.Write(v)
			break
		}
		b.Write(v[:j])
		v = v[j+2:]
	}
	return strings.Trim(b.String(), " \t")
}

// Values returns the unfolded values of the fields named name
// (caseless), in order.
func (s *Section) Values(name string) []string {
	var out []string
	for i := range s.Fields {
		if n := s.Name(i); n != nil && EqualFold(n, name) {
			out = append(out, s.Unfolded(i))
		}
	}
	return out
}

// Count is how many fields are named name (caseless).
func (s *Section) Count(name string) int {
	n := 0
	for i := range s.Fields {
		if f := s.Name(i); f != nil && EqualFold(f, name) {
			n++
		}
	}
	return n
}

// EqualFold compares a field name with an ASCII name, caseless,
// without allocating.
func EqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

var crlf = []byte("\r\n")

// Read reads a header section from br, up to and including the empty
// line that ends it; br is then at the first byte of the body.
// Options.Lenient is ignored (a line cannot be pushed back). Errors are
// br's (not io.EOF) and ErrTooLarge.
func Read(br *bufio.Reader, opts Options) (*Section, error) {
	s := &Section{Buf: make([]byte, 0, 4096)}
	max := opts.max()
	lineStart := 0
	for {
		chunk, err := br.ReadSlice('\n')
		// The limit is on the section as Parse counts it: lines once
		// ending CRLF, the empty line not included. A line only grows
		// when its end becomes CRLF, so a part over the limit already
		// is too large; the overshoot is at most one chunk.
		s.N += len(chunk)
		s.Buf = append(s.Buf, chunk...)
		switch {
		case err == nil:
		case errors.Is(err, bufio.ErrBufferFull):
			if len(s.Buf) > max {
				return nil, ErrTooLarge
			}
			continue // a long line: keep reading it
		case errors.Is(err, io.EOF):
			s.EOF = true
			if n := len(s.Buf); n > lineStart && s.Buf[n-1] == '\r' {
				s.Buf = s.Buf[:n-1] // a CR just before the end is a line end cut short
			}
			if len(s.Buf) > lineStart {
				s.Buf = append(s.Buf, '\r', '\n')
				if len(s.Buf) > max {
					return nil, ErrTooLarge
				}
				s.addLine(lineStart)
			}
			return s, nil
		default:
			return nil, err
		}
		if n := len(s.Buf); n-lineStart < 2 || s.Buf[n-2] != '\r' {
			s.Buf = append(s.Buf[:n-1], '\r', '\n')
		}
		if len(s.Buf)-lineStart == 2 { // the empty line ending the section
			s.Buf = s.Buf[:lineStart]
			return s, nil
		}
		if len(s.Buf) > max {
			return nil, ErrTooLarge
		}
		s.addLine(lineStart)
		lineStart = len(s.Buf)
	}
}

// Parse reads the header section at the start of b and returns it with
// the body (nil when b ended inside the section). Unlike Read it
// honours Options.Lenient.
func Parse(b []byte, opts Options) (*Section, []byte, error) {
	n := sectionLen(b)
	s := &Section{Buf: make([]byte, 0, min(n+n/16+8, 4096)),
		Fields: make([]Field, 0, min(bytes.Count(b[:n], []byte("\n"))+1, 64))}
	max := opts.max()
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
		line := b[pos:end]
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			s.N = next
			return s, b[next:], nil
		}
		if opts.Lenient && (len(bytes.Trim(line, " \t\r")) == 0 || !s.continues(line) && !isField(line)) {
			s.N = pos
			return s, b[pos:], nil
		}
		if len(s.Buf)+len(line)+2 > max {
			return nil, nil, ErrTooLarge
		}
		start := len(s.Buf)
		s.Buf = append(s.Buf, line...)
		s.Buf = append(s.Buf, '\r', '\n')
		s.addLine(start)
		pos = next
	}
	s.N, s.EOF = len(b), true
	return s, nil, nil
}

// sectionLen guesses where the section ends (its empty line), so that
// Parse can size its buffers: small MIME part headers should not each
// cost a large buffer.
func sectionLen(b []byte) int {
	n := len(b)
	if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		n = i
	}
	if i := bytes.Index(b[:n], []byte("\n\r\n")); i >= 0 {
		n = i
	}
	return n
}

// continues says whether line would continue the field before it.
func (s *Section) continues(line []byte) bool {
	return len(line) > 0 && (line[0] == ' ' || line[0] == '\t') && len(s.Fields) > 0
}

// isField says whether line starts a well-formed field.
func isField(line []byte) bool {
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return false
	}
	name := bytes.TrimRight(line[:i], " \t")
	return len(name) > 0 && validName(name)
}

// addLine files the line Buf[start:] (ending CRLF) as a new field or a
// continuation, and notes its defects.
func (s *Section) addLine(start int) {
	s.line++
	end := len(s.Buf)
	line := s.Buf[start : end-2]
	if bytes.IndexByte(line, 0) >= 0 {
		s.defect(NUL)
	}
	if bytes.IndexByte(line, '\r') >= 0 {
		s.defect(BareCR)
	}
	if c := line[0]; c == ' ' || c == '\t' {
		if len(s.Fields) > 0 {
			s.Fields[len(s.Fields)-1].End = end
			return
		}
		s.defect(LeadingContinuation)
	}
	f := Field{Start: start, End: end, Colon: -1}
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		s.defect(NoColon)
		s.Fields = append(s.Fields, f)
		return
	}
	f.Colon = start + i
	f.NameEnd = f.Colon
	for f.NameEnd > start && (s.Buf[f.NameEnd-1] == ' ' || s.Buf[f.NameEnd-1] == '\t') {
		f.NameEnd--
	}
	switch name := s.Buf[start:f.NameEnd]; {
	case len(name) == 0:
		s.defect(EmptyName)
	case !validName(name) && line[0] != ' ' && line[0] != '\t':
		s.defect(BadName)
	}
	s.Fields = append(s.Fields, f)
}

// validName is RFC 5322 ftext: printable ASCII but the colon.
func validName(name []byte) bool {
	for _, c := range name {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}

func (s *Section) defect(k Kind) {
	s.Defects = append(s.Defects, Defect{Kind: k, Line: s.line})
}
