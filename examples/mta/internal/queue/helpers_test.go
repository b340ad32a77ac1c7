package queue

import (
	"bytes"
	"io"
)

// sec is msg as the runner gives it: a section of the spool file.
func sec(msg []byte) *io.SectionReader {
	return io.NewSectionReader(bytes.NewReader(msg), 0, int64(len(msg)))
}
