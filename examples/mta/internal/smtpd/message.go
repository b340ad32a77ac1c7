package smtpd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mailpolicy/mailpolicy/authres"
)

// Buffers of a message in flight, charged to the memory budget: the
// write buffer in front of its file, and its header section, which
// starts small and doubles up to Config.MaxHeaderSize.
const (
	dataWriteBuf  = 32 << 10
	headerInitial = 4 << 10
)

// msgFile is one message being received. Its octets go, dot-unstuffed
// and with LF line ends (the form of Exim's spool and of Maildir), to
// a temporary file that is unlinked as soon as it is created: a crash
// leaves nothing behind, and copies are made from the open file. The
// header section is also kept in memory, bounded by maxHdr, for the
// checks that need only it and for the fields we remove.
//
// LF rather than CRLF: every accepted message ends its lines with CRLF
// (a bare CR or LF refuses it), so dropping the CRs loses nothing, and
// the copies that stay on this host are then made in the kernel
// (copy_file_range) without a pass over the body. The SMTP client and
// the DKIM code read LF as CRLF.
type msgFile struct {
	f      *os.File
	w      *bufio.Writer
	budget *memBudget
	held   int64 // reserved: the write buffer and cap(hdr)
	maxHdr int

	hdr       []byte // header fields, LF, without the blank line
	inHdr     bool   // still in the header section
	lineStart bool   // the last octet written was a LF (or none yet)
	hdrCap    int    // capacity reserved for hdr
	bodyOff   int64  // where the body starts in f; -1: no blank line yet
	size      int64  // octets written to f
	last      byte   // the last octet written
	lines     int64  // LFs written
	hdrLines  int64  // LFs up to the body (the empty line's too)
	err       error  // the first write error
}

// newMsgFile creates the unlinked file in dir ("" is os.TempDir) and
// reserves its buffers; nil, nil when the budget has no room.
func newMsgFile(dir string, budget *memBudget, maxHdr int) (*msgFile, error) {
	if !budget.reserve(dataWriteBuf + headerInitial) {
		return nil, nil
	}
	f, err := os.CreateTemp(dir, "rx-")
	if err != nil {
		budget.release(dataWriteBuf + headerInitial)
		return nil, fmt.Errorf("message file: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		budget.release(dataWriteBuf + headerInitial)
		return nil, fmt.Errorf("message file: %w", err)
	}
	return &msgFile{f: f, w: bufio.NewWriterSize(f, dataWriteBuf), budget: budget,
		held: dataWriteBuf + headerInitial, hdrCap: headerInitial, maxHdr: maxHdr,
		hdr: make([]byte, 0, headerInitial), inHdr: true, lineStart: true, bodyOff: -1}, nil
}

// appendLine adds a line read by DATA (without its CRLF) and a LF.
func (m *msgFile) appendLine(line []byte) dataProblem {
	if p := m.put(line); p != dataOK {
		return p
	}
	return m.put(lf)
}

var lf = []byte("\n")

// appendRaw adds BDAT octets, CRLF line ends: every CR is dropped. A
// CR that was not part of a CRLF refuses the message (the chunk scan
// notes it), so what is kept of an accepted message is exact.
func (m *msgFile) appendRaw(b []byte) dataProblem {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\r')
		if i < 0 {
			return m.put(b)
		}
		if p := m.put(b[:i]); p != dataOK {
			return p
		}
		b = b[i+1:]
	}
	return dataOK
}

// put writes b (LF line ends), keeping a copy of what belongs to the
// header section.
func (m *msgFile) put(b []byte) dataProblem {
	if m.err != nil {
		return dataNoSpace
	}
	for m.inHdr && len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if p := m.addHdr(b); p != dataOK {
				return p
			}
			m.lineStart = false
			return m.write(b)
		}
		line := b[:i+1]
		if m.lineStart && i == 0 {
			// The empty line: the body starts after it.
			m.inHdr = false
			m.bodyOff = m.size + 1
			m.hdrLines = m.lines + 1
		} else if p := m.addHdr(line); p != dataOK {
			return p
		}
		m.lineStart = true
		if p := m.write(line); p != dataOK {
			return p
		}
		b = b[i+1:]
	}
	if len(b) == 0 {
		return dataOK
	}
	return m.write(b)
}

func (m *msgFile) write(b []byte) dataProblem {
	n, err := m.w.Write(b)
	m.size += int64(n)
	if n > 0 {
		m.last = b[n-1]
		m.lines += int64(bytes.Count(b[:n], lf))
	}
	if err != nil {
		m.err = err
		return dataNoSpace
	}
	return dataOK
}

// addHdr keeps b in the header copy, growing it within maxHdr and the
// budget.
func (m *msgFile) addHdr(b []byte) dataProblem {
	need := len(m.hdr) + len(b)
	if need > m.maxHdr {
		return dataHeaderTooBig
	}
	if need > m.hdrCap {
		n := min(max(2*m.hdrCap, need), m.maxHdr)
		// Old and new buffer both exist during the copy.
		if !m.budget.reserve(int64(n)) {
			return dataNoMemory
		}
		nb := make([]byte, len(m.hdr), n)
		copy(nb, m.hdr)
		m.hdr = nb
		m.budget.release(int64(m.hdrCap))
		m.held += int64(n - m.hdrCap)
		m.hdrCap = n
	}
	m.hdr = append(m.hdr, b...)
	return dataOK
}

