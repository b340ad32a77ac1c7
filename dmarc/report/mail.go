package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"time"

	"golang.org/x/net/idna"
)

// MailOptions are the envelope-facing parts of a report e-mail.
type MailOptions struct {
	// From is the From: field: an address of the reporting domain, with
	// an optional display name ("DMARC reports <dmarc@mx.example.org>").
	// RFC 9990 wants the report mail to pass DMARC itself, so it should
	// be a domain the sending MTA signs for.
	From string
	// To is the To: field, usually the Destination's Addr.
	To string
	// Date is the Date: field; the current time when zero.
	Date time.Time
	// MessageID is the Message-ID: field, "<left@right>". When empty it
	// is made from the report_id (RFC 9990 suggests reusing it, so that a
	// report sent again is recognised) and the submitter domain.
	MessageID string
	// MaxSize is the destination's "!size" limit in bytes (0: none). RFC
	// 9990 §5.3 measures the report after compression and after the
	// encoding the transport needs, here the base64 of the gzip
	// attachment; over the limit the destination MUST NOT be used, and
	// Mail returns a *SizeError (ErrTooLarge) without writing anything.
	MaxSize int64
}

// mailBoundary separates the parts. Base64 text never holds "_" and the
// text part is ours, so a fixed boundary cannot occur inside a part.
const mailBoundary = "=_dmarc_aggregate_report_"

// Mail writes the report as the e-mail RFC 9990 §5.3 describes:
// multipart/mixed with a short text/plain part and the report gzipped
// as an application/gzip attachment named by Filename, base64-encoded;
// Subject "Report Domain: <policy domain> Submitter: <reporter domain>
// Report-ID: <report_id>". The submitter is the domain of the
// report's metadata email (else of From). Auto-Submitted:
// auto-generated keeps vacation responders quiet.
//
// The message has CRLF line ends and is 7-bit; no header line exceeds
// 998 octets, and none holds a line break that came from the report's
// (remote) values: domains go through IDNA and must then be host names,
// a report_id is written only when it is the dot-atom RFC 9990 defines
// (the Subject's Report-ID part, which is optional, is left out
// otherwise), addresses are parsed and re-rendered (RFC 2047 for
// non-ASCII names). What cannot be made safe is an error, and nothing
// is written then.
func (f *Feedback) Mail(w io.Writer, m MailOptions) error {
	from, err := mailAddresses("From", m.From, true)
	if err != nil {
		return err
	}
	to, err := mailAddresses("To", m.To, false)
	if err != nil {
		return err
	}
	domain, err := mailDomain(f.Policy.Domain)
	if err != nil {
		return fmt.Errorf("report: mail: policy domain %q: %w", f.Policy.Domain, err)
	}
	submitterSrc := f.Metadata.Email
	if !strings.Contains(submitterSrc, "@") {
		submitterSrc = from[0].Address
	}
	submitter, err := mailDomain(submitterSrc[strings.LastIndexByte(submitterSrc, '@')+1:])
	if err != nil {
		return fmt.Errorf("report: mail: submitter domain of %q: %w", submitterSrc, err)
	}

	var gz bytes.Buffer
	if err := f.WriteGzip(&gz); err != nil {
		return err
	}
	attachment := base64Lines(gz.Bytes())
	if m.MaxSize > 0 && int64(len(attachment)) > m.MaxSize {
		return &SizeError{What: "report attachment for " + sanitizeText(m.To), Size: int64(len(attachment)), Limit: m.MaxSize}
	}

	rid := strings.TrimSuffix(strings.TrimPrefix(f.Metadata.ReportID, "<"), ">")
	if !reportIDOK(rid) {
		rid = ""
	}
	msgID := m.MessageID
	switch {
	case msgID != "":
		if !messageIDOK(msgID) {
			return fmt.Errorf("report: mail: Message-ID %q is not <left@right>", sanitizeText(msgID))
		}
	case rid != "" && !strings.Contains(rid, "@"):
		msgID = "<" + rid + "@" + submitter + ">"
	default:
		sum := sha256.Sum256(gz.Bytes())
		msgID = "<dmarc." + hex.EncodeToString(sum[:12]) + "@" + submitter + ">"
	}
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	subject := "Report Domain: " + domain + " Submitter: " + submitter
	if rid != "" {
		subject += " Report-ID: <" + rid + ">"
	}

	var b []byte
	b = headerField(b, "From", joinAddresses(from))
	b = headerField(b, "To", joinAddresses(to))
	b = headerField(b, "Date", date.Format(time.RFC1123Z))
	b = headerField(b, "Subject", subject)
	b = headerField(b, "Message-ID", msgID)
	b = headerField(b, "Auto-Submitted", "auto-generated")
	b = headerField(b, "MIME-Version", "1.0")
	b = headerField(b, "Content-Type", `multipart/mixed; boundary="`+mailBoundary+`"`)
	b = append(b, "\r\n--"+mailBoundary+"\r\n"...)
	b = headerField(b, "Content-Type", "text/plain; charset=us-ascii")
	b = headerField(b, "Content-Transfer-Encoding", "7bit")
	b = append(b, "\r\n"...)
	begin := time.Unix(f.Metadata.DateRange.Begin, 0).UTC().Format(time.RFC3339)
	end := time.Unix(f.Metadata.DateRange.End, 0).UTC().Format(time.RFC3339)
	b = append(b, "This is a DMARC aggregate report (RFC 9990) for "+domain+"\r\n"...)
	b = append(b, "from "+submitter+", covering "+begin+" to "+end+".\r\n"...)
	b = append(b, "The report is in the attached gzip-compressed XML file.\r\n"...)
	name := f.Filename()
	b = append(b, "\r\n--"+mailBoundary+"\r\n"...)
	b = headerField(b, "Content-Type", `application/gzip; name="`+name+`"`)
	b = headerField(b, "Content-Disposition", `attachment; filename="`+name+`"`)
	b = headerField(b, "Content-Transfer-Encoding", "base64")
	b = append(b, "\r\n"...)
	b = append(b, attachment...)
	b = append(b, "\r\n--"+mailBoundary+"--\r\n"...)
	_, err = w.Write(b)
	return err
}

