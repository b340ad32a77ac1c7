package dkim

import (
	"bytes"
	"encoding/binary"
	"hash"
)

// Canonicalization (RFC 6376 §3.4).
//
// Header fields are canonicalized per signature from the stored header
// (appendRelaxedHeader; simple is the field as is). The body is
// canonicalized as it streams past, once per canonicalization, and the
// canonical octets are fanned out to every body hash that needs them
// (bodyCanon and bodyHash): each distinct (canonicalization,
// hash, l=) is computed once however many signatures share it.
//
// Line ends: LF alone is read as CRLF (see headerSection); a CR that is
// not followed by LF is an ordinary octet of the line.

// appendRelaxedHeader appends the relaxed form of one header field
// (name, colon at index colon, value, final CRLF) to dst: name in lower
// case, no whitespace around the colon, continuation lines unfolded,
// each run of whitespace one space, none at the end, then CRLF.
func appendRelaxedHeader(dst, field []byte, colon int) []byte {
	name := field[:colon]
	for len(name) > 0 && isWSP(name[len(name)-1]) {
		name = name[:len(name)-1]
	}
	for _, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	dst = append(dst, ':')
	value := field[colon+1:]
	wsp, started := false, false
	for i := 0; i < len(value); i++ {
		c := value[i]
		switch {
		case c == '\r' && i+1 < len(value) && value[i+1] == '\n':
			i++ // unfold (and drop the final CRLF)
		case c == ' ' || c == '\t':
			wsp = true
		default:
			if wsp && started {
				dst = append(dst, ' ')
			}
			wsp, started = false, true
			dst = append(dst, c)
		}
	}
	return append(dst, '\r', '\n')
}

// bodyHash is one body hash being computed: a canonicalization, a
// hash algorithm and an l= limit (-1 for the whole body).
type bodyHash struct {
	relaxed  bool
	hashName string
	limit    int64
	h        hash.Hash
	hashed   int64 // octets written to h
	sum      []byte
}

// bodyCanon canonicalizes the body for one canonicalization as it
// is read, chunk by chunk, and writes the result to its hashes.
//
// Lines that need no change (for relaxed: no tab, no double space, no
// trailing space; for simple: any non-empty line) are passed on as runs
// of the input chunk, so that a typical body reaches the hashes in a few
// large writes; the others are rewritten piece by piece into a small
// buffer. Empty lines are held back until a non-empty line shows they
// are not at the end of the body.
type bodyCanon struct {
	relaxed bool
	hashes  []*bodyHash
	total   int64 // canonical body length so far

	pendEmpty int64 // empty lines held back
	lineOpen  bool  // the current line has had content
	wsp       bool  // relaxed: whitespace seen and not yet written
	cr        bool  // the previous chunk ended with CR

	// The current chunk and the run of it not yet written; pendAt is
	// where the held-back empty lines end when they are plain CRLFs
	// right after the run, so the run can simply grow over them (-1
	// otherwise).
	chunk            []byte
	runStart, runEnd int
	pendAt           int

	out   []byte   // canonical octets not yet hashed (see emit)
	crlfs [64]byte // CRLF CRLF ...; crlfs[:1] is a CR
	sp    [1]byte  // the SP a relaxed whitespace run becomes
}

func newBodyCanon(relaxed bool) *bodyCanon {
	c := &bodyCanon{relaxed: relaxed, pendAt: -1, sp: [1]byte{' '}, out: make([]byte, 0, canonBuffer)}
	for i := 0; i < len(c.crlfs); i += 2 {
		c.crlfs[i], c.crlfs[i+1] = '\r', '\n'
	}
	return c
}

// canonBuffer is the size of the buffer that collects canonical
// octets before they go to the hashes, so that a line rewritten piece
// by piece does not cost a hash write per piece.
const canonBuffer = 4 << 10

// emit passes canonical octets on: large runs of the input straight to
// the hashes, anything else through the buffer.
func (c *bodyCanon) emit(b []byte) {
	if len(b) == 0 {
		return
	}
	c.total += int64(len(b))
	if len(b) >= canonBuffer/2 {
		c.flushOut()
		c.hash(b)
		return
	}
	if len(c.out)+len(b) > cap(c.out) {
		c.flushOut()
	}
	c.out = append(c.out, b...)
}

func (c *bodyCanon) flushOut() {
	c.hash(c.out)
	c.out = c.out[:0]
}

// hash writes canonical octets to every hash, each up to its limit.
func (c *bodyCanon) hash(b []byte) {
	if len(b) == 0 {
		return
	}
	for _, h := range c.hashes {
		w := b
		if h.limit >= 0 {
			rem := h.limit - h.hashed
			if rem <= 0 {
				continue
			}
			if int64(len(w)) > rem {
				w = w[:rem]
			}
		}
		h.h.Write(w)
		h.hashed += int64(len(w))
	}
}

func (c *bodyCanon) emitCRLFs(n int64) {
	for n > 0 {
		k := min(n, int64(len(c.crlfs)/2))
		c.emit(c.crlfs[:2*k])
		n -= k
	}
}

func (c *bodyCanon) flushRun() {
	c.emit(c.chunk[c.runStart:c.runEnd])
	c.runStart = c.runEnd
}

// content is called before content octets are written: the held-back
// empty lines turn out not to be at the end.
func (c *bodyCanon) content() {
	if c.pendEmpty > 0 {
		c.emitCRLFs(c.pendEmpty)
		c.pendEmpty, c.pendAt = 0, -1
	}
}

