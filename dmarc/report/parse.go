package report

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// MaxSize bounds what Parse reads: the input as given and the report
// once decompressed. Real reports are kilobytes to a few megabytes; the
// bound keeps a compression bomb from exhausting memory.
const MaxSize = 50 << 20

// maxDepth bounds element nesting; a report is 5 levels deep.
const maxDepth = 64

// ErrTooLarge is returned (wrapped) when the input or the decompressed
// report exceeds MaxSize.
var ErrTooLarge = errors.New("report: larger than the 50 MiB limit (MaxSize)")

// ErrNoFeedback means the document has no <feedback> element.
var ErrNoFeedback = errors.New("report: no <feedback> element")

// ErrNoReport means a message carries no part that could be a report.
var ErrNoReport = errors.New("report: no report attachment in message")

// Parse reads an aggregate report: plain XML, gzip (.xml.gz) or zip
// (.zip holding an .xml), told apart by their first bytes. It is
// lenient where real reporters are sloppy: a <feedback> element wrapped
// in another (even unclosed) element, any namespace, trailing data
// after the report or the gzip stream, invalid UTF-8 (replaced with
// U+FFFD), ISO-8859-1 or US-ASCII declarations, capitalised enumerated
// values. Malformed XML is an error.
func Parse(r io.Reader) (*Feedback, error) {
	data, err := readLimited(r)
	if err != nil {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
		data, err = gunzip(data)
	case bytes.HasPrefix(data, []byte("PK\x03\x04")), bytes.HasPrefix(data, []byte("PK\x05\x06")):
		data, err = unzip(data)
	}
	if err != nil {
		return nil, err
	}
	return decodeXML(data)
}

// readLimited reads all of r, failing beyond MaxSize.
func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("report: reading: %w", err)
	}
	if len(data) > MaxSize {
		return nil, ErrTooLarge
	}
	return data, nil
}

// gunzip decompresses every gzip member and ignores what follows the
// last one (Mimecast appends a CRLF).
func gunzip(data []byte) ([]byte, error) {
	br := bufio.NewReader(bytes.NewReader(data))
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("report: gzip: %w", err)
	}
	var out bytes.Buffer
	for {
		zr.Multistream(false)
		_, err := io.Copy(&out, io.LimitReader(zr, int64(MaxSize+1-out.Len())))
		if err != nil {
			return nil, fmt.Errorf("report: gzip: %w", err)
		}
		if out.Len() > MaxSize {
			return nil, fmt.Errorf("%w once decompressed (gzip)", ErrTooLarge)
		}
		next, _ := br.Peek(2)
		if !bytes.Equal(next, []byte{0x1f, 0x8b}) {
			return out.Bytes(), nil
		}
		if err := zr.Reset(br); err != nil {
			return nil, fmt.Errorf("report: gzip: %w", err)
		}
	}
}

// unzip returns the first .xml file of the archive, or its first file
// if none is named .xml.
func unzip(data []byte) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("report: zip: %w", err)
	}
	var pick *zip.File
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		if strings.HasSuffix(strings.ToLower(f.Name), ".xml") {
			pick = f
			break
		}
		if pick == nil {
			pick = f
		}
	}
	if pick == nil {
		return nil, errors.New("report: zip: archive holds no file")
	}
	rc, err := pick.Open()
	if err != nil {
		return nil, fmt.Errorf("report: zip: %w", err)
	}
	defer rc.Close()
	out, err := io.ReadAll(io.LimitReader(rc, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("report: zip: %w", err)
	}
	if len(out) > MaxSize {
		return nil, fmt.Errorf("%w once decompressed (zip)", ErrTooLarge)
	}
	return out, nil
}

func decodeXML(data []byte) (*Feedback, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if bytes.HasPrefix(data, []byte("\xfe\xff")) || bytes.HasPrefix(data, []byte("\xff\xfe")) {
		return nil, errors.New("report: UTF-16 documents are not supported")
	}
	if enc := declaredEncoding(data); (enc == "" || enc == "utf-8" || enc == "utf8") && !utf8.Valid(data) {
		data = bytes.ToValidUTF8(data, []byte("\uFFFD"))
	}
	// First pass: check nesting depth, which encoding/xml does not bound,
	// and find the feedback element.
	d := newDecoder(data)
	depth, found := 0, false
	for !found {
		tok, err := d.Token()
		if err == io.EOF {
			return nil, ErrNoFeedback
		}
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "feedback" {
				found = true
			}
			if depth++; depth > maxDepth {
				return nil, errors.New("report: XML nested too deeply")
			}
		case xml.EndElement:
			depth--
		}
	}
	for inner := 1; inner > 0; {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("report: %w", unexpectedEOF(err))
		}
		switch tok.(type) {
		case xml.StartElement:
			if inner++; depth+inner > maxDepth+1 {
				return nil, errors.New("report: XML nested too deeply")
			}
		case xml.EndElement:
			inner--
		}
	}
	// Second pass: decode.
	d = newDecoder(data)
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("report: %w", unexpectedEOF(err))
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "feedback" {
			f := new(Feedback)
			if err := d.DecodeElement(f, &se); err != nil {
				return nil, fmt.Errorf("report: invalid report: %w", err)
			}
			f.normalize()
			return f, nil
		}
	}
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func newDecoder(data []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = charsetReader
	return d
}

// declaredEncoding returns the lower-cased encoding of the XML
// declaration, or "".
func declaredEncoding(data []byte) string {
	if !bytes.HasPrefix(data, []byte("<?xml")) {
		return ""
	}
	end := bytes.Index(data, []byte("?>"))
	if end < 0 {
		return ""
	}
	decl := string(data[:end])
	i := strings.Index(decl, "encoding")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(decl[i+len("encoding"):], " \t\r\n")
	rest, ok := strings.CutPrefix(rest, "=")
	if !ok {
		return ""
	}
	rest = strings.TrimLeft(rest, " \t\r\n")
	if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
		return ""
	}
	val, _, ok := strings.Cut(rest[1:], rest[:1])
	if !ok {
		return ""
	}
	return strings.ToLower(val)
}

// charsetReader converts the single-byte encodings reports have been
// seen to declare. Bytes above 0x7f in a US-ASCII document become
// U+FFFD.
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1":
		return &byteDecoder{r: input, latin1: true}, nil
	case "us-ascii", "ascii":
		return &byteDecoder{r: input}, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", label)
}

// byteDecoder turns a single-byte encoding into UTF-8.
type byteDecoder struct {
	r      io.Reader
	latin1 bool
	in     [1024]byte
	out    []byte
	off    int
}

func (b *byteDecoder) Read(p []byte) (int, error) {
	for b.off == len(b.out) {
		n, err := b.r.Read(b.in[:])
		b.out, b.off = b.out[:0], 0
		for _, c := range b.in[:n] {
			switch {
			case c < 0x80:
				b.out = append(b.out, c)
			case b.latin1:
				b.out = utf8.AppendRune(b.out, rune(c))
			default:
				b.out = utf8.AppendRune(b.out, utf8.RuneError)
			}
		}
		if n == 0 && err != nil {
			return 0, err
		}
	}
	n := copy(p, b.out[b.off:])
	b.off += n
	return n, nil
}
