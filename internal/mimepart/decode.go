package mimepart

import (
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
)

// Decode undoes the transfer encoding cte (a Content-Transfer-Encoding
// value) of body as it is read: base64 ignoring every byte outside its
// alphabet and padding (line breaks, stray blanks), as mail readers
// do, or quoted-printable. Any other value leaves body as it is.
func Decode(cte string, body io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &base64Filter{r: body})
	case "quoted-printable":
		return quotedprintable.NewReader(body)
	}
	return body
}

// Filename is the name a part is sent under: its Content-Disposition
// filename, else its Content-Type name; "" when it has neither.
func Filename(h textproto.MIMEHeader) string {
	if _, p, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil && p["filename"] != "" {
		return p["filename"]
	}
	if _, p, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil {
		return p["name"]
	}
	return ""
}

// base64Filter passes only the base64 alphabet and padding.
type base64Filter struct{ r io.Reader }

func (f *base64Filter) Read(p []byte) (int, error) {
	for {
		n, err := f.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			if j > 0 && errors.Is(err, io.EOF) {
				err = nil
			}
			return j, err
		}
	}
}
