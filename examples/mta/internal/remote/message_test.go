package remote

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/smtp"
)

// SIZE= counts the message as smtp.DataWriter sends it (line ends as
// CRLF, before dot-stuffing), whatever line ends the spool holds.
func TestCRLFSize(t *testing.T) {
	for _, s := range []string{"", "a", "a\r\n", "a\n", "a\nb\n", "a\rb", "a\r", "a\r\n\r\n.dot\n", "\n\n\r\r", strings.Repeat("x\n", 40000)} {
		var b bytes.Buffer
		w := smtp.NewDataWriter(&b)
		w.Write([]byte(s))
		w.Close()
		stuffed := int64(strings.Count("\n"+strings.ReplaceAll(s, "\r", "\n"), "\n.")) // dots added
		want := int64(b.Len()) - 3 - stuffed                                           // without ".\r\n"
		if s == "" {
			want = 0
		}
		if got, err := crlfSize(strings.NewReader(s)); err != nil || got != want {
			t.Errorf("crlfSize(%.20q) = %d, %v; want %d", s, got, err, want)
		}
	}
}

// FuzzCRLFSize: SIZE= is what smtp.DataWriter sends, less its
// dot-stuffing and final dot, for any content.
func FuzzCRLFSize(f *testing.F) {
	f.Add([]byte("a\nb\r\n.c\rd"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var out bytes.Buffer
		w := smtp.NewDataWriter(&out)
		w.Write(b)
		w.Close()
		sent := out.Bytes()
		sent = sent[:len(sent)-3] // ".\r\n"
		unstuffed := int64(len(sent)) - int64(bytes.Count(append([]byte("\n"), sent...), []byte("\n.")))
		got, err := crlfSize(bytes.NewReader(b))
		if err != nil || got != unstuffed {
			t.Fatalf("crlfSize(%q) = %d, %v; want %d", b, got, err, unstuffed)
		}
	})
}
