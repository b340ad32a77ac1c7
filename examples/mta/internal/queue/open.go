package queue

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
)

// The outbound side reads a spooled message from its file as it goes:
// the courier sends it from an io.SectionReader over the file, DKIM
// hashes it from one, and the header scans below stop at the end of
// the header. Nothing on the way out holds a whole message in memory;
// only a DSN with RET=FULL copies the message, when it is at most
// Bouncer.ReturnSizeLimit long.

// MaxHeader bounds the header section held in memory (a DSN's returned
// header): dkim.MaxHeaderBytes, the bound receivers apply themselves.
const MaxHeader = 1 << 20

// OpenMessage opens the spooled message of id (wire form, CRLF) for
// reading, and returns its size. The caller closes the file; readers
// that share it use ReadAt (io.NewSectionReader), which keeps no
// offset of its own.
func (s *Spool) OpenMessage(id string) (*os.File, int64, error) {
	if !validID(id) {
		return nil, 0, fmt.Errorf("%q: %w", id, ErrNotQueued)
	}
	f, err := os.Open(s.path(id, ".msg"))
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// Section is a fresh reader of the whole of msg, for one pass over it
// (msg itself may be read by others at the same time: only its ReadAt
// is used).
func Section(msg *io.SectionReader) *io.SectionReader {
	return io.NewSectionReader(msg, 0, msg.Size())
}

// scanHeader calls fn for each line of r's header section (with its
// line end) and stops at the empty line that ends it, or at EOF. A
// line longer than bufio's buffer comes in several calls, each but the
// last without a line end. Memory stays at one buffer whatever the
// header's size.
func scanHeader(r io.Reader, fn func(part []byte) bool) error {
	br := bufio.NewReader(r)
	start := true // at the start of a line
	for {
		part, err := br.ReadSlice('\n')
		if start && (string(part) == "\r\n" || string(part) == "\n") {
			return nil
		}
		if len(part) > 0 && !fn(part) {
			return nil
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			start = false
		case err == io.EOF:
			return nil
		case err != nil:
			return err
		default:
			start = true
		}
	}
}

// ReadHeader returns the header section of msg with the line end of
// its last field, without the empty line after it (CRLF as spooled, or
// LF), reading at most max bytes: a longer header is cut after its last
// whole line within max.
func ReadHeader(msg *io.SectionReader, max int) ([]byte, error) {
	var out []byte
	err := scanHeader(io.NewSectionReader(msg, 0, min(msg.Size(), int64(max))), func(part []byte) bool {
		out = append(out, part...)
		return true
	})
	if int64(len(out)) == min(msg.Size(), int64(max)) && int64(len(out)) < msg.Size() {
		// Cut at the bound: keep whole lines only.
		for len(out) > 0 && out[len(out)-1] != '\n' {
			out = out[:len(out)-1]
		}
	}
	return out, err
}

// headerASCII reports whether the header section of msg is all ASCII,
// reading it as it goes, however long it is.
func headerASCII(msg *io.SectionReader) (bool, error) {
	ascii := true
	err := scanHeader(Section(msg), func(part []byte) bool {
		for _, c := range part {
			if c >= 0x80 {
				ascii = false
				return false
			}
		}
		return true
	})
	return ascii, err
}
