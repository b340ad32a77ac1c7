package smtp

import (
	"errors"
	"io"
)

// A DataWriter writes a message as the data of DATA (RFC 5321 §4.5.2):
// every line end becomes CRLF (a bare LF and a bare CR each become
// one), a line that starts with "." gets another one, and Close ends
// the message with CRLF "." CRLF (adding the CRLF a last line lacks).
// The result never holds a bare CR or LF, so the peer cannot see the
// end of the data anywhere else.
//
// A DataWriter makes many small writes: give it a buffered writer.
type DataWriter struct {
	w     io.Writer
	stuff bool // dot-stuff and end with "."; false: CRLF only (BDAT)
	state int
	n     int64
	err   error
}

// States of a DataWriter: at the start of a line, inside one, or just
// after a CR (already written).
const (
	wLineStart = iota
	wMid
	wCR
)

var errWriterClosed = errors.New("smtp: write to a closed DataWriter")

// NewDataWriter returns a DataWriter that writes to w.
func NewDataWriter(w io.Writer) *DataWriter { return &DataWriter{w: w, stuff: true} }

// newCRLFWriter normalises line ends only, for BDAT.
func newCRLFWriter(w io.Writer) *DataWriter { return &DataWriter{w: w} }

var (
	crlf = []byte("\r\n")
	lf   = []byte("\n")
	cr   = []byte("\r")
	dot  = []byte(".")
	end  = []byte(".\r\n")
)

func (d *DataWriter) put(b []byte) {
	if d.err != nil || len(b) == 0 {
		return
	}
	n, err := d.w.Write(b)
	d.n += int64(n)
	d.err = err
}

// Write writes p as message text. It returns len(p) unless the
// underlying writer fails.
func (d *DataWriter) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	start := 0 // p[start:i] is still to be written as is
	for i := 0; i < len(p); i++ {
		c := p[i]
		if d.state == wMid {
			// Fast path: skip to the next CR or LF.
			for i < len(p) && p[i] != '\r' && p[i] != '\n' {
				i++
			}
			if i == len(p) {
				break
			}
			c = p[i]
		}
		if d.state == wCR && c != '\n' {
			// The CR before was bare: end its line.
			d.put(p[start:i])
			d.put(lf)
			start = i
			d.state = wLineStart
		}
		switch c {
		case '\r':
			d.state = wCR
		case '\n':
			if d.state != wCR {
				d.put(p[start:i])
				d.put(cr)
				start = i
			}
			d.state = wLineStart
		case '.':
			if d.state == wLineStart && d.stuff {
				d.put(p[start:i])
				d.put(dot)
				start = i
			}
			d.state = wMid
		default:
			d.state = wMid
		}
	}
	d.put(p[start:])
	if d.err != nil {
		return 0, d.err
	}
	return len(p), nil
}

// Close ends the last line and, for DATA, writes the final ".". It does
// not close the underlying writer. Writing after Close is an error.
func (d *DataWriter) Close() error {
	if d.err != nil {
		return d.err
	}
	switch d.state {
	case wCR:
		d.put(lf)
	case wMid:
		d.put(crlf)
	}
	if d.stuff {
		d.put(end)
	}
	if d.err != nil {
		return d.err
	}
	d.err = errWriterClosed
	return nil
}

// written returns the number of bytes written to the underlying writer.
func (d *DataWriter) written() int64 { return d.n }
