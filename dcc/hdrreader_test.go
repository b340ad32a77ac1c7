package dcc_test

import (
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/dcc"
)

// $dcc_header is read by internal/header, the reader DKIM and DMARC
// use, from the first field alone: dccifd may send the whole message
// after it, and a header section past the shared reader's 1 MiB bound
// must not cost the X-DCC field.
func TestParseReplyHeaderSharedReader(t *testing.T) {
	big := strings.Repeat("Received: from x by y\n", 100000) // 2.2 MB
	for _, tt := range []struct{ name, payload, want string }{
		{"whole message after it", "X-DCC-x-Metrics: h 1; Body=1\n\t Fuz1=2\n" + big + "\nbody\n", "X-DCC-x-Metrics: h 1; Body=1 Fuz1=2\n"},
		// A CR just before the end is a CRLF cut short, as header
		// reads it everywhere; no CR reaches the result.
		{"CR at the end", "X-DCC-x-Metrics: h 1\r", "X-DCC-x-Metrics: h 1\n"},
		{"CRLF in a fold", "X-DCC-x-Metrics: h\r\n 1\r\n", "X-DCC-x-Metrics: h 1\n"},
		{"bare CR before CRLF", "X-DCC-x-Metrics: h\r\r\n 1\n", ""},
		{"space before the colon", "X-DCC-x-Metrics : h 1\n", ""},
		{"NUL", "X-DCC-x-Metrics: h\x00 1\n", ""},
		{"bare CR in a fold", "X-DCC-x-Metrics: h\n 1\rBcc: x@y\n", ""},
	} {
		res, err := dcc.ParseReply([]byte("A\n\n"+tt.payload), 0, 0)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if res.Header != tt.want {
			t.Errorf("%s: Header %q, want %q", tt.name, res.Header, tt.want)
		}
	}
}
