package report_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/dmarc/report"
)

const smallLimit = 1 << 20

// bomb returns gzip and zip archives of n zero bytes: a few kilobytes
// that expand to n.
func bomb(t *testing.T, n int64) (gz, zp []byte) {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	io.CopyN(zw, zeros{}, n)
	zw.Close()
	gz = bytes.Clone(b.Bytes())
	b.Reset()
	w := zip.NewWriter(&b)
	fw, _ := w.Create("bomb.xml")
	io.CopyN(fw, zeros{}, n)
	w.Close()
	return gz, b.Bytes()
}

// Decompression is capped by the Parser's MaxSize, for bare archives
// and for attachments of a message, with a *SizeError.
func TestParserMaxSize(t *testing.T) {
	p := report.Parser{MaxSize: smallLimit}
	gz, zp := bomb(t, 4*smallLimit)
	if len(gz) > smallLimit/16 || len(zp) > smallLimit/16 {
		t.Fatalf("bombs of %d and %d bytes are not small", len(gz), len(zp))
	}
	for name, data := range map[string][]byte{"gzip": gz, "zip": zp} {
		_, err := p.Parse(bytes.NewReader(data))
		var se *report.SizeError
		if !errors.As(err, &se) || !errors.Is(err, report.ErrTooLarge) || se.Limit != smallLimit ||
			!strings.Contains(se.What, "decompressed report ("+name+")") {
			t.Errorf("%s bomb: %v", name, err)
		}
		msg := "From: r@x.example\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n" +
			"Content-Type: application/" + name + "\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			base64.StdEncoding.EncodeToString(data) + "\r\n--B--\r\n"
		if _, err := p.ParseMessage(strings.NewReader(msg)); !errors.As(err, &se) || !strings.Contains(se.What, "decompressed") {
			t.Errorf("%s bomb in a message: %v", name, err)
		}
	}
	// A report just under the limit is fine, the input itself over it
	// is not.
	if _, err := p.Parse(strings.NewReader(minimal)); err != nil {
		t.Errorf("small report: %v", err)
	}
	var se *report.SizeError
	if _, err := p.ParseMessage(io.LimitReader(zeros{}, smallLimit+1)); !errors.As(err, &se) || se.What != "message" {
		t.Errorf("large message: %v", err)
	}
	// The zero Parser is the package default.
	if _, err := (report.Parser{}).Parse(io.LimitReader(zeros{}, report.MaxSize+1)); !errors.As(err, &se) || se.Limit != report.MaxSize {
		t.Errorf("default limit: %v", err)
	}
}

func TestParseErrorTypes(t *testing.T) {
	for name, c := range map[string]struct {
		data  string
		layer string
	}{
		"gzip":    {"\x1f\x8bnot gzip", "gzip"},
		"zip":     {"PK\x03\x04garbage", "zip"},
		"xml":     {minimal[:200], "xml"},
		"utf-16":  {"\xff\xfe<\x00", "xml"},
		"message": {"no header at all", "message"},
	} {
		var err error
		if c.layer == "message" {
			_, err = report.ParseMessage(strings.NewReader(c.data))
		} else {
			_, err = report.Parse(strings.NewReader(c.data))
		}
		var fe *report.FormatError
		if !errors.As(err, &fe) || fe.Layer != c.layer || !strings.HasPrefix(err.Error(), "report: "+c.layer+": ") {
			t.Errorf("%s: %v (%#v)", name, err, fe)
		}
	}
	if _, err := report.Parse(strings.NewReader("<html/>")); !errors.Is(err, report.ErrNoFeedback) {
		t.Errorf("no feedback: %v", err)
	}
	if _, err := report.Parse(failingReader{}); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("reader error: %v", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrClosedPipe }
