package smtp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// ErrDataTooLarge is returned by a DataReader whose message exceeds
// MaxSize, once the rest of the data has been read and discarded.
var ErrDataTooLarge = errors.New("smtp: message data exceeds the size limit")

// A DataReader reads the data of DATA (RFC 5321 §4.5.2) on the server
// side: it removes the first "." of every line that starts with one and
// returns io.EOF after the line "." that ends the data. Only CRLF "."
// CRLF ends the data, the CRLF before the "." being the end of the last
// line (which the reader returns) or the end of the DATA command; a
// bare LF or CR never ends a line, so LF "." LF and CR "." CR are data.
// Line ends are returned as they came.
//
// With MaxSize set, a message longer than that many octets (after
// un-stuffing) is read to its end and discarded, and Read then returns
// ErrDataTooLarge, so that the session stays in step and the server can
// answer 552. The end of input before the final "." is
// io.ErrUnexpectedEOF.
type DataReader struct {
	MaxSize int64 // 0: no limit

	r     *bufio.Reader
	state int
	n     int64 // octets returned
	over  bool
	err   error
}

// States of a DataReader.
const (
	rLineStart = iota // after CRLF (or at the start)
	rMid              // inside a line
	rCR               // after a CR inside a line
	rDot              // after a "." that started a line (dropped)
	rDotCR            // after "." CR at the start of a line (both held)
)

// NewDataReader returns a DataReader that reads from r, which must be
// the connection's reader: the DataReader reads nothing beyond the end
// of the data.
func NewDataReader(r *bufio.Reader) *DataReader { return &DataReader{r: r} }

// Size returns the number of octets read so far (after un-stuffing).
func (d *DataReader) Size() int64 { return d.n }

// Read reads message text into p.
func (d *DataReader) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n := 0
	for n < len(p) || d.over {
		if n > 0 && d.r.Buffered() == 0 {
			break // return what we have rather than wait
		}
		if d.r.Buffered() == 0 {
			if _, err := d.r.Peek(1); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				d.err = err
				return n, err
			}
		}
		buf, _ := d.r.Peek(d.r.Buffered())
		out := p[n:]
		if d.over {
			out = nil
		}
		used, produced, done := d.scan(buf, out)
		d.r.Discard(used)
		if !d.over {
			n += produced
			d.n += int64(produced)
			if d.MaxSize > 0 && d.n > d.MaxSize {
				excess := d.n - d.MaxSize
				n -= int(min(excess, int64(n)))
				d.n = d.MaxSize
				d.over = true
			}
		}
		if done {
			d.err = io.EOF
			if d.over {
				d.err = ErrDataTooLarge
			}
			if n > 0 {
				return n, nil
			}
			return 0, d.err
		}
	}
	return n, nil
}

// scan runs the state machine over in, writing message text to out
// (discarding it when out is nil), until in or out is used up or the
// data ends. It returns the octets of in consumed and of out produced.
func (d *DataReader) scan(in, out []byte) (used, produced int, done bool) {
	discard := out == nil
	emit := func(b byte) bool {
		if discard {
			produced++
			return true
		}
		if produced == len(out) {
			return false
		}
		out[produced] = b
		produced++
		return true
	}
	i := 0
	for i < len(in) {
		if d.state == rMid && !discard {
			// Fast path: copy up to the next CR.
			room := len(out) - produced
			if room == 0 {
				break
			}
			run := in[i:min(len(in), i+room)]
			j := bytes.IndexByte(run, '\r')
			if j < 0 {
				j = len(run)
			}
			copy(out[produced:], run[:j])
			produced += j
			i += j
			if i == len(in) || produced == len(out) {
				break
			}
		}
		c := in[i]
		switch d.state {
		case rLineStart:
			switch c {
			case '.':
				d.state = rDot
			case '\r':
				if !emit(c) {
					return i, produced, false
				}
				d.state = rCR
			default:
				if !emit(c) {
					return i, produced, false
				}
				d.state = rMid
			}
		case rMid:
			if !emit(c) {
				return i, produced, false
			}
			if c == '\r' {
				d.state = rCR
			}
		case rCR:
			if !emit(c) {
				return i, produced, false
			}
			switch c {
			case '\n':
				d.state = rLineStart
			case '\r':
			default:
				d.state = rMid
			}
		case rDot:
			if c == '\r' {
				d.state = rDotCR
				break
			}
			// The dot of ".x" is dropped: un-stuffing.
			if !emit(c) {
				return i, produced, false
			}
			d.state = rMid
		case rDotCR:
			if c == '\n' {
				return i + 1, produced, true
			}
			// ".\rx": the dot is dropped, the CR is data, and x is
			// read again after it.
			if !emit('\r') {
				return i, produced, false
			}
			d.state = rCR
			continue
		}
		i++
	}
	return i, produced, false
}
