package dcc_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/dcc"
)

// FuzzParseReply checks that any reply either parses into a consistent
// Result or gives a *ReplyError, and that $dcc_header is always safe
// to add to a message header.
func FuzzParseReply(f *testing.F) {
	f.Add([]byte("A\nAA\n"+notesHeader+"\n"), 2, 0)
	f.Add([]byte("S\nAR\r\n"), 2, 0)
	f.Add([]byte("T\n"), 3, 0)
	f.Add([]byte("G\nG\nX-DCC-x-Metrics: h 1;\n\tBody=1\n"), 1, 30)
	f.Add([]byte("X\n"), 0, 0)
	f.Add([]byte(""), 0, 0)
	f.Fuzz(func(t *testing.T, reply []byte, nrcpt, max int) {
		nrcpt &= 0xff
		res, err := dcc.ParseReply(reply, nrcpt, max)
		if err != nil {
			var re *dcc.ReplyError
			if !errors.As(err, &re) || res != nil {
				t.Fatalf("got %v, %v", res, err)
			}
			return
		}
		switch res.DCCResult {
		case "A":
			if res.Outcome != dcc.OK || (res.Letter != 'A' && res.Letter != 'S') {
				t.Fatalf("%+v", res)
			}
		case "R", "G":
			if res.Outcome != dcc.Fail || string(res.Letter) != res.DCCResult {
				t.Fatalf("%+v", res)
			}
		case "T":
			if res.Outcome != dcc.Defer || res.Letter != 'T' {
				t.Fatalf("%+v", res)
			}
		default:
			t.Fatalf("DCCResult %q", res.DCCResult)
		}
		if len(res.Recipients) != nrcpt && !(res.Letter == 'T' && len(res.Recipients) == 0) {
			t.Fatalf("%d recipient results for %d", len(res.Recipients), nrcpt)
		}
		for _, c := range res.Recipients {
			if c != 'A' && c != 'R' && c != 'G' {
				t.Fatalf("recipient letter %q", c)
			}
		}
		h := res.Header
		if h == "" {
			return
		}
		if !strings.HasPrefix(h, "X-DCC") || !strings.HasSuffix(h, "\n") {
			t.Fatalf("Header %q", h)
		}
		limit := max
		if limit <= 0 {
			limit = dcc.DefaultMaxHeader
		}
		unfolded := strings.ReplaceAll(strings.TrimSuffix(h, "\n"), "\n\t", " ")
		if len(unfolded) > limit {
			t.Fatalf("header of %d bytes over %d: %q", len(unfolded), limit, h)
		}
		for i, line := range strings.Split(strings.TrimSuffix(h, "\n"), "\n") {
			if i > 0 && !strings.HasPrefix(line, "\t") {
				t.Fatalf("continuation line %q", line)
			}
			if strings.TrimSpace(line) == "" {
				t.Fatalf("blank line in %q", h)
			}
			for j := 0; j < len(line); j++ {
				if c := line[j]; (c < 0x20 && c != '\t') || c > 0x7e {
					t.Fatalf("byte %#x in %q", c, h)
				}
			}
		}
	})
}
