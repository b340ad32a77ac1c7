package dsninfo

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchSample is a typical bounce: Postfix-style multipart/report with
// text, delivery-status and returned header parts.
const benchSample = "rfc3464-28.eml"

func BenchmarkCompose(b *testing.B) {
	r := fullReport()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compose(r); err != nil {
			b.Fatal(err)
		}
	}
}

func benchMessage(b *testing.B) []byte {
	msg, err := os.ReadFile(filepath.Join(sampleDir, benchSample))
	if err != nil {
		b.Fatal(err)
	}
	// Only the first message of the mbox pair, without the "From " line.
	s := string(msg)
	s = s[strings.IndexByte(s, '\n')+1:]
	if i := strings.Index(s, "\nFrom MAILER-DAEMON"); i >= 0 {
		s = s[:i+1]
	}
	return []byte(s)
}

func BenchmarkParse(b *testing.B) {
	msg := benchMessage(b)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(msg)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseStdlib is the baseline: the least the standard library
// needs to read the same message: net/mail for the header,
// mime/multipart for the parts, and net/textproto for the
// delivery-status part's field blocks.
func BenchmarkParseStdlib(b *testing.B) {
	msg := benchMessage(b)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := mail.ReadMessage(bytes.NewReader(msg))
		if err != nil {
			b.Fatal(err)
		}
		_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
		if err != nil {
			b.Fatal(err)
		}
		mr := multipart.NewReader(m.Body, params["boundary"])
		n := 0
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if strings.HasPrefix(p.Header.Get("Content-Type"), "message/delivery-status") {
				tr := textproto.NewReader(bufio.NewReader(p))
				for {
					h, err := tr.ReadMIMEHeader()
					if len(h) > 0 {
						n++
					}
					if err != nil {
						break
					}
				}
			} else {
				io.Copy(io.Discard, p)
			}
		}
		if n != 2 {
			b.Fatalf("%d field blocks", n)
		}
	}
}
