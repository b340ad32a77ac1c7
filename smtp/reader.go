package smtp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// Default limits of a ReplyReader.
const (
	// DefaultMaxLineLength bounds one reply line (RFC 5321
	// §4.5.3.1.5 says 512 octets; this is generous).
	DefaultMaxLineLength = 64 << 10
	// DefaultMaxLines bounds the lines of one reply.
	DefaultMaxLines = 1000
	// DefaultMaxSize bounds the text of one reply, all lines together.
	DefaultMaxSize = 1 << 20
)

// Limits bound what a ReplyReader accepts from a peer, so that a
// hostile server cannot make a client buffer without end. A zero field
// takes its default.
type Limits struct {
	MaxLineLength int // octets of one line without CRLF (DefaultMaxLineLength)
	MaxLines      int // lines of one reply (DefaultMaxLines)
	MaxSize       int // octets of the text of one reply (DefaultMaxSize)
}

func (l Limits) lineLength() int { return orDefault(l.MaxLineLength, DefaultMaxLineLength) }
func (l Limits) lines() int      { return orDefault(l.MaxLines, DefaultMaxLines) }
func (l Limits) size() int       { return orDefault(l.MaxSize, DefaultMaxSize) }

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// A ReplyReader reads SMTP replies from a connection. Only CRLF ends a
// line: a bare LF or CR never does, and one inside a line makes the
// reply malformed. Set Limits before the first read.
type ReplyReader struct {
	Limits Limits

	r    *bufio.Reader
	line []byte // a line being assembled across buffer fills
	text []byte // the text of the reply being read, all lines
	ends []int  // end offset of each line in text
}

// NewReplyReader returns a reader of replies from r. When r is a
// *bufio.Reader it is used as is, so that nothing is read from the
// connection beyond what it buffers.
func NewReplyReader(r io.Reader) *ReplyReader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 1024)
	}
	return &ReplyReader{r: br}
}

// Buffered returns the number of bytes received but not yet read as
// part of a reply. A client checks that it is zero before starting TLS:
// anything buffered then was sent ahead of the handshake.
func (rr *ReplyReader) Buffered() int { return rr.r.Buffered() }

// ReadReply reads one reply, single- or multi-line. Every line must
// carry the same code, from 200 to 599. A connection that ends before
// the reply gives io.EOF itself; any other failure is a *ReplyError.
func (rr *ReplyReader) ReadReply() (Reply, error) {
	maxLine, maxLines, maxSize := rr.Limits.lineLength(), rr.Limits.lines(), rr.Limits.size()
	rr.text, rr.ends = rr.text[:0], rr.ends[:0]
	code := 0
	for n := 0; ; n++ {
		line, err := rr.readLine(maxLine)
		if err != nil {
			if err == io.EOF {
				if n == 0 && len(line) == 0 {
					return Reply{}, io.EOF
				}
				err = io.ErrUnexpectedEOF
			}
			return Reply{}, &ReplyError{Line: cut(line), Err: err}
		}
		c, more, text, ok := parseLine(line)
		switch {
		case !ok:
			return Reply{}, &ReplyError{Line: cut(line), Err: ErrMalformed}
		case hasEOL(text):
			return Reply{}, &ReplyError{Line: cut(line), Err: errBareEOL}
		case n == 0:
			code = c
		case c != code:
			return Reply{}, &ReplyError{Line: cut(line), Err: errCodeShift}
		}
		if len(rr.text)+len(text) > maxSize {
			return Reply{}, &ReplyError{Line: cut(line), Err: fmt.Errorf("%w: more than %d octets", ErrReplyTooLarge, maxSize)}
		}
		rr.text = append(rr.text, text...)
		rr.ends = append(rr.ends, len(rr.text))
		if !more {
			break
		}
		if n+1 >= maxLines {
			return Reply{}, &ReplyError{Line: cut(line), Err: fmt.Errorf("%w: more than %d lines", ErrReplyTooLarge, maxLines)}
		}
	}
	all := string(rr.text)
	lines := make([]string, len(rr.ends))
	start := 0
	for i, end := range rr.ends {
		lines[i] = all[start:end]
		start = end
	}
	return Reply{Code: code, Text: lines}, nil
}

// ReadReplies reads n replies in a row, as a pipelining client does. It
// returns the replies read before an error along with it; a connection
// that ends before the n-th reply is io.ErrUnexpectedEOF.
func (rr *ReplyReader) ReadReplies(n int) ([]Reply, error) {
	out := make([]Reply, 0, min(n, 64))
	for range n {
		rep, err := rr.ReadReply()
		if err != nil {
			if err == io.EOF {
				err = &ReplyError{Err: io.ErrUnexpectedEOF}
			}
			return out, err
		}
		out = append(out, rep)
	}
	return out, nil
}

// readLine returns the next line without its CRLF. The slice is valid
// until the next read. At the end of input it returns what it has with
// io.EOF.
func (rr *ReplyReader) readLine(max int) ([]byte, error) {
	rr.line = rr.line[:0]
	for {
		chunk, err := rr.r.ReadSlice('\n')
		if err == nil && len(rr.line) == 0 && len(chunk) >= 2 && chunk[len(chunk)-2] == '\r' {
			if len(chunk)-2 > max {
				return chunk[:len(chunk)-2], ErrLineTooLong
			}
			return chunk[:len(chunk)-2], nil // the common case: no copy
		}
		rr.line = append(rr.line, chunk...)
		n := len(rr.line)
		if err == nil && n >= 2 && rr.line[n-2] == '\r' {
			if n-2 > max {
				return rr.line[:n-2], ErrLineTooLong
			}
			return rr.line[:n-2], nil
		}
		if n > max+1 {
			return rr.line, ErrLineTooLong
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return rr.line, err
		}
		// A bare LF, or a full buffer: the line goes on.
	}
}

// parseLine splits one reply line into its code, whether more lines
// follow, and its text.
func parseLine(line []byte) (code int, more bool, text []byte, ok bool) {
	if len(line) < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9' {
		return 0, false, nil, false
	}
	code = int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	if len(line) == 3 {
		return code, false, nil, true
	}
	switch line[3] {
	case ' ':
		return code, false, line[4:], true
	case '-':
		return code, true, line[4:], true
	}
	return 0, false, nil, false
}

func hasEOL(b []byte) bool {
	for _, c := range b {
		if c == '\r' || c == '\n' {
			return true
		}
	}
	return false
}

// cut returns the start of a line for an error message.
func cut(b []byte) string {
	if len(b) > 80 {
		b = b[:80]
	}
	return string(b)
}
