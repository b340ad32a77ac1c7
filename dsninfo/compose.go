package dsninfo

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime/quotedprintable"
	"strconv"
	"strings"
	"time"
)

// A ComposeError reports a Report that Compose cannot write (or, with
// Field "Rand", a random source that failed).
type ComposeError struct {
	Field  string // the Report field, e.g. "Recipients[0].FinalRecipient"
	Reason string
}

func (e *ComposeError) Error() string {
	return "dsninfo: cannot compose: " + e.Field + ": " + e.Reason
}

// Compose writes r as an RFC 3464 message: a multipart/report;
// report-type=delivery-status with the human-readable text, the
// message/delivery-status part and, per r.Return, the returned message
// (message/rfc822) or its header (text/rfc822-headers). Lines end in
// CRLF; the message is 7-bit except for an 8-bit returned message.
//
// Per-recipient blocks follow Exim's send_bounce_message: Original-
// Recipient, Action, Final-Recipient, Status, Remote-MTA. For a failed
// recipient with a remote host (RemoteMTA not empty) Exim's extra
// fields follow in order (Remote-MTA: X-ip; [ip]:port, the greeting,
// the HELO response, the diagnostic field), then Diagnostic-Code; a
// failed recipient without a host gets only the diagnostic field. Other
// actions never carry the extra fields; Will-Retry-Until is written for
// delayed recipients only.
//
// Every value is sanitised before it is written, so no value can add a
// header line or a MIME part: CR and LF become a space (or a fold in
// the wrapped fields and Diagnostic-Code), other control characters and
// every non-ASCII byte become '?'. Greeting and HELOResponse are cut to
// their first line and 128 bytes, Diagnostic to 1024 bytes, as Exim's
// transport pipe does. No line is longer than 998 octets: see the
// package documentation for how long values are folded, and which are
// refused with a *ComposeError.
func Compose(r Report) ([]byte, error) {
	var c Composer
	return c.Compose(r)
}

// A Composer writes reports with a replaceable clock and random
// source, for the defaults of Report.Date, Report.Boundary and
// Report.MessageID. The zero value uses time.Now and crypto/rand.
type Composer struct {
	Now  func() time.Time
	Rand io.Reader
}

