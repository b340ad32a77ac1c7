package tlsrpt

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"time"
)

// MailOptions are the envelope-independent parts of a report message.
type MailOptions struct {
	From string // the From field: an address, optionally with a display name
	To   string // the To field: one address or a comma-separated list
	// Date is the Date field; it must be set (the caller's clock).
	Date time.Time
	// MessageID is the Message-ID field, "<id@domain>"; empty means
	// "<" + report-id + ">".
	MessageID string
}

// MailError is a report message that cannot be written because one of
// its values would make a bad header: a line break, a non-ASCII octet,
// a policy domain or submitter that is not a domain name, and so on.
type MailError struct {
	Field  string // the header field or report value at fault
	Reason string
}

func (e *MailError) Error() string {
	return "tlsrpt: cannot write report message: " + e.Field + ": " + e.Reason
}

// maxLine is RFC 5322 §2.1.1's limit on a line, without its CRLF.
const maxLine = 998

// Mail writes the whole report message of RFC 8460 §5.3: a
// multipart/report; report-type="tlsrpt" with TLS-Report-Domain,
// TLS-Report-Submitter and the Subject "Report Domain: <policy domain>
// Submitter: <submitter> Report-ID: <report-id>", a short text/plain
// part and the report as an application/tlsrpt+gzip attachment named
// Filename. Lines end in CRLF. Every header line is 7-bit and at most
// 998 octets, and no value can break a line: anything that would is a
// *MailError and nothing is written. The message is not DKIM-signed;
// §5.3 wants it signed, which the MTA's outbound signing does.
func (rep *Report) Mail(w io.Writer, m MailOptions) error {
	hdr, err := rep.mailHeader(m)
	if err != nil {
		return err
	}
	var body bytes.Buffer
	boundary := "tlsrpt-" + shortHash(rep.ReportID, m.Date.String())
	// "-" is not in the base64 alphabet and the text part's lines start
	// with a letter, so the boundary cannot occur in the parts.
	fmt.Fprintf(&hdr, "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n\tboundary=\"%s\"\r\n\r\n", boundary)
	body.WriteString("This is a multipart message in MIME format.\r\n\r\n")
	body.WriteString("--" + boundary + "\r\n")
	body.WriteString("Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
	fmt.Fprintf(&body, "This is an aggregate TLS report from %s\r\nabout %s for %s to %s (UTC).\r\n\r\n",
		rep.Submitter, rep.PolicyDomain(),
		rep.DateRange.Start.UTC().Format(time.RFC3339), rep.DateRange.End.UTC().Format(time.RFC3339))
	body.WriteString("--" + boundary + "\r\n")
	body.WriteString("Content-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n")
	body.WriteString("Content-Disposition: attachment;\r\n\tfilename=\"" + rep.Filename() + "\"\r\n\r\n")
	var gz bytes.Buffer
	if err := rep.WriteGzip(&gz); err != nil {
		return err
	}
	writeBase64(&body, gz.Bytes())
	body.WriteString("--" + boundary + "--\r\n")
	if err := checkHeader(hdr.Bytes()); err != nil {
		return err
	}
	if _, err := w.Write(hdr.Bytes()); err != nil {
		return err
	}
	_, err = w.Write(body.Bytes())
	return err
}

// mailHeader checks every value and writes the header fields up to
// Content-Type.
func (rep *Report) mailHeader(m MailOptions) (bytes.Buffer, error) {
	var h bytes.Buffer
	domain, submitter := rep.PolicyDomain(), rep.Submitter
	if err := checkDomain("policy domain", domain); err != nil {
		return h, err
	}
	if err := checkDomain("submitter", submitter); err != nil {
		return h, err
	}
	if !isMsgIDContent(rep.ReportID) {
		return h, &MailError{"report-id", fmt.Sprintf("%q is not of the form id@domain", rep.ReportID)}
	}
	from, err := mail.ParseAddress(m.From)
	if err != nil || hasBreak(m.From) {
		return h, &MailError{"From", fmt.Sprintf("%q is not an address", m.From)}
	}
	to, err := mail.ParseAddressList(m.To)
	if err != nil || hasBreak(m.To) {
		return h, &MailError{"To", fmt.Sprintf("%q is not an address list", m.To)}
	}
	if m.Date.IsZero() {
		return h, &MailError{"Date", "not set"}
	}
	msgID := m.MessageID
	if msgID == "" {
		msgID = "<" + rep.ReportID + ">"
	}
	if len(msgID) < 2 || msgID[0] != '<' || msgID[len(msgID)-1] != '>' || !isMsgIDContent(msgID[1:len(msgID)-1]) {
		return h, &MailError{"Message-ID", fmt.Sprintf("%q is not of the form <id@domain>", msgID)}
	}
	h.WriteString("From: " + from.String() + "\r\n")
	h.WriteString("To: ")
	for i, a := range to {
		if i > 0 {
			h.WriteString(",\r\n\t")
		}
		h.WriteString(a.String())
	}
	h.WriteString("\r\n")
	h.WriteString("Date: " + m.Date.Format(time.RFC1123Z) + "\r\n")
	h.WriteString("Subject: Report Domain: " + domain + "\r\n\tSubmitter: " + submitter + "\r\n\tReport-ID: <" + rep.ReportID + ">\r\n")
	h.WriteString("Message-ID: " + msgID + "\r\n")
	h.WriteString("TLS-Report-Domain: " + domain + "\r\n")
	h.WriteString("TLS-Report-Submitter: " + submitter + "\r\n")
	h.WriteString("Auto-Submitted: auto-generated\r\n")
	h.WriteString("MIME-Version: 1.0\r\n")
	return h, nil
}

func hasBreak(s string) bool { return strings.ContainsAny(s, "\r\n\x00") }

// checkDomain accepts an ASCII domain name: labels of letters, digits,
// "-" and "_" (names under _ prefixes are real), at most 63 octets
// each and 253 in all. An internationalised name must come as A-labels.
func checkDomain(field, d string) error {
	if d == "" {
		return &MailError{field, "empty"}
	}
	if len(d) > 253 {
		return &MailError{field, "longer than 253 octets"}
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 {
			return &MailError{field, fmt.Sprintf("%q is not a domain name", d)}
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !isAlnum(c) && c != '-' && c != '_' {
				return &MailError{field, fmt.Sprintf("%q is not a domain name", d)}
			}
		}
	}
	return nil
}

// isMsgIDContent reports whether s is id-left "@" id-right of RFC 5322
// msg-id, both dot-atom-text, at most 900 octets.
func isMsgIDContent(s string) bool {
	left, right, ok := strings.Cut(s, "@")
	return ok && len(s) <= 900 && isDotAtom(left) && isDotAtom(right)
}

func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '.' && !strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", rune(c)) {
			return false
		}
	}
	return true
}

// checkHeader is the last guard: every line 7-bit, no bare CR or LF,
// none longer than maxLine.
func checkHeader(h []byte) error {
	for len(h) > 0 {
		i := bytes.Index(h, []byte("\r\n"))
		if i < 0 {
			return &MailError{"header", "unterminated line"}
		}
		line := h[:i]
		if len(line) > maxLine {
			return &MailError{"header", fmt.Sprintf("line of %d octets", len(line))}
		}
		for _, c := range line {
			if c >= 0x80 || c == '\r' || c == '\n' || c == 0 {
				return &MailError{"header", fmt.Sprintf("octet %#x in %q", c, line)}
			}
		}
		h = h[i+2:]
	}
	return nil
}

// writeBase64 writes data in base64 lines of 76 characters (RFC 2045).
func writeBase64(b *bytes.Buffer, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteString("\r\n")
		enc = enc[76:]
	}
	if enc != "" {
		b.WriteString(enc)
		b.WriteString("\r\n")
	}
}

func shortHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		io.WriteString(h, p)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}
