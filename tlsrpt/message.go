package tlsrpt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"strings"

	"github.com/mailpolicy/mailpolicy/internal/mimepart"
)

// ErrNoReport is a message that carries no TLS report: no body or part
// typed application/tlsrpt+gzip or +json, and no *.json(.gz) file in a
// multipart/report with report-type=tlsrpt. A receiver that takes
// other kinds of reports at the same address tries them next.
var ErrNoReport = errors.New("tlsrpt: no TLS report in the message")

// A report mail has one multipart level; these bound what a hostile
// message can make the walk do.
const (
	maxMIMEDepth = 8
	maxMIMEParts = 100
)

// ParseMessage reads an RFC 8460 §5.3 report mail with the default
// limits; see Parser.ParseMessage.
func ParseMessage(r io.Reader) (*Report, error) { return Parser{}.ParseMessage(r) }

// ParseMessage reads a report mail (RFC 8460 §5.3) and parses its
// report with Parse. The message is read up to MaxSize (larger is
// ErrTooLarge), at most 100 MIME parts and 8 levels of multipart are
// looked at, and the first TLS report found is the answer. A message
// without one gives ErrNoReport; one whose report does not parse gives
// Parse's error.
func (p Parser) ParseMessage(r io.Reader) (*Report, error) {
	limit := p.MaxSize
	if limit <= 0 {
		limit = DefaultMaxSize
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &LimitError{Limit: limit}
	}
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: message: %v", ErrInvalidReport, err)
	}
	n := 0
	part, ok, err := findReport(textproto.MIMEHeader(m.Header), m.Body, 0, false, &n)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return nil, ErrNoReport
	}
	return p.Parse(bytes.NewReader(part))
}

// findReport walks the MIME tree for the report part and returns its
// decoded content (still gzip-compressed for +gzip: Parse decompresses
// it within its bound).
func findReport(h textproto.MIMEHeader, body io.Reader, depth int, inTLSReport bool, n *int) ([]byte, bool, error) {
	if *n++; *n > maxMIMEParts {
		return nil, false, fmt.Errorf("%w: more than %d MIME parts", ErrInvalidReport, maxMIMEParts)
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
			part, err := mr.NextRawPart()
			if err != nil {
				// The end, or a broken structure: nothing found so far.
				return nil, false, nil
			}
			data, ok, err := findReport(part.Header, part, depth+1, tls, n)
			if ok || err != nil {
				return data, ok, err
			}
		}
	}
	if !isReportPart(mediaType, h, inTLSReport) {
		return nil, false, nil
	}
	data, err := io.ReadAll(mimepart.Decode(h.Get("Content-Transfer-Encoding"), body))
	if err != nil {
		return nil, false, fmt.Errorf("%w: report part: %v", ErrInvalidReport, err)
	}
	return data, true, nil
}

func isReportPart(mediaType string, h textproto.MIMEHeader, inTLSReport bool) bool {
	switch mediaType {
	case "application/tlsrpt+gzip", "application/tlsrpt+json":
		return true
	}
	if !inTLSReport {
		return false
	}
	name := strings.ToLower(mimepart.Filename(h))
	return strings.HasSuffix(name, ".json.gz") || strings.HasSuffix(name, ".json")
}