// mailAddresses parses a From: or To: value. Control characters are
// refused before parsing, so that no line break can get through.
func mailAddresses(field, v string, one bool) ([]*mail.Address, error) {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return nil, fmt.Errorf("report: mail: %s holds control characters", field)
		}
	}
	list, err := mail.ParseAddressList(v)
	if err != nil {
		return nil, fmt.Errorf("report: mail: %s %q: %w", field, v, err)
	}
	if one && len(list) != 1 {
		return nil, fmt.Errorf("report: mail: %s must be one address, not %d", field, len(list))
	}
	for _, a := range list {
		if !plainMailbox(a.Address) {
			return nil, fmt.Errorf("report: mail: %s address %q is not a plain local@domain address", field, a.Address)
		}
	}
	return list, nil
}

func joinAddresses(list []*mail.Address) string {
	s := make([]string, len(list))
	for i, a := range list {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// mailDomain returns the A-label form of a domain for a header, or why
// it cannot be one.
func mailDomain(d string) (string, error) {
	a, err := idna.Lookup.ToASCII(strings.TrimSuffix(d, "."))
	if err != nil {
		return "", err
	}
	if !hostname(a) {
		return "", errors.New("not a domain name")
	}
	return strings.ToLower(a), nil
}

// reportIDOK reports whether s is RFC 9990's ridfmt: dot-atom-text
// ["@" dot-atom-text].
func reportIDOK(s string) bool {
	if len(s) > 200 {
		return false
	}
	left, right, hasAt := strings.Cut(s, "@")
	return dotAtom(left) && (!hasAt || dotAtom(right))
}

// messageIDOK accepts "<left@right>" of printable ASCII without white
// space, angle brackets or a second "@".
func messageIDOK(s string) bool {
	if len(s) < 5 || len(s) > 250 || s[0] != '<' || s[len(s)-1] != '>' {
		return false
	}
	left, right, ok := strings.Cut(s[1:len(s)-1], "@")
	if !ok || left == "" || right == "" {
		return false
	}
	for _, part := range []string{left, right} {
		for i := 0; i < len(part); i++ {
			if c := part[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '@' {
				return false
			}
		}
	}
	return true
}

// sanitizeText makes a value safe to put into an error message of one
// line.
func sanitizeText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// base64Lines encodes data as base64 in lines of 76 characters, each
// ending in CRLF (RFC 2045 §6.8).
func base64Lines(data []byte) []byte {
	enc := make([]byte, base64.StdEncoding.EncodedLen(len(data)))
	base64.StdEncoding.Encode(enc, data)
	out := make([]byte, 0, len(enc)+len(enc)/76*2+2)
	for len(enc) > 76 {
		out = append(append(out, enc[:76]...), '\r', '\n')
		enc = enc[76:]
	}
	return append(append(out, enc...), '\r', '\n')
}

// headerField appends "Name: value" folded at spaces to lines of 78
// octets where it can (RFC 5322 §2.2.3). value is 7-bit without CR or
// LF, which the callers make sure of; a word longer than a line stays
// whole as long as the line is within 998 octets, the hard limit, and
// is split beyond it.
func headerField(b []byte, name, value string) []byte {
	b = append(append(b, name...), ':')
	n := len(name) + 1
	for i, word := range strings.Split(value, " ") {
		if i > 0 && n+1+len(word) > 78 {
			b = append(b, "\r\n"...)
			n = 0
		}
		b = append(b, ' ')
		n++
		for n+len(word) > 998 {
			cut := 998 - n
			b = append(append(b, word[:cut]...), "\r\n "...)
			word = word[cut:]
			n = 1
		}
		b = append(b, word...)
		n += len(word)
	}
	return append(b, "\r\n"...)
}
