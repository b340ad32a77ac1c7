package reports

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
)

// maxMIMEDepth bounds nested multiparts; a report mail has one level.
const maxMIMEDepth = 8

// maxParts bounds the parts looked at, so that a message of a million
// empty parts costs little.
const maxParts = 100

// errTooManyParts is a message with more parts than a report has.
var errTooManyParts = errors.New("reports: too many MIME parts")

// findTLSReport looks for the TLS report of an RFC 8460 §5.3 mail: the
// body or a part typed application/tlsrpt+gzip or
// application/tlsrpt+json, or named *.json.gz / *.json inside a
// multipart/report with report-type=tlsrpt. It returns the part's
// decoded content (still gzip-compressed for +gzip: tlsrpt.Parse
// decompresses within its bound), or ok false when there is none.
func findTLSReport(h mail.Header, body io.Reader) (part []byte, ok bool, err error) {
	n := 0
	return walk(textproto.MIMEHeader(h), body, 0, false, &n)
}

func walk(h textproto.MIMEHeader, body io.Reader, depth int, inTLSReport bool, n *int) ([]byte, bool, error) {
	if *n++; *n > maxParts {
		return nil, false, errTooManyParts
	}
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mediaType = "text/plain"
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		if depth >= maxMIMEDepth || params["boundary"] == "" {
			return nil, false, nil
		}
		tls := inTLSReport || mediaType == "multipart/report" && strings.EqualFold(params["report-type"], "tlsrpt")
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				// The end, or a broken structure: whatever was found first
				// is the answer, and a DMARC parse may still succeed.
				return nil, false, nil
			}
			data, ok, err := walk(p.Header, p, depth+1, tls, n)
			if ok || err != nil {
				return data, ok, err
			}
		}
	}
	if !isTLSPart(mediaType, h, inTLSReport) {
		return nil, false, nil
	}
	// The parser bounds the decompressed report; the raw part is
	// bounded by the message, read whole already.
	data, err := io.ReadAll(decodeTransfer(h.Get("Content-Transfer-Encoding"), body))
	if err != nil {
		return nil, false, fmt.Errorf("reports: tls report part: %w", err)
	}
	return data, true, nil
}

func isTLSPart(mediaType string, h textproto.MIMEHeader, inTLSReport bool) bool {
	switch mediaType {
	case "application/tlsrpt+gzip", "application/tlsrpt+json":
		return true
	}
	if !inTLSReport {
		return false
	}
	name := ""
	if _, p, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil {
		name = p["filename"]
	}
	if _, p, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil && name == "" {
		name = p["name"]
	}
	name = strings.ToLower(name)
	return strings.HasSuffix(name, ".json.gz") || strings.HasSuffix(name, ".json")
}

func decodeTransfer(cte string, body io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &stripSpace{r: body})
	case "quoted-printable":
		return quotedprintable.NewReader(body)
	}
	return body
}

// stripSpace drops the line breaks and blanks of a base64 body, which
// base64.NewDecoder does not skip (it skips only CR and LF).
type stripSpace struct{ r io.Reader }

func (s *stripSpace) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		out := p[:0]
		for _, c := range p[:n] {
			if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				out = append(out, c)
			}
		}
		if len(out) > 0 || err != nil {
			return len(out), err
		}
	}
}
