package remote

import (
	"bytes"
	"io"
)

// message is what one delivery attempt sends: the DKIM-Signature fields
// made for it (nil: unsigned), then the spooled message, read from the
// spool file again for every host tried. The fields go in front with
// io.MultiReader; the message is never copied.
type message struct {
	head []byte
	body *io.SectionReader // shared: only ReadAt is used
}

// size is the number of bytes sent (SIZE=): CRLF as spooled, before
// dot-stuffing.
func (m message) size() int64 { return int64(len(m.head)) + m.body.Size() }

// reader reads the whole message from its start.
func (m message) reader() io.Reader {
	return io.MultiReader(bytes.NewReader(m.head), io.NewSectionReader(m.body, 0, m.body.Size()))
}
