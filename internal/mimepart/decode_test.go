package mimepart

import (
	"io"
	"net/textproto"
	"strings"
	"testing"
	"testing/iotest"
)

func TestDecode(t *testing.T) {
	for _, c := range []struct{ cte, in, want string }{
		{"base64", "aGVs\r\nbG8g\r\n d29y bGQ=\r\n", "hello world"},
		{" Base64 ", "aGVsbG8=", "hello"},
		{"base64", "aGVs\x00bG8=", "hello"}, // a byte outside the alphabet is skipped
		{"quoted-printable", "caf=C3=A9 =\r\nau lait", "café au lait"},
		{"7bit", "as =41 is", "as =41 is"},
		{"", "plain", "plain"},
	} {
		// One byte per Read: the filter must not lose state between reads.
		got, err := io.ReadAll(Decode(c.cte, iotest.OneByteReader(strings.NewReader(c.in))))
		if err != nil || string(got) != c.want {
			t.Errorf("Decode(%q, %q) = %q, %v; want %q", c.cte, c.in, got, err, c.want)
		}
	}
	if _, err := io.ReadAll(Decode("base64", strings.NewReader("aGVsbG8"))); err == nil {
		t.Error("truncated base64 decoded without an error")
	}
}

func TestFilename(t *testing.T) {
	for _, c := range []struct {
		h    textproto.MIMEHeader
		want string
	}{
		{textproto.MIMEHeader{"Content-Disposition": {`attachment; filename="r.json.gz"`}, "Content-Type": {"application/gzip; name=other.gz"}}, "r.json.gz"},
		{textproto.MIMEHeader{"Content-Type": {"application/gzip; name=x.xml.gz"}}, "x.xml.gz"},
		{textproto.MIMEHeader{"Content-Disposition": {"attachment"}, "Content-Type": {"application/zip; name=a.zip"}}, "a.zip"},
		{textproto.MIMEHeader{"Content-Type": {"text/plain"}}, ""},
		{textproto.MIMEHeader{"Content-Type": {"broken; ;="}}, ""},
	} {
		if got := Filename(c.h); got != c.want {
			t.Errorf("Filename(%v) = %q, want %q", c.h, got, c.want)
		}
	}
}
