package report

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"path"
	"strings"

	"github.com/mailpolicy/mailpolicy/internal/mimepart"
)

// maxMIMEDepth bounds nested multiparts; report mails have one level.
const maxMIMEDepth = 8

// ParseMessage reads a report e-mail with the default Parser; see
// Parser.ParseMessage.
func ParseMessage(r io.Reader) (*Feedback, error) { return Parser{}.ParseMessage(r) }

// ParseMessage reads an e-mail carrying an aggregate report (RFC 7489
// §7.2.1.1, RFC 9990 §5.3) and parses the report: the message body
// itself when it is the report (as Mimecast sends it), or the first
// attachment of a multipart message that parses as one. Candidates are
// parts typed as gzip, zip, XML or octet-stream, or named .xml, .gz or
// .zip. The message is read up to MaxSize, and the report in it is
// bounded by MaxSize once decoded and again once decompressed.
//
// Errors are Parse's, ErrNoReport when no part could be a report, or a
// *FormatError with Layer "message".
func (p Parser) ParseMessage(r io.Reader) (*Feedback, error) {
	data, err := readLimited(r, p.limit(), "message")
	if err != nil {
		return nil, err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return nil, formatErr("message", err)
	}
	f, err := p.findReport(textproto.MIMEHeader(msg.Header), msg.Body, 0)
	if err == nil && f == nil {
		err = ErrNoReport
	}
	return f, err
}

// findReport returns the first report in the entity, nil if there is
// none, or the error of the first candidate that failed to parse when
// no other one succeeded.
func (p Parser) findReport(h textproto.MIMEHeader, body io.Reader, depth int) (*Feedback, error) {
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mediaType = "text/plain"
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		if depth >= maxMIMEDepth || params["boundary"] == "" {
			return nil, nil
		}
		mr := multipart.NewReader(body, params["boundary"])
		var firstErr error
		for {
			part, err := mr.NextRawPart()
			if err != nil {
				if err != io.EOF && firstErr == nil {
					firstErr = formatErr("message", err)
				}
				return nil, firstErr
			}
			f, err := p.findReport(part.Header, part, depth+1)
			if f != nil {
				return f, nil
			}
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}
	}
	if !isCandidate(mediaType, h) {
		return nil, nil
	}
	return p.Parse(mimepart.Decode(h.Get("Content-Transfer-Encoding"), body))
}

func isCandidate(mediaType string, h textproto.MIMEHeader) bool {
	switch mediaType {
	case "application/gzip", "application/x-gzip", "application/zip", "application/x-zip-compressed",
		"application/x-zip", "application/xml", "text/xml", "application/octet-stream":
		return true
	}
	switch strings.ToLower(path.Ext(mimepart.Filename(h))) {
	case ".xml", ".gz", ".zip":
		return true
	}
	return false
}
