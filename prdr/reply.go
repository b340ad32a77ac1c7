package prdr

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strconv"
	"strings"
)

// A Reply is one SMTP reply: a three-digit code and one or more lines of
// text. Text holds the lines without the code and without the separator
// after it; an enhanced status code (RFC 3463), when the server sent
// one, is still at the start of each line (see Reply.Enhanced).
type Reply struct {
	Code int
	Text []string
}

// Class returns the first digit of the code: 2, 3, 4 or 5.
func (r Reply) Class() int { return r.Code / 100 }

// Enhanced returns the enhanced status code at the start of the first
// line ("5.7.1"), or "" when there is none.
func (r Reply) Enhanced() string {
	if len(r.Text) == 0 {
		return ""
	}
	word, _, _ := strings.Cut(r.Text[0], " ")
	if isEnhanced(word, r.Class()) {
		return word
	}
	return ""
}

// String returns the reply in one line as Exim logs it: the code, a
// space and the text, with the lines of a multi-line reply joined by
// spaces.
func (r Reply) String() string {
	var b strings.Builder
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

// Wire returns the reply as it is sent: "250-first\r\n250 last\r\n".
// A reply without text is the bare code.
func (r Reply) Wire() string {
	var b strings.Builder
	lines := r.Text
	if len(lines) == 0 {
		lines = []string{""}
	}
	for i, l := range lines {
		b.WriteString(strconv.Itoa(r.Code))
		switch {
		case i < len(lines)-1:
			b.WriteByte('-')
		case l != "":
			b.WriteByte(' ')
		}
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	return b.String()
}

// isEnhanced reports whether s is an RFC 3463 status code "c.sss.ddd"
// whose class digit is class (any of 2, 4, 5 when class is 0).
func isEnhanced(s string, class int) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || len(parts[0]) != 1 {
		return false
	}
	c := parts[0][0]
	if c != '2' && c != '4' && c != '5' {
		return false
	}
	if class != 0 && int(c-'0') != class {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) == 0 || len(p) > 3 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}

// ErrMalformed is wrapped by every ReplyError about syntax.
var ErrMalformed = errors.New("malformed SMTP reply")

// A ReplyError reports a reply that could not be read: a line that is
// not "ddd[ -]text", a continuation line whose code differs, or a
// connection that ended inside a reply.
type ReplyError struct {
	Line string // the offending line, without CRLF ("" at end of input)
	Err  error  // ErrMalformed, io.ErrUnexpectedEOF or the read error
}

func (e *ReplyError) Error() string {
	if e.Line == "" {
		return "reading SMTP reply: " + e.Err.Error()
	}
	return fmt.Sprintf("reading SMTP reply: %v: %q", e.Err, e.Line)
}

func (e *ReplyError) Unwrap() error { return e.Err }

// maxReplyLines bounds one reply, so that a hostile server cannot make
// the reader collect lines for ever.
const maxReplyLines = 1000

// parseLine splits one reply line into its code, whether more lines
// follow, and its text.
func parseLine(line string) (code int, more bool, text string, err error) {
	if len(line) < 3 {
		return 0, false, "", &ReplyError{Line: line, Err: ErrMalformed}
	}
	if line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9' {
		return 0, false, "", &ReplyError{Line: line, Err: ErrMalformed}
	}
	code = int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	if len(line) == 3 {
		return code, false, "", nil
	}
	switch line[3] {
	case ' ':
		return code, false, line[4:], nil
	case '-':
		return code, true, line[4:], nil
	}
	return 0, false, "", &ReplyError{Line: line, Err: ErrMalformed}
}

// ParseReply parses one complete reply, the lines separated by CRLF or
// LF, with or without a final line end. Anything after the last line of
// the reply is an error.
func ParseReply(s string) (Reply, error) {
	r := bufio.NewReader(strings.NewReader(s))
	rep, err := ReadReply(textproto.NewReader(r))
	if err != nil {
		return Reply{}, err
	}
	if rest, _ := io.ReadAll(r); len(rest) > 0 {
		return Reply{}, &ReplyError{Line: firstLine(string(rest)), Err: fmt.Errorf("%w: text after the last line", ErrMalformed)}
	}
	return rep, nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return strings.TrimSuffix(l, "\r")
}

// ReadReply reads one reply, single- or multi-line, from r. Every line
// must carry the same code. A connection that ends inside a reply gives
// a *ReplyError wrapping io.ErrUnexpectedEOF; one that ends before it
// gives io.EOF itself.
func ReadReply(r *textproto.Reader) (Reply, error) {
	var rep Reply
	for n := 0; ; n++ {
		line, err := r.ReadLine()
		if err != nil {
			if errors.Is(err, io.EOF) {
				if n == 0 && line == "" {
					return Reply{}, io.EOF
				}
				err = io.ErrUnexpectedEOF
			}
			return Reply{}, &ReplyError{Line: line, Err: err}
		}
		code, more, text, err := parseLine(line)
		if err != nil {
			return Reply{}, err
		}
		if n == 0 {
			rep.Code = code
		} else if code != rep.Code {
			return Reply{}, &ReplyError{Line: line, Err: fmt.Errorf("%w: code changes inside a multi-line reply", ErrMalformed)}
		}
		rep.Text = append(rep.Text, text)
		if !more {
			return rep, nil
		}
		if n+1 >= maxReplyLines {
			return Reply{}, &ReplyError{Line: line, Err: fmt.Errorf("%w: more than %d lines", ErrMalformed, maxReplyLines)}
		}
	}
}

// ReadReplies reads n replies in a row, as a pipelining client does. It
// returns the replies read before an error along with it.
func ReadReplies(r *textproto.Reader, n int) ([]Reply, error) {
	out := make([]Reply, 0, min(n, 64))
	for range n {
		rep, err := ReadReply(r)
		if err != nil {
			if errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				err = &ReplyError{Err: io.ErrUnexpectedEOF}
			}
			return out, err
		}
		out = append(out, rep)
	}
	return out, nil
}
