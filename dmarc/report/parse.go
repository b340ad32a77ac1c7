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

// MaxSize is the default bound of Parse and ParseMessage: the input as
// given and the report once decompressed. Real reports are kilobytes to
// a few megabytes; the bound keeps a compression bomb from exhausting
// memory.
const MaxSize = 50 << 20

// maxDepth bounds element nesting; a report is 5 levels deep.
const maxDepth = 64

// Parser reads reports with its own size bound. The zero value uses
// MaxSize.
type Parser struct {
	// MaxSize bounds the input (a message for ParseMessage) and the
	// decompressed report, each on its own. A value of 0 or less means
	// the package's MaxSize.
	MaxSize int64
}

func (p Parser) limit() int64 {
	if p.MaxSize <= 0 {
		return MaxSize
	}
	return p.MaxSize
}

// Parse reads an aggregate report with the default Parser: plain XML,
// gzip (.xml.gz) or zip (.zip holding an .xml), told apart by their
// first bytes. See Parser.Parse.
func Parse(r io.Reader) (*Feedback, error) { return Parser{}.Parse(r) }

// Parse reads an aggregate report: plain XML, gzip (.xml.gz) or zip
// (.zip holding an .xml), told apart by their first bytes. It reads RFC
// 7489 reports, the drafts before it and RFC 9990 ones, and is lenient
// where real reporters are sloppy: a <feedback> element wrapped in
// another (even unclosed) element, any namespace, trailing data after
// the report or the gzip stream, invalid UTF-8 (replaced with U+FFFD),
// ISO-8859-1 or US-ASCII declarations, enumerated values in any case
// or with known misspellings ("hardfail"), numbers with white space, a
// sign or a fraction, numbers that are not numbers at all (read as 0).
// One odd value never costs the whole report; malformed XML does.
//
// Errors: a *SizeError (errors.Is ErrTooLarge) when the input or the
// decompressed report exceeds MaxSize, ErrNoFeedback, or a
// *FormatError naming the layer that failed.
func (p Parser) Parse(r io.Reader) (*Feedback, error) {
	max := p.limit()
	data, err := readLimited(r, max, "input")
	if err != nil {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
		data, err = gunzip(data, max)
	case bytes.HasPrefix(data, []byte("PK\x03\x04")), bytes.HasPrefix(data, []byte("PK\x05\x06")):
		data, err = unzip(data, max)
	}
	if err != nil {
		return nil, err
	}
	return decodeXML(data)
}

// readLimited reads all of r, failing beyond max.
func readLimited(r io.Reader, max int64, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, formatErr("read", err)
	}
	if int64(len(data)) > max {
		return nil, &SizeError{What: what, Size: max + 1, Limit: max}
	}
	return data, nil
}

// gunzip decompresses every gzip member and ignores what follows the
// last one (Mimecast appends a CRLF).
func gunzip(data []byte, max int64) ([]byte, error) {
	br := bufio.NewReader(bytes.NewReader(data))
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, formatErr("gzip", err)
	}
	var out bytes.Buffer
	for {
		zr.Multistream(false)
		_, err := io.Copy(&out, io.LimitReader(zr, max+1-int64(out.Len())))
		if err != nil {
			return nil, formatErr("gzip", err)
		}
		if int64(out.Len()) > max {
			return nil, &SizeError{What: "decompressed report (gzip)", Size: max + 1, Limit: max}
		}
		next, _ := br.Peek(2)
		if !bytes.Equal(next, []byte{0x1f, 0x8b}) {
			return out.Bytes(), nil
		}
		if err := zr.Reset(br); err != nil {
			return nil, formatErr("gzip", err)
		}
	}
}

// unzip returns the first .xml file of the archive, or its first file
// if none is named .xml.
func unzip(data []byte, max int64) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, formatErr("zip", err)
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
		return nil, formatErr("zip", errors.New("archive holds no file"))
	}
	// The sizes the archive declares are not trusted: the data is read
	// up to the limit, whatever the header says.
	rc, err := pick.Open()
	if err != nil {
		return nil, formatErr("zip", err)
	}
	defer rc.Close()
	out, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, formatErr("zip", err)
	}
	if int64(len(out)) > max {
		return nil, &SizeError{What: "decompressed report (zip)", Size: max + 1, Limit: max}
	}
	return out, nil
}

func decodeXML(data []byte) (*Feedback, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if bytes.HasPrefix(data, []byte("\xfe\xff")) || bytes.HasPrefix(data, []byte("\xff\xfe")) {
		return nil, formatErr("xml", errors.New("UTF-16 documents are not supported"))
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
			return nil, formatErr("xml", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "feedback" {
				found = true
			}
			if depth++; depth > maxDepth {
				return nil, formatErr("xml", errors.New("XML nested too deeply"))
			}
		case xml.EndElement:
			depth--
		}
	}
	for inner := 1; inner > 0; {
		tok, err := d.Token()
		if err != nil {
			return nil, formatErr("xml", unexpectedEOF(err))
		}
		switch tok.(type) {
		case xml.StartElement:
			if inner++; depth+inner > maxDepth+1 {
				return nil, formatErr("xml", errors.New("XML nested too deeply"))
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
			return nil, formatErr("xml", unexpectedEOF(err))
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "feedback" {
			f := new(Feedback)
			if err := d.DecodeElement(f, &se); err != nil {
				return nil, formatErr("xml", fmt.Errorf("invalid report: %w", err))
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
