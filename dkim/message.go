package dkim

import (
	"bufio"
	"errors"

	"github.com/mailpolicy/mailpolicy/internal/header"
)

// MaxHeaderBytes bounds the header section Verify holds in
// memory (after bare LFs are turned into CRLFs). It is Exim's default
// header_maxsize; a larger header makes Verify return a
// ReadError wrapping ErrHeaderTooLarge. The body is streamed
// and has no limit.
const MaxHeaderBytes = header.DefaultMax

// headerSection is a message's header section, kept whole: DKIM hashes
// header fields as they are on the wire (simple canonicalization).
// It is the reader every other header consumer uses too, so that h=
// selects exactly the fields DMARC's From discovery sees.
type headerSection = header.Section

// readHeader reads the header section up to and including the
// empty line that ends it. eof reports that the input ended first (a
// message without body; a last line without newline counts as
// complete).
func readHeader(br *bufio.Reader) (h *headerSection, eof bool, err error) {
	h, err = header.Read(br, header.Options{Max: MaxHeaderBytes})
	if errors.Is(err, header.ErrTooLarge) {
		return nil, false, ErrHeaderTooLarge
	}
	if err != nil {
		return nil, false, err
	}
	return h, h.EOF, nil
}
