package dmarc

import (
	"bytes"
	"testing"

	"github.com/mailpolicy/mailpolicy/internal/header"
)

// The report carries the received header section exactly as the
// shared header reader (the one DKIM and the From discovery use) reads
// it, whatever its lines hold, so a report can never show fields the
// verdict did not see or hide one it did.
func TestForensicHeaderSharedReader(t *testing.T) {
	for name, hdr := range map[string]string{
		"NUL line":           "From: a@example.com\n\x00\nSubject: x\n\nbody\n",
		"bare CR":            "From: a@example.com\rBcc: b@example.net\nTo: c@example.org\n\nbody\n",
		"no colon":           "junk line\nFrom: a@example.com\n\nbody\n",
		"leading fold":       " Received: x\nFrom: a@example.com\n\nbody\n",
		"space before colon": "From : a@example.com\nTo: c@example.org\n\nbody\n",
		"8-bit name":         "Fr\xc3\xb6m: a@example.com\nFrom: b@example.com\n\n",
		// A CR just before the end is a CRLF cut short, as
		// header.Read takes it for the From discovery; it was copied
		// into the report as a bare CR.
		"CR at the end": "From: a@example.com\nSubject: x\r",
	} {
		t.Run(name, func(t *testing.T) {
			s, _, err := header.Parse([]byte(hdr), header.Options{})
			if err != nil {
				t.Fatal(err)
			}
			in, o, opts := forensicFixture()
			r, err := ForensicReports(in, o, []byte(hdr), opts...)
			if err != nil || len(r) == 0 {
				t.Fatalf("ForensicReports: %v %v", r, err)
			}
			forensicLines(t, r[0].Message)
			_, _, bodies := forensicParts(t, r[0].Message)
			if !bytes.Equal(bodies[2], s.Buf) {
				t.Errorf("part 3 %q, want %q", bodies[2], s.Buf)
			}
			var main []byte
			for i := range s.Fields {
				for _, n := range []string{"From", "Sender", "To", "Cc", "Date", "Subject", "Message-ID"} {
					if s.Name(i) != nil && header.EqualFold(s.Name(i), n) && s.Raw(i)[0] != ' ' {
						main = append(main, s.Raw(i)...)
					}
				}
			}
			if got := forensicMain([]byte(hdr)); !bytes.Equal(got, main) {
				t.Errorf("main fields %q, want %q", got, main)
			}
		})
	}
}
