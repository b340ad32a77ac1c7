package dmarc

import (
	"bufio"
	"errors"

	"github.com/mailpolicy/mailpolicy/internal/header"
)

// DKIMMaxHeaderBytes bounds the header section VerifyDKIM holds in
// memory (after bare LFs are turned into CRLFs). It is Exim's default
// header_maxsize; a larger header makes VerifyDKIM return a
// DKIMReadError wrapping ErrDKIMHeaderTooLarge. The body is streamed
// and has no limit.
const DKIMMaxHeaderBytes = header.DefaultMax

// dkimHeader is a message's header section, kept whole: DKIM hashes
// header fields as they are on the wire (simple canonicalization).
// It is the reader every other header consumer uses too, so that h=
// selects exactly the fields DMARC's From discovery sees.
type dkimHeader = header.Section

// readDKIMHeader reads the header section up to and including the
// empty line that ends it. eof reports that the input ended first (a
// message without body; a last line without newline counts as
// complete).
func readDKIMHeader(br *bufio.Reader) (h *dkimHeader, eof bool, err error) {
	h, err = header.Read(br, header.Options{Max: DKIMMaxHeaderBytes})
	if errors.Is(err, header.ErrTooLarge) {
		return nil, false, ErrDKIMHeaderTooLarge
	}
	if err != nil {
		return nil, false, err
	}
	return h, h.EOF, nil
}