// Compose is the package's Compose with c's clock and random source.
func (c *Composer) Compose(r Report) ([]byte, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	var (
		err       error
		human     = r.humanText()
		status    = r.statusPart()
		orig, ret = r.originalPart()
	)
	boundary := r.Boundary
	for tries := 0; ; tries++ {
		if boundary == "" {
			if boundary, err = c.token("dsn-", 12); err != nil {
				return nil, err
			}
		}
		if !bytes.Contains(human, []byte("--"+boundary)) && !bytes.Contains(status, []byte("--"+boundary)) &&
			!bytes.Contains(orig, []byte("--"+boundary)) {
			break
		}
		if r.Boundary != "" || tries > 8 {
			return nil, &ComposeError{"Boundary", "occurs in the message"}
		}
		boundary = ""
	}

	var b bytes.Buffer
	b.Grow(len(human) + len(status) + len(orig) + 1024)
	delayed := r.allDelayed()
	mta := sanitizeLine(r.ReportingMTA)
	from := r.From
	if from == "" {
		from = "Mail Delivery System <Mailer-Daemon@" + mta + ">"
	}
	subject := r.Subject
	if subject == "" {
		switch {
		case delayed:
			subject = "Warning: message delayed"
		case r.noneFailed():
			subject = "Delivery Status Notification"
		default:
			subject = "Mail delivery failed: returning message to sender"
		}
	}
	date := r.Date
	if date.IsZero() {
		if c.Now != nil {
			date = c.Now()
		} else {
			date = time.Now()
		}
	}
	msgID := r.MessageID
	if msgID == "" {
		tok, err := c.token("", 10)
		if err != nil {
			return nil, err
		}
		msgID = "<" + tok + "@" + mta + ">"
	}
	writeField(&b, "From", from)
	if r.To != "" {
		writeField(&b, "To", r.To)
	}
	writeField(&b, "Subject", subject)
	writeField(&b, "Date", date.Format(time.RFC1123Z))
	writeField(&b, "Message-ID", msgID)
	for i, addr := range r.failedAddresses() {
		line := "  " + addr
		if i == 0 {
			line = "X-Failed-Recipients: " + addr
		}
		if i < len(r.failedAddresses())-1 {
			line += ","
		}
		folded, _ := foldLine(line)
		b.WriteString(folded + "\r\n")
	}
	writeField(&b, "Auto-Submitted", "auto-replied")
	writeField(&b, "MIME-Version", "1.0")
	b.WriteString("Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"" + boundary + "\"\r\n")
	b.WriteString("\r\nThis is a MIME-formatted message.  If you see this text it means that your\r\n" +
		"E-mail software does not support MIME-formatted messages.\r\n")

	b.WriteString("\r\n--" + boundary + "\r\n")
	if sevenBit(human) && longestLine(human) <= maxLine {
		b.WriteString("Content-Type: text/plain; charset=us-ascii\r\n\r\n")
		b.Write(human)
	} else {
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		w := quotedprintable.NewWriter(&b)
		w.Write(human)
		w.Close()
	}

	b.WriteString("\r\n--" + boundary + "\r\nContent-Type: message/delivery-status\r\n\r\n")
	b.Write(status)

	if len(orig) > 0 {
		b.WriteString("\r\n--" + boundary + "\r\n")
		if ret == ReturnHeaders {
			b.WriteString("Content-Type: text/rfc822-headers\r\n")
		} else {
			b.WriteString("Content-Type: message/rfc822\r\n")
		}
		if !sevenBit(orig) {
			b.WriteString("Content-Transfer-Encoding: 8bit\r\n")
		}
		b.WriteString("\r\n")
		b.Write(orig)
	}
	b.WriteString("\r\n--" + boundary + "--\r\n")
	// check refused what cannot fold; this guards the promise itself.
	if longestLine(b.Bytes()) > maxLine {
		return nil, &ComposeError{"Report", "a line would exceed 998 octets"}
	}
	return b.Bytes(), nil
}

func (r *Report) check() error {
	if strings.TrimSpace(r.ReportingMTA) == "" {
		return &ComposeError{"ReportingMTA", "empty"}
	}
	if len(r.Recipients) == 0 {
		return &ComposeError{"Recipients", "none"}
	}
	if !validFieldName(r.diagnosticField()) {
		return &ComposeError{"DiagnosticField", "not a header field name of at most 76 characters"}
	}
	if r.Boundary != "" && !validBoundary(r.Boundary) {
		return &ComposeError{"Boundary", "not a valid MIME boundary"}
	}
	if !validType(r.ReportingMTAType, true) {
		return &ComposeError{"ReportingMTAType", "not an atom of at most 64 characters"}
	}
	if err := r.checkLines(); err != nil {
		return err
	}
	for _, f := range r.Extra {
		if !validFieldName(f.Name) {
			return &ComposeError{"Extra", fmt.Sprintf("%.80q is not a header field name of at most 76 characters", f.Name)}
		}
	}
	for i, rc := range r.Recipients {
		at := "Recipients[" + strconv.Itoa(i) + "]."
		if rc.FinalRecipient.Value == "" {
			return &ComposeError{at + "FinalRecipient", "empty"}
		}
		if rc.Action == "" || !validType(string(rc.Action), false) {
			return &ComposeError{at + "Action", "empty or not a word of at most 64 characters"}
		}
		for name, t := range map[string]Typed{"FinalRecipient": rc.FinalRecipient,
			"OriginalRecipient": rc.OriginalRecipient, "DiagnosticCode": rc.DiagnosticCode} {
			if !validType(t.Type, true) {
				return &ComposeError{at + name, "type is not an atom of at most 64 characters"}
			}
		}
		if rc.RemoteIP.IsValid() && rc.RemoteMTA == "" {
			return &ComposeError{at + "RemoteIP", "given without RemoteMTA"}
		}
		if rc.RemotePort < 0 || rc.RemotePort > 65535 {
			return &ComposeError{at + "RemotePort", "out of range"}
		}
		if err := rc.checkLines(at); err != nil {
			return err
		}
		for _, f := range rc.Extra {
			if !validFieldName(f.Name) {
				return &ComposeError{at + "Extra", fmt.Sprintf("%.80q is not a header field name of at most 76 characters", f.Name)}
			}
		}
	}
	return nil
}

