package smtp

import (
	"strconv"
	"strings"
)

// A Reply is one SMTP reply (RFC 5321 §4.2): a three-digit code and
// one or more lines of text.
type Reply struct {
	Code int
	// Text holds the lines without the code and without the separator
	// after it ("-" or " "). An enhanced status code (RFC 3463), when
	// the server sent one, is still at the start of each line: see
	// Enhanced.
	Text []string
}

// Class returns the first digit of the code: 2, 3, 4 or 5.
func (r Reply) Class() int { return r.Code / 100 }

// Enhanced returns the enhanced status code at the start of the first
// line ("5.7.1 ..."), or the zero EnhancedCode when there is none or
// its class differs from the reply's.
func (r Reply) Enhanced() EnhancedCode {
	if len(r.Text) == 0 {
		return EnhancedCode{}
	}
	word, _, _ := strings.Cut(r.Text[0], " ")
	e, err := ParseEnhancedCode(word)
	if err != nil || e.Class != r.Class() {
		return EnhancedCode{}
	}
	return e
}

// String returns the reply on one line as Exim logs it: the code, a
// space and the text, the lines of a multi-line reply joined by spaces.
func (r Reply) String() string {
	n := 3
	for _, l := range r.Text {
		n += 1 + len(l)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(strconv.Itoa(r.Code))
	for i, l := range r.Text {
		if i == 0 && l == "" {
			continue
		}
		b.WriteByte(' ')
		b.WriteString(l)
	}
	return b.String()
}

// Wire returns the reply as it is sent: "250-first\r\n250 last\r\n". A
// reply without text is the bare code. A CR or LF inside a line is sent
// as a space, so that a line cannot end early.
func (r Reply) Wire() string { return string(r.AppendWire(nil)) }

// AppendWire appends the wire form of the reply (see Wire) to b.
func (r Reply) AppendWire(b []byte) []byte {
	lines := r.Text
	if len(lines) == 0 {
		lines = []string{""}
	}
	for i, l := range lines {
		b = strconv.AppendInt(b, int64(r.Code), 10)
		switch {
		case i < len(lines)-1:
			b = append(b, '-')
		case l != "":
			b = append(b, ' ')
		}
		if strings.ContainsAny(l, "\r\n") {
			for j := 0; j < len(l); j++ {
				c := l[j]
				if c == '\r' || c == '\n' {
					c = ' '
				}
				b = append(b, c)
			}
		} else {
			b = append(b, l...)
		}
		b = append(b, '\r', '\n')
	}
	return b
}

// ParseReply parses one complete reply held in s: lines ending in CRLF,
// the last CRLF optional. Anything after the reply is an error, as is
// a bare LF or CR (neither ends a line).
func ParseReply(s string) (Reply, error) {
	if s != "" && !strings.HasSuffix(s, "\r\n") {
		s += "\r\n"
	}
	rr := NewReplyReader(strings.NewReader(s))
	rep, err := rr.ReadReply()
	if err != nil {
		return Reply{}, err
	}
	if rr.r.Buffered() > 0 {
		rest, _ := rr.r.Peek(rr.r.Buffered())
		line, _, _ := strings.Cut(string(rest), "\r\n")
		return Reply{}, &ReplyError{Line: line, Err: errTrailing}
	}
	return rep, nil
}
