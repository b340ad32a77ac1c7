package report_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/dmarc/report"
)

var mailDate = time.Date(2023, 11, 16, 1, 2, 3, 0, time.UTC)

func mailReport(t *testing.T) *report.Feedback {
	t.Helper()
	entries := []dmarc.HistoryEntry{historyEntry("example.com", "example.com", day0.Add(time.Hour))}
	return report.Aggregate(entries, day0, dayEnd, report.Reporter{
		OrgName: "Receiver", Email: "dmarc-contact@receiver.example", ReportIDPrefix: "mx1.",
	})[0]
}

// checkLines fails unless msg is CRLF-terminated 7-bit text with no
// line over 998 octets.
func checkLines(t *testing.T, msg []byte) {
	t.Helper()
	if !bytes.HasSuffix(msg, []byte("\r\n")) {
		t.Errorf("message does not end in CRLF")
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(msg, []byte("\r\n")), []byte("\r\n")) {
		if len(line) > 998 {
			t.Errorf("line %d: %d octets", i+1, len(line))
		}
		for _, c := range line {
			if c >= 0x80 || c == '\r' || c == '\n' || c == 0 {
				t.Errorf("line %d: octet %#x: %q", i+1, c, line)
				break
			}
		}
	}
}

func TestMail(t *testing.T) {
	f := mailReport(t)
	var b bytes.Buffer
	err := f.Mail(&b, report.MailOptions{From: "DMARC Reports <dmarc@receiver.example>", To: "rua@example.com", Date: mailDate})
	if err != nil {
		t.Fatal(err)
	}
	raw := b.Bytes()
	checkLines(t, raw)
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	want := map[string]string{
		"From":           `"DMARC Reports" <dmarc@receiver.example>`,
		"To":             "<rua@example.com>",
		"Date":           "Thu, 16 Nov 2023 01:02:03 +0000",
		"Subject":        "Report Domain: example.com Submitter: receiver.example Report-ID: <mx1.example.com.1700006400.1700092799>",
		"Message-Id":     "<mx1.example.com.1700006400.1700092799@receiver.example>",
		"Auto-Submitted": "auto-generated",
		"Mime-Version":   "1.0",
	}
	for k, v := range want {
		if got := strings.Join(strings.Fields(h.Get(k)), " "); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q: %v", h.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	text, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(text)
	if text.Header.Get("Content-Type") != "text/plain; charset=us-ascii" ||
		!strings.Contains(string(body), "example.com") || !strings.Contains(string(body), "2023-11-15T00:00:00Z to 2023-11-15T23:59:59Z") {
		t.Errorf("text part %v %q", text.Header, body)
	}
	att, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if ct := att.Header.Get("Content-Type"); ct != `application/gzip; name="receiver.example!example.com!1700006400!1700092799.xml.gz"` {
		t.Errorf("attachment Content-Type %q", ct)
	}
	if att.FileName() != f.Filename() {
		t.Errorf("attachment name %q, want %q", att.FileName(), f.Filename())
	}
	zr, err := gzip.NewReader(base64.NewDecoder(base64.StdEncoding, att))
	if err != nil {
		t.Fatal(err)
	}
	back, err := report.Parse(zr)
	if err != nil || !reflect.DeepEqual(back, f) {
		t.Errorf("attachment: %v\n%+v", err, back)
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Errorf("a third part: %v", err)
	}
	// The receiving side reads it back.
	if back, err := report.ParseMessage(bytes.NewReader(raw)); err != nil || !reflect.DeepEqual(back, f) {
		t.Errorf("ParseMessage: %v", err)
	}
	// Same report, same bytes: a report sent again is the same mail.
	var again bytes.Buffer
	f.Mail(&again, report.MailOptions{From: "DMARC Reports <dmarc@receiver.example>", To: "rua@example.com", Date: mailDate})
	if !bytes.Equal(again.Bytes(), raw) {
		t.Errorf("Mail is not deterministic")
	}
}

// RFC 9990 §5.3: a destination whose limit the encoded report exceeds
// must not be used; Mail says so and writes nothing.
func TestMailSizeLimit(t *testing.T) {
	f := mailReport(t)
	var full bytes.Buffer
	opts := report.MailOptions{From: "dmarc@receiver.example", To: "rua@example.com", Date: mailDate}
	if err := f.Mail(&full, opts); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	f.WriteGzip(&gz)
	enc := base64.StdEncoding.EncodedLen(gz.Len())
	encoded := int64(enc + (enc+75)/76*2) // with the CRLF of each line
	var b bytes.Buffer
	opts.MaxSize = encoded
	if err := f.Mail(&b, opts); err != nil || !bytes.Equal(b.Bytes(), full.Bytes()) {
		t.Errorf("at the limit: %v", err)
	}
	b.Reset()
	opts.MaxSize = encoded - 1
	err := f.Mail(&b, opts)
	var se *report.SizeError
	if !errors.Is(err, report.ErrTooLarge) || !errors.As(err, &se) || se.Size != encoded || se.Limit != encoded-1 || b.Len() != 0 {
		t.Errorf("over the limit: %v (%+v), %d bytes written", err, se, b.Len())
	}
}

func TestMailHostile(t *testing.T) {
	opts := report.MailOptions{From: "dmarc@receiver.example", To: "rua@example.com", Date: mailDate}
	for name, c := range map[string]struct {
		edit func(*report.Feedback, *report.MailOptions)
		want string
	}{
		"domain with CRLF": {func(f *report.Feedback, _ *report.MailOptions) {
			f.Policy.Domain = "example.com\r\nBcc: x@evil.example"
		}, "policy domain"},
		"domain with space":   {func(f *report.Feedback, _ *report.MailOptions) { f.Policy.Domain = "example.com Submitter: x" }, "policy domain"},
		"email with CRLF":     {func(f *report.Feedback, _ *report.MailOptions) { f.Metadata.Email = "a@evil.example\r\nX: y" }, "submitter"},
		"From with LF":        {func(_ *report.Feedback, m *report.MailOptions) { m.From = "a@receiver.example\nBcc: x@evil.example" }, "control"},
		"two From addresses":  {func(_ *report.Feedback, m *report.MailOptions) { m.From = "a@receiver.example, b@receiver.example" }, "one address"},
		"To with CR":          {func(_ *report.Feedback, m *report.MailOptions) { m.To = "a@example.com\r" }, "control"},
		"To quoted local":     {func(_ *report.Feedback, m *report.MailOptions) { m.To = `"a b"@example.com` }, "plain"},
		"Message-ID with LF":  {func(_ *report.Feedback, m *report.MailOptions) { m.MessageID = "<a@b>\nX: y" }, "Message-ID"},
		"Message-ID no angle": {func(_ *report.Feedback, m *report.MailOptions) { m.MessageID = "a@b" }, "Message-ID"},
	} {
		f := mailReport(t)
		m := opts
		c.edit(f, &m)
		var b bytes.Buffer
		err := f.Mail(&b, m)
		if err == nil || !strings.Contains(err.Error(), c.want) || b.Len() != 0 || strings.ContainsAny(err.Error(), "\r\n") && name != "From with LF" {
			t.Errorf("%s: %v (%d bytes written)", name, err, b.Len())
		}
	}

	// Values that can be made safe are: a report_id that is no dot-atom
	// loses the optional Report-ID part (and the Message-ID is made from
	// a digest), an IDN domain is written as A-labels, a UTF-8 display
	// name is RFC 2047-encoded, a long org name only reaches the XML.
	f := mailReport(t)
	f.Metadata.ReportID = "id\r\nBcc: x@evil.example"
	f.Policy.Domain = "bücher.example"
	f.Metadata.OrgName = strings.Repeat("Ω\r\n", 600)
	m := opts
	m.From = "Rapports DMARC café <dmarc@receiver.example>"
	var b bytes.Buffer
	if err := f.Mail(&b, m); err != nil {
		t.Fatal(err)
	}
	checkLines(t, b.Bytes())
	msg, err := mail.ReadMessage(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(strings.Fields(msg.Header.Get("Subject")), " "); got != "Report Domain: xn--bcher-kva.example Submitter: receiver.example" {
		t.Errorf("Subject %q", got)
	}
	if id := msg.Header.Get("Message-Id"); !strings.HasPrefix(id, "<dmarc.") || !strings.HasSuffix(id, "@receiver.example>") {
		t.Errorf("Message-ID %q", id)
	}
	if from, err := msg.Header.AddressList("From"); err != nil || from[0].Name != "Rapports DMARC café" {
		t.Errorf("From %v %v", from, err)
	}
	if len(msg.Header) != 8 {
		t.Errorf("header fields %v", msg.Header)
	}
	back, err := report.ParseMessage(bytes.NewReader(b.Bytes()))
	if err != nil || back.Metadata.OrgName != f.Metadata.OrgName {
		t.Errorf("ParseMessage: %v", err)
	}
}