// checkLines refuses per-message values written on one header line
// that no fold can bring within 998 octets (a run without white space
// too long), with the lines they are written on.
func (r *Report) checkLines() error {
	typ := r.ReportingMTAType
	if typ == "" {
		typ = "dns"
	}
	mta := "Reporting-MTA: " + typ + "; " + r.ReportingMTA
	if r.From == "" {
		mta += " From: Mail Delivery System <Mailer-Daemon@" + r.ReportingMTA + ">"
	}
	if r.MessageID == "" {
		mta += " Message-ID: <" + strings.Repeat("0", 20) + "@" + r.ReportingMTA + ">"
	}
	for _, l := range []struct{ field, line string }{
		{"ReportingMTA", mta},
		{"From", "From: " + r.From},
		{"To", "To: " + r.To},
		{"Subject", "Subject: " + r.Subject},
		{"MessageID", "Message-ID: " + r.MessageID},
		{"OriginalEnvelopeID", "Original-Envelope-ID: " + r.OriginalEnvelopeID},
	} {
		if err := checkLine(l.field, l.line); err != nil {
			return err
		}
	}
	return nil
}

func (rc *Recipient) checkLines(at string) error {
	for _, l := range []struct{ field, line string }{
		{"FinalRecipient", "Final-Recipient: " + rc.FinalRecipient.String()},
		{"FinalRecipient", "X-Failed-Recipients: " + rc.FinalRecipient.Value + ","},
		{"OriginalRecipient", "Original-Recipient: " + rc.OriginalRecipient.String()},
		{"RemoteMTA", "Remote-MTA: dns; " + rc.RemoteMTA},
		{"Status", "Status: " + rc.Status},
	} {
		if err := checkLine(at+l.field, l.line); err != nil {
			return err
		}
	}
	return nil
}

func checkLine(field, line string) error {
	if _, ok := foldLine(sanitizeLine(line)); !ok {
		return &ComposeError{field, "a word longer than a 998-octet line allows"}
	}
	return nil
}

