package dmarc

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// DKIMMaxHeaderBytes bounds the header section VerifyDKIM holds in
// memory (after bare LFs are turned into CRLFs). It is Exim's default
// header_maxsize; a larger header makes VerifyDKIM return a
// DKIMReadError wrapping ErrDKIMHeaderTooLarge. The body is streamed
// and has no limit.
const DKIMMaxHeaderBytes = 1 << 20

// dkimHeader is a message's header section, kept whole: DKIM hashes
// header fields as they are on the wire (simple canonicalization).
// Every line in buf ends with CRLF: a bare LF is read as CRLF, as most
// verifiers do, since a message stored or piped with Unix line endings
// was CRLF on the wire, where it was signed.
type dkimHeader struct {
	buf    []byte
	fields []dkimField
}

// dkimField locates one header field, continuation lines included.
type dkimField struct {
	start, end int // buf[start:end] is the field with its final CRLF
	nameEnd    int // end of the name, without whitespace before the colon
	colon      int // index of the colon in buf; -1 if the line has none
}

func (h *dkimHeader) raw(i int) []byte { return h.buf[h.fields[i].start:h.fields[i].end] }

// name is the field name; it is empty for a line without a colon,
// which is not a header field and is never selected by h=.
func (h *dkimHeader) name(i int) []byte {
	f := h.fields[i]
	if f.colon < 0 {
		return nil
	}
	return h.buf[f.start:f.nameEnd]
}

// value is the text after the colon, without the final CRLF.
func (h *dkimHeader) value(i int) []byte {
	f := h.fields[i]
	if f.colon < 0 {
		return nil
	}
	return h.buf[f.colon+1 : f.end-2]
}

// readDKIMHeader reads the header section up to and including the
// empty line that ends it. eof reports that the input ended first (a
// message without body; a last line without newline counts as
// complete). The reader's errors, and a header section over
// DKIMMaxHeaderBytes, are returned as they are.
func readDKIMHeader(br *bufio.Reader) (h *dkimHeader, eof bool, err error) {
	h = &dkimHeader{buf: make([]byte, 0, 4096)}
	lineStart := 0
	for {
		chunk, err := br.ReadSlice('\n')
		if len(h.buf)+len(chunk) > DKIMMaxHeaderBytes {
			return nil, false, ErrDKIMHeaderTooLarge
		}
		h.buf = append(h.buf, chunk...)
		switch {
		case err == nil:
		case errors.Is(err, bufio.ErrBufferFull):
			continue // a long line: keep reading it
		case errors.Is(err, io.EOF):
			if len(h.buf) > lineStart {
				h.buf = append(h.buf, '\r', '\n')
				h.addLine(lineStart)
			}
			return h, true, nil
		default:
			return nil, false, err
		}
		if n := len(h.buf); n-lineStart < 2 || h.buf[n-2] != '\r' {
			h.buf = append(h.buf[:n-1], '\r', '\n')
		}
		if len(h.buf)-lineStart == 2 { // the empty line ending the header
			h.buf = h.buf[:lineStart]
			return h, false, nil
		}
		h.addLine(lineStart)
		lineStart = len(h.buf)
	}
}

// addLine files the line buf[start:] as a new field or a continuation.
func (h *dkimHeader) addLine(start int) {
	end := len(h.buf)
	if c := h.buf[start]; (c == ' ' || c == '\t') && len(h.fields) > 0 {
		h.fields[len(h.fields)-1].end = end
		return
	}
	f := dkimField{start: start, end: end, colon: -1}
	if i := bytes.IndexByte(h.buf[start:end], ':'); i >= 0 {
		f.colon = start + i
		f.nameEnd = f.colon
		for f.nameEnd > start && isDKIMWSP(h.buf[f.nameEnd-1]) {
			f.nameEnd--
		}
	}
	h.fields = append(h.fields, f)
}
