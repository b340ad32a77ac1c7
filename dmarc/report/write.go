package report

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
)

// Marshal returns the report as an XML document with declaration,
// indented, ending in a newline.
func (f *Feedback) Marshal() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("report: marshal: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// WriteGzip writes the report gzip-compressed, the form RFC 7489
// §7.2.1.1 asks for ("application/gzip", name from Filename). The gzip
// header carries the .xml name and no time stamp, so the output depends
// on the report only.
func (f *Feedback) WriteGzip(w io.Writer) error {
	data, err := f.Marshal()
	if err != nil {
		return err
	}
	// A gzip.Writer holds almost a megabyte of compressor state; a
	// day's run writes one report per domain, so they are reused.
	zw, _ := gzipWriters.Get().(*gzip.Writer)
	if zw == nil {
		zw = gzip.NewWriter(w)
	} else {
		zw.Reset(w)
	}
	defer gzipWriters.Put(zw)
	zw.Name = strings.TrimSuffix(f.Filename(), ".gz")
	if _, err := zw.Write(data); err != nil {
		return fmt.Errorf("report: gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("report: gzip: %w", err)
	}
	return nil
}

var gzipWriters sync.Pool

// Filename is the report's file name per RFC 7489 §7.2.1.1 for the
// gzip form:
//
//	receiver "!" policy-domain "!" begin "!" end [ "!" unique-id ] ".xml.gz"
//
// The receiver is the domain of the metadata email address (the org
// name when the address has none). The report_id is added as unique-id
// only when it fits the RFC's 1*(ALPHA / DIGIT); the IDs Aggregate
// makes contain dots and are left out. Since parsed reports come from
// strangers, every character other than letters, digits, '.', '-' and
// '_' is replaced with '_', so the name is a single path element.
func (f *Feedback) Filename() string {
	md := &f.Metadata
	receiver := md.OrgName
	if i := strings.LastIndexByte(md.Email, '@'); i >= 0 {
		receiver = md.Email[i+1:]
	}
	var b strings.Builder
	b.WriteString(safeName(receiver))
	b.WriteByte('!')
	b.WriteString(safeName(f.Policy.Domain))
	b.WriteByte('!')
	b.WriteString(strconv.FormatInt(md.DateRange.Begin, 10))
	b.WriteByte('!')
	b.WriteString(strconv.FormatInt(md.DateRange.End, 10))
	if isAlnum(md.ReportID) {
		b.WriteByte('!')
		b.WriteString(md.ReportID)
	}
	b.WriteString(".xml.gz")
	return b.String()
}

func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

func isAlnum(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