// validFieldName reports whether s is a header field name (RFC 5322
// ftext: printable ASCII but colon) of at most maxFieldName characters.
func validFieldName(s string) bool {
	if s == "" || len(s) > maxFieldName {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// validType reports whether s can be written before a ";": printable
// ASCII without space, ';', '(' or ':'.
func validType(s string, emptyOK bool) bool {
	if s == "" {
		return emptyOK
	}
	if len(s) > maxTypeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == ';' || c == ':' || c == '(' || c == ')' {
			return false
		}
	}
	return true
}

// validBoundary checks RFC 2046 bchars, without a trailing space.
func validBoundary(s string) bool {
	if len(s) > 70 || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("'()+_,-./:=? ", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

func sevenBit(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

func (c *Composer) token(prefix string, n int) (string, error) {
	b := make([]byte, n)
	src := c.Rand
	if src == nil {
		src = rand.Reader
	}
	if _, err := io.ReadFull(src, b); err != nil {
		return "", &ComposeError{"Rand", err.Error()}
	}
	return prefix + hex.EncodeToString(b), nil
}

// writeField writes a header field with a sanitised value, on one line
// unless that would exceed 998 octets.
func writeField(b *bytes.Buffer, name, value string) {
	folded, _ := foldLine(name + ": " + sanitizeLine(value))
	b.WriteString(folded)
	b.WriteString("\r\n")
}

// writeWrapped writes a field folded by wrapHeader.
func writeWrapped(b *bytes.Buffer, name, value string, maxchars int) {
	b.WriteString(strings.ReplaceAll(wrapHeader(name+": "+sanitizeText(value), wrapCols, maxchars), "\n", "\r\n"))
	b.WriteString("\r\n")
}

// writeTyped writes "Name: type; value" on one line; an empty type
// writes the value alone.
func writeTyped(b *bytes.Buffer, name string, t Typed, sep string) {
	if t.Type == "" {
		writeField(b, name, t.Value)
		return
	}
	writeField(b, name, t.Type+sep+t.Value)
}

func writeDate(b *bytes.Buffer, name string, t time.Time) {
	if !t.IsZero() {
		writeField(b, name, t.Format(time.RFC1123Z))
	}
}

func (r *Report) failedAddresses() []string {
	var out []string
	for _, rc := range r.Recipients {
		if rc.Action == Failed {
			out = append(out, sanitizeLine(rc.FinalRecipient.Value))
		}
	}
	return out
}

// statusPart returns the body of the message/delivery-status part.
func (r *Report) statusPart() []byte {
	var b bytes.Buffer
	typ := r.ReportingMTAType
	if typ == "" {
		typ = "dns"
	}
	writeField(&b, "Reporting-MTA", typ+"; "+r.ReportingMTA)
	if r.OriginalEnvelopeID != "" {
		writeField(&b, "Original-Envelope-ID", r.OriginalEnvelopeID)
	}
	writeDate(&b, "Arrival-Date", r.ArrivalDate)
	for _, f := range r.Extra {
		writeWrapped(&b, f.Name, f.Value, 0)
	}
	diag := r.diagnosticField()
	for _, rc := range r.Recipients {
		b.WriteString("\r\n")
		if !rc.OriginalRecipient.IsZero() {
			writeTyped(&b, "Original-Recipient", rc.OriginalRecipient, ";")
		}
		writeField(&b, "Action", rc.Action.String())
		writeTyped(&b, "Final-Recipient", rc.FinalRecipient, ";")
		status := rc.Status
		if status == "" {
			switch rc.Action {
			case Failed:
				status = "5.0.0"
			case Delayed:
				status = "4.0.0"
			default:
				status = "2.0.0"
			}
		}
		writeField(&b, "Status", status)
		message := truncate(sanitizeText(rc.Diagnostic), maxMessage)
		if rc.RemoteMTA != "" {
			writeField(&b, "Remote-MTA", "dns; "+rc.RemoteMTA)
			if rc.Action == Failed {
				if rc.RemoteIP.IsValid() {
					v := "X-ip; [" + rc.RemoteIP.String() + "]"
					if rc.RemotePort != 25 && rc.RemotePort != 0 {
						v += ":" + strconv.Itoa(rc.RemotePort)
					}
					writeField(&b, "Remote-MTA", v)
				}
				if s := truncate(firstLine(rc.Greeting), maxGreeting); s != "" {
					writeWrapped(&b, fieldGreeting, "X-str; "+s, wrapMaxChars)
				}
				if s := truncate(firstLine(rc.HELOResponse), maxGreeting); s != "" {
					writeWrapped(&b, fieldHELO, "X-str; "+s, wrapMaxChars)
				}
				if message != "" {
					writeWrapped(&b, diag, "X-str; "+message, wrapMaxChars)
				}
			}
			if rc.DiagnosticCode.IsZero() {
				if i := strings.Index(message, ": "); i >= 0 {
					b.WriteString(strings.ReplaceAll(diagCodeHead+diagnosticCode(message[i+2:]), "\n", "\r\n") + "\r\n")
				}
			}
		} else if rc.Action == Failed && message != "" {
			writeWrapped(&b, diag, "X-str; "+message, wrapMaxChars)
		}
		if !rc.DiagnosticCode.IsZero() {
			v := sanitizeText(rc.DiagnosticCode.Value)
			head := "Diagnostic-Code: "
			if rc.DiagnosticCode.Type != "" {
				head += rc.DiagnosticCode.Type + "; "
			}
			b.WriteString(strings.ReplaceAll(head+diagnosticCodeAfter(len(head), v), "\n", "\r\n") + "\r\n")
		}
		writeDate(&b, "Last-Attempt-Date", rc.LastAttemptDate)
		if rc.Action == Delayed {
			writeDate(&b, "Will-Retry-Until", rc.WillRetryUntil)
		}
		for _, f := range rc.Extra {
			writeWrapped(&b, f.Name, f.Value, 0)
		}
	}
	return b.Bytes()
}

// humanText returns the first part's text, sanitised, with CRLF line
// ends.
func (r *Report) humanText() []byte {
	text := r.HumanText
	if text == "" {
		text = r.defaultText()
	}
	text = sanitizeHuman(text)
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return []byte(strings.ReplaceAll(text, "\n", "\r\n"))
}

func (r *Report) defaultText() string {
	var b strings.Builder
	b.WriteString("This message was created automatically by mail delivery software.\n\n")
	if r.allDelayed() {
		b.WriteString("A message that you sent has not yet been delivered to one or more of its\n" +
			"recipients after some time. No action is required on your part. Delivery\n" +
			"attempts will continue for some time.\n\n")
	} else if r.noneFailed() {
		b.WriteString("This is the delivery status of a message that you sent, for one or more\n" +
			"of its recipients:\n\n")
	} else {
		b.WriteString("A message that you sent could not be delivered to one or more of its\n" +
			"recipients. This is a permanent error. The following address(es) failed:\n\n")
	}
	notice := r.noneFailed() && !r.allDelayed()
	for _, rc := range r.Recipients {
		b.WriteString(wrapText("  ", sanitizeLine(rc.FinalRecipient.Value)) + "\n")
		if notice {
			b.WriteString(wrapText("    ", actionText(rc.Action)) + "\n")
		}
		if m := truncate(sanitizeLine(rc.Diagnostic), maxMessage); m != "" {
			b.WriteString(wrapText("    ", m) + "\n")
		}
	}
	return b.String()
}

// actionText says what happened to a recipient of a report without
// failures.
func actionText(a Action) string {
	switch a {
	case Delivered:
		return "delivered to the recipient's mailbox"
	case Relayed:
		return "relayed to a mail server that sends no notifications; none will follow"
	case Expanded:
		return "delivered to the addresses it expands to"
	case Delayed:
		return "not yet delivered; delivery attempts will continue"
	}
	return "action: " + sanitizeLine(string(a))
}

// originalPart returns the third part's body with CRLF line ends (a
// lone CR or LF becomes CRLF) and what it holds: the header alone for
// ReturnHeaders, or for ReturnFull when a body line exceeds 998 octets
// (it cannot be copied as it is and must not be changed); nothing when
// a header line does.
func (r *Report) originalPart() ([]byte, Return) {
	if r.Return == ReturnNone || len(r.Original) == 0 {
		return nil, ReturnNone
	}
	o := bytes.ReplaceAll(r.Original, []byte("\r\n"), []byte("\n"))
	o = bytes.ReplaceAll(o, []byte("\r"), []byte("\n"))
	ret := r.Return
	head := o
	if i := bytes.Index(o, []byte("\n\n")); i >= 0 {
		head = o[:i+1]
	}
	if longestLine(head) > maxLine {
		return nil, ReturnNone
	}
	if ret == ReturnHeaders || longestLine(o) > maxLine {
		o, ret = head, ReturnHeaders
	}
	if !bytes.HasSuffix(o, []byte("\n")) {
		o = append(o, '\n')
	}
	return bytes.ReplaceAll(o, []byte("\n"), []byte("\r\n")), ret
}