// write canonicalizes the next chunk of the body. Chunks may split
// lines anywhere; the feeder cuts after a LF when it can, so that most
// lines take the fast path.
func (c *bodyCanon) write(chunk []byte) {
	c.chunk, c.runStart, c.runEnd, c.pendAt = chunk, 0, 0, -1
	i := 0
	if c.cr && len(chunk) > 0 {
		c.cr = false
		if chunk[0] == '\n' {
			c.endLine()
			i = 1
		} else {
			c.octets(c.crlfs[:1]) // the CR was content
		}
		c.runStart, c.runEnd = i, i
	}
	for i < len(chunk) {
		nl := bytes.IndexByte(chunk[i:], '\n')
		if nl < 0 {
			seg := chunk[i:]
			if seg[len(seg)-1] == '\r' {
				c.cr = true
				seg = seg[:len(seg)-1]
			}
			c.flushRun()
			c.octets(seg)
			break
		}
		e := i + nl // the LF
		le, crlf := e, e > i && chunk[e-1] == '\r'
		if crlf {
			le--
		}
		if !c.lineOpen && !c.wsp && crlf {
			if le == i { // an empty line, CRLF as it should be
				if (c.pendEmpty == 0 && i == c.runEnd) || (c.pendEmpty > 0 && c.pendAt == i) {
					c.pendAt = e + 1
				} else {
					c.pendAt = -1
				}
				c.pendEmpty++
				i = e + 1
				continue
			}
			if !c.relaxed || cleanRelaxedLine(chunk[i:le]) {
				if c.pendEmpty > 0 {
					if c.pendAt == i {
						c.runEnd = i // the run grows over the empty lines
						c.pendEmpty, c.pendAt = 0, -1
					} else {
						c.flushRun()
						c.content()
						c.runStart, c.runEnd = i, i
					}
				}
				if c.runEnd != i {
					c.flushRun()
					c.runStart = i
				}
				c.runEnd = e + 1
				i = e + 1
				continue
			}
		}
		c.flushRun()
		c.octets(chunk[i:le])
		c.endLine()
		i = e + 1
		c.runStart, c.runEnd = i, i
	}
	c.flushRun()
	c.chunk = nil
}

// cleanRelaxedLine reports whether relaxed canonicalization leaves
// a line (without its CRLF) unchanged: no tab, no two spaces in a row,
// no space at the end. It looks at eight octets at a time.
func cleanRelaxedLine(line []byte) bool {
	if line[len(line)-1] == ' ' {
		return false
	}
	const lo = 0x0101010101010101
	var prev uint64 // 1 when the previous octet was a space
	i := 0
	for ; i+8 <= len(line); i += 8 {
		w := binary.LittleEndian.Uint64(line[i:])
		sp := zeroOctets(w ^ (' ' * lo)) // bit 8k+7 set when octet k is a space
		if zeroOctets(w^('\t'*lo)) != 0 || sp&(sp<<8) != 0 || (sp&0x80 != 0 && prev != 0) {
			return false
		}
		prev = sp >> 63
	}
	for ; i < len(line); i++ {
		switch line[i] {
		case '\t':
			return false
		case ' ':
			if prev != 0 {
				return false
			}
			prev = 1
		default:
			prev = 0
		}
	}
	return true
}

// zeroOctets has the high bit of each octet of x that is zero set, and
// no other bit.
func zeroOctets(x uint64) uint64 {
	const low7 = 0x7f7f7f7f7f7f7f7f
	return ^((x&low7 + low7) | x | low7)
}

// octets canonicalizes part of a line (without line end).
func (c *bodyCanon) octets(b []byte) {
	if !c.relaxed {
		if len(b) > 0 {
			c.content()
			c.emit(b)
			c.lineOpen = true
		}
		return
	}
	for i := 0; i < len(b); {
		if b[i] == ' ' || b[i] == '\t' {
			c.wsp = true
			i++
			continue
		}
		// The longest piece from i that relaxed leaves alone: it ends
		// at a tab, at a space followed by whitespace, or at a space
		// that ends b (which may be trailing whitespace).
		j := i + 1
		for ; j < len(b); j++ {
			if ch := b[j]; ch == '\t' || ch == ' ' && (j+1 == len(b) || b[j+1] == ' ' || b[j+1] == '\t') {
				break
			}
		}
		c.content()
		if c.wsp {
			c.emit(c.sp[:])
			c.wsp = false
		}
		c.emit(b[i:j])
		c.lineOpen = true
		i = j
	}
}

// endLine ends a line that did not take the fast path.
func (c *bodyCanon) endLine() {
	if c.lineOpen {
		c.emit(c.crlfs[:2])
		c.lineOpen = false
	} else {
		c.pendEmpty++
		c.pendAt = -1
	}
	c.wsp = false
}

// finish ends the body: a last line without CRLF gets one, empty lines
// at the end are dropped, and an empty body is CRLF for simple and
// nothing for relaxed (RFC 6376 §3.4.3, §3.4.4). It then computes the
// hashes.
func (c *bodyCanon) finish() {
	if c.cr {
		c.cr = false
		c.octets(c.crlfs[:1])
	}
	if c.lineOpen {
		c.emit(c.crlfs[:2])
		c.lineOpen = false
	}
	if !c.relaxed && c.total == 0 {
		c.emit(c.crlfs[:2])
	}
	c.flushOut()
	for _, h := range c.hashes {
		h.sum = h.h.Sum(nil)
	}
}
