package smtpd

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// Whatever a caller passes, reply writes 7-bit printable lines of at
// most 512 octets: the one place replies are made safe.
func TestReplySanitises(t *testing.T) {
	var out bytes.Buffer
	s := &session{w: bufio.NewWriter(&out)}
	s.reply(550, "5.7.1", "Rejected for \u202eevil\u0085.test\xff\x00\r\tend\nsecond "+strings.Repeat("y", 3000))
	s.reply(250, "", strings.Repeat("z", 600))
	s.w.Flush()
	want := "550-5.7.1 Rejected for ?evil?.test??? end\r\n"
	lines := strings.SplitAfter(out.String(), "\r\n")
	if lines[0] != want {
		t.Errorf("first line %q, want %q", lines[0], want)
	}
	if !strings.HasPrefix(lines[1], "550 5.7.1 second yyy") || len(lines[1]) != 512 {
		t.Errorf("second line: %d octets %.40q", len(lines[1]), lines[1])
	}
	if !strings.HasPrefix(lines[2], "250 zzz") || len(lines[2]) != 512 {
		t.Errorf("third line: %d octets", len(lines[2]))
	}
	// The wire form prdr.Respond produces goes through the same filter.
	out.Reset()
	s.writeWire([]byte("353 PRDR\r\n550 5.7.1 <b@x> \u202e\xff\r\n250 " + strings.Repeat("w", 700) + "\r\n"))
	s.w.Flush()
	got := strings.SplitAfter(out.String(), "\r\n")
	if len(got) != 4 || got[0] != "353 PRDR\r\n" || got[1] != "550 5.7.1 <b@x> ??\r\n" || len(got[2]) != 512 || got[3] != "" {
		t.Errorf("wire %q", got)
	}
}

// FuzzReadLine checks the line framing against a model: the input is a
// sequence of lines each ended by the first CRLF; a line with any other
// CR or LF is bare, one over the limit too long, and what is left after
// the last CRLF ends in io.EOF. A tiny read buffer makes CRLFs straddle
// chunks.
func FuzzReadLine(f *testing.F) {
	for _, s := range []string{"a\r\n.\r\n", "a\n.\nb\r\n", "a\r.\r\n", "\r\r\n\n\r\n", strings.Repeat("x", 40) + "\r\n", "abc\r"} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, in []byte, size uint8) {
		const limit = 24
		p1, p2 := net.Pipe()
		defer p1.Close()
		defer p2.Close()
		s := &session{
			srv:  &Server{cfg: Config{ReadTimeout: time.Minute}},
			conn: p1,
			r:    bufio.NewReaderSize(bytes.NewReader(in), 16+int(size%16)),
			w:    bufio.NewWriter(io.Discard),
		}
		rest := in
		for {
			got, err := s.readLine(limit)
			i := bytes.Index(rest, []byte("\r\n"))
			if i < 0 {
				if err != io.EOF {
					t.Fatalf("%q: after the last CRLF got %q %v, want EOF", in, got, err)
				}
				return
			}
			line := rest[:i]
			rest = rest[i+2:]
			var want error
			switch {
			case bytes.IndexByte(line, '\n') >= 0:
				want = errBareLF
			case bytes.IndexByte(line, '\r') >= 0:
				want = errBareCR
			case len(line)+2 > limit:
				want = errLineTooLong
			}
			if err != want || want == nil && !bytes.Equal(got, line) {
				t.Fatalf("%q: line %q: got %q %v, want %v", in, line, got, err, want)
			}
		}
	})
}