// finish flushes the file; the message is then complete. A message
// without an empty line is all header and has no body.
func (m *msgFile) finish() error {
	if m.err == nil {
		m.err = m.w.Flush()
	}
	if m.bodyOff < 0 {
		m.bodyOff = m.size
	}
	if m.err != nil {
		return fmt.Errorf("message file: %w", m.err)
	}
	return nil
}

// endsLF reports whether the last octet written is a LF.
func (m *msgFile) endsLF() bool { return m.last == '\n' }

// release closes the file and gives the memory back; safe to call more
// than once, and on nil.
func (m *msgFile) release() {
	if m == nil || m.f == nil {
		return
	}
	m.f.Close()
	m.budget.release(m.held)
	*m = msgFile{}
}

// removeOwnAR removes the header copy's Authentication-Results fields
// that claim authservID (authres.RemoveOwn, RFC 8601 §5) and returns
// how many went. The file keeps the message as received.
func (m *msgFile) removeOwnAR(authservID string) int {
	hdr, n := authres.RemoveOwn(m.hdr, authservID)
	if n > 0 {
		m.hdr = append(m.hdr[:0], hdr...)
	}
	return n
}

// Message is a received message as the Backend gets it: dot-unstuffed,
// with LF line ends, in a file (never whole in memory) and with its
// header section in memory. It is valid until Data returns; it is not
// safe for concurrent use (copies share the file's offset).
type Message struct {
	m *msgFile
	// PRDR says the replies are per recipient (RFC PRDR draft): the
	// client asked for it and there is more than one recipient. Without
	// it a temporary refusal of any recipient should defer the whole
	// message, or a retry duplicates what was delivered.
	PRDR bool
}

// Size is the message's size as stored, in octets (LF line ends).
func (m *Message) Size() int64 { return m.m.size }

// Header is the header section (the fields, LF line ends, without the
// empty line that ends it), as RemoveOwnAR left it. The slice is the
// Message's own: do not change it.
func (m *Message) Header() []byte { return m.m.hdr }

// Reader reads the whole message as received (RemoveOwnAR does not
// change it), from the file.
func (m *Message) Reader() *io.SectionReader { return io.NewSectionReader(m.m.f, 0, m.m.size) }

// Body reads the body, after the empty line (empty when there is none).
func (m *Message) Body() *io.SectionReader {
	return io.NewSectionReader(m.m.f, m.m.bodyOff, m.m.size-m.m.bodyOff)
}

// RemoveOwnAR removes the Authentication-Results fields that claim
// authservID (authres.RemoveOwn) from the header copies make, and
// returns how many went.
func (m *Message) RemoveOwnAR(authservID string) int { return m.m.removeOwnAR(authservID) }

// WireSize is the size of Copy(prefix) with CRLF line ends, as it goes
// out by SMTP (before dot-stuffing): SIZE= for a relayed copy.
func (m *Message) WireSize(prefix string) int64 {
	f := m.m
	n := int64(len(prefix)+strings.Count(prefix, "\n")) + int64(len(f.hdr)+bytes.Count(f.hdr, lf))
	if !f.inHdr {
		n += 2 + (f.size - f.bodyOff) + (f.lines - f.hdrLines)
	}
	return n
}

// Copy is the message as stored: prefix (fields of ours, LF line ends),
// the header section as it is now, the empty line and the body. Its
// WriteTo copies the body in the kernel when it writes to an *os.File.
func (m *Message) Copy(prefix string) io.WriterTo { return &msgCopy{m: m.m, prefix: prefix} }

type msgCopy struct {
	m      *msgFile
	prefix string
}

// WriteTo writes the copy to w. The body is read through the file's
// offset, so os.File.ReadFrom can use copy_file_range.
func (c *msgCopy) WriteTo(w io.Writer) (int64, error) {
	m := c.m
	if m.f == nil {
		return 0, errors.New("message released")
	}
	hasBody := !m.inHdr // the empty line was seen
	head := make([]byte, 0, len(c.prefix)+len(m.hdr)+1)
	head = append(append(head, c.prefix...), m.hdr...)
	if hasBody {
		head = append(head, '\n')
	}
	n, err := w.Write(head)
	total := int64(n)
	if err != nil {
		return total, err
	}
	body := m.size - m.bodyOff
	if body <= 0 {
		return total, nil
	}
	if _, err := m.f.Seek(m.bodyOff, io.SeekStart); err != nil {
		return total, err
	}
	k, err := io.Copy(w, &io.LimitedReader{R: m.f, N: body})
	total += k
	if err == nil && k < body {
		err = io.ErrUnexpectedEOF
	}
	return total, err
}
