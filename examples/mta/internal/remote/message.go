package remote

import (
	"bytes"
	"io"
	"sync"
)

// message is what one delivery attempt sends: the DKIM-Signature fields
// made for it (nil: unsigned), then the spooled message, read from the
// spool file again for every host tried. The fields go in front with
// io.MultiReader; the message is never copied.
type message struct {
	head []byte
	body *io.SectionReader // shared: only ReadAt is used
	wire *wireSize
}

// newMessage is the spooled message body; known is its size with
// CRLF line ends when the envelope has it (Envelope.Size), else 0.
func newMessage(body *io.SectionReader, known int64) message {
	m := message{body: body, wire: &wireSize{}}
	if known > 0 {
		m.wire.once.Do(func() { m.wire.n = known })
	}
	return m
}

// wireSize is the size of the spooled message as sent, counted once.
type wireSize struct {
	once sync.Once
	n    int64
	err  error
}

// size is the number of bytes sent before dot-stuffing (SIZE=, RFC
// 1870). The spool may hold LF line ends, which go out as CRLF: without
// the size in the envelope, the file is read through once to count
// them (in a small buffer). A read error gives the file's size: the
// send will meet the error again.
func (m message) size() int64 {
	m.wire.once.Do(func() {
		m.wire.n, m.wire.err = crlfSize(io.NewSectionReader(m.body, 0, m.body.Size()))
	})
	if m.wire.err != nil {
		return int64(len(m.head)) + m.body.Size()
	}
	return int64(len(m.head)) + m.wire.n
}

// reader reads the whole message from its start.
func (m message) reader() io.Reader {
	return io.MultiReader(bytes.NewReader(m.head), io.NewSectionReader(m.body, 0, m.body.Size()))
}

// crlfSize is the length of what r holds once every line end is CRLF
// and the last line has one, as smtp.DataWriter writes it (a bare LF
// and a bare CR each become CRLF).
func crlfSize(r io.Reader) (int64, error) {
	buf := make([]byte, 32<<10)
	var n int64
	prevCR, last := false, byte('\n')
	seen := false
	for {
		k, err := r.Read(buf)
		for _, c := range buf[:k] {
			n++
			switch {
			case c == '\n' && !prevCR:
				n++ // the CR in front
			case c != '\n' && prevCR:
				n++ // the LF after a bare CR
			}
			prevCR = c == '\r'
			last, seen = c, true
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	switch {
	case !seen:
	case prevCR:
		n++
	case last != '\n':
		n += 2
	}
	return n, nil
}
