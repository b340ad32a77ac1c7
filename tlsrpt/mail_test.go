package tlsrpt

import (
	"bytes"
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
)

var testMail = MailOptions{
	From: "TLS Reports <tlsrpt@mx.sender.example>",
	To:   "reports@example.net",
	Date: time.Date(2026, 3, 15, 0, 10, 0, 0, time.UTC),
}

// checkLines fails unless every header line of msg is 7-bit, CRLF
// terminated and at most 998 octets.
func checkLines(t *testing.T, msg []byte) {
	t.Helper()
	hdr, _, ok := bytes.Cut(msg, []byte("\r\n\r\n"))
	if !ok {
		t.Fatal("no end of header")
	}
	for i, line := range bytes.Split(hdr, []byte("\r\n")) {
		if len(line) > 998 {
			t.Errorf("header line %d has %d octets", i, len(line))
		}
		for _, c := range line {
			if c >= 0x80 || c == '\r' || c == '\n' || c == 0 {
				t.Errorf("header line %d: octet %#x: %q", i, c, line)
			}
		}
	}
}

func TestMail(t *testing.T) {
	rep := sampleRecorder(t).Reports(day(2026, 3, 14), day(2026, 3, 15), testOrg)[0]
	var buf bytes.Buffer
	if err := rep.Mail(&buf, testMail); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	checkLines(t, raw)
	if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("a bare LF in the message")
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	for name, want := range map[string]string{
		"From":                 `"TLS Reports" <tlsrpt@mx.sender.example>`,
		"To":                   "<reports@example.net>",
		"Date":                 "Sun, 15 Mar 2026 00:10:00 +0000",
		"Subject":              "Report Domain: example.net Submitter: mx.sender.example Report-ID: <" + rep.ReportID + ">",
		"Message-Id":           "<" + rep.ReportID + ">",
		"Tls-Report-Domain":    "example.net",
		"Tls-Report-Submitter": "mx.sender.example",
		"Mime-Version":         "1.0",
	} {
		// net/mail keeps the folding white space; unfolding is the reader's.
		got := strings.Join(strings.Fields(h.Get(name)), " ")
		if got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/report" || params["report-type"] != "tlsrpt" || params["boundary"] == "" {
		t.Fatalf("Content-Type %q: %v", h.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	text, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if ct := text.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("first part %q", ct)
	}
	body, _ := io.ReadAll(text)
	if !strings.Contains(string(body), "mx.sender.example") || !strings.Contains(string(body), "example.net") {
		t.Errorf("text part %q", body)
	}
	att, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if ct := att.Header.Get("Content-Type"); ct != "application/tlsrpt+gzip" {
		t.Errorf("report part %q", ct)
	}
	if cte := att.Header.Get("Content-Transfer-Encoding"); cte != "base64" {
		t.Errorf("report encoding %q", cte)
	}
	disp, dparams, err := mime.ParseMediaType(att.Header.Get("Content-Disposition"))
	if err != nil || disp != "attachment" || dparams["filename"] != rep.Filename() {
		t.Errorf("Content-Disposition %q (%v), want filename %q", att.Header.Get("Content-Disposition"), err, rep.Filename())
	}
	got, err := Parse(base64.NewDecoder(base64.StdEncoding, att))
	if err != nil {
		t.Fatal(err)
	}
	want := *rep
	want.Submitter = ""
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("attached report %+v, want %+v", got, &want)
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Errorf("after the report: %v", err)
	}
}

func TestMailLongDomains(t *testing.T) {
	// The longest names DNS allows still give lines within 998 octets.
	label := strings.Repeat("a", 63)
	long := strings.Join([]string{label, label, label, strings.Repeat("b", 61)}, ".")
	if len(long) != 253 {
		t.Fatal(len(long))
	}
	r := NewRecorder(WithClock(newClock(day(2026, 3, 14)).now))
	r.Success(Policy{Type: PolicyNone, Domain: long})
	rep := r.Reports(day(2026, 3, 14), day(2026, 3, 15), Organization{Domain: long})[0]
	var buf bytes.Buffer
	if err := rep.Mail(&buf, MailOptions{From: "r@" + long, To: "x@" + long, Date: testMail.Date}); err != nil {
		t.Fatal(err)
	}
	checkLines(t, buf.Bytes())
	if !bytes.Contains(buf.Bytes(), []byte("TLS-Report-Domain: "+long+"\r\n")) {
		t.Error("no TLS-Report-Domain")
	}
}

func TestMailHostile(t *testing.T) {
	good := func() *Report {
		return sampleRecorder(t).Reports(day(2026, 3, 14), day(2026, 3, 15), testOrg)[0]
	}
	cases := []struct {
		name  string
		edit  func(*Report, *MailOptions)
		field string
	}{
		{"CRLF in the policy domain", func(r *Report, _ *MailOptions) {
			r.Policies[0].Policy.Domain = "example.net\r\nBcc: victim@example.org"
		}, "policy domain"},
		{"LF in the policy domain", func(r *Report, _ *MailOptions) { r.Policies[0].Policy.Domain = "example.net\nX: y" }, "policy domain"},
		{"space in the policy domain", func(r *Report, _ *MailOptions) { r.Policies[0].Policy.Domain = "example.net Submitter: evil" }, "policy domain"},
		{"UTF-8 policy domain", func(r *Report, _ *MailOptions) { r.Policies[0].Policy.Domain = "bücher.example" }, "policy domain"},
		{"overlong policy domain", func(r *Report, _ *MailOptions) {
			r.Policies[0].Policy.Domain = strings.Repeat("a.", 600) + "example"
		}, "policy domain"},
		{"overlong label", func(r *Report, _ *MailOptions) { r.Policies[0].Policy.Domain = strings.Repeat("a", 64) + ".example" }, "policy domain"},
		{"empty label", func(r *Report, _ *MailOptions) { r.Policies[0].Policy.Domain = "example..net" }, "policy domain"},
		{"no policies", func(r *Report, _ *MailOptions) { r.Policies = nil }, "policy domain"},
		{"CRLF in the submitter", func(r *Report, _ *MailOptions) { r.Submitter = "sender.example\r\nX: y" }, "submitter"},
		{"no submitter", func(r *Report, _ *MailOptions) { r.Submitter = "" }, "submitter"},
		{"CRLF in the report-id", func(r *Report, _ *MailOptions) { r.ReportID = "a@b\r\nX: y" }, "report-id"},
		{"report-id without @", func(r *Report, _ *MailOptions) { r.ReportID = "12345" }, "report-id"},
		{"overlong report-id", func(r *Report, _ *MailOptions) { r.ReportID = strings.Repeat("x", 1000) + "@b" }, "report-id"},
		{"CRLF in From", func(_ *Report, m *MailOptions) { m.From = "a@b.example\r\nBcc: victim@example.org" }, "From"},
		{"CRLF in a display name", func(_ *Report, m *MailOptions) { m.From = "\"x\r\nBcc: v@e\" <a@b.example>" }, "From"},
		{"UTF-8 local part", func(_ *Report, m *MailOptions) { m.From = "tlsrpt-ü@b.example" }, "header"},
		{"CRLF in To", func(_ *Report, m *MailOptions) { m.To = "a@b.example,\r\n c@d.example" }, "To"},
		{"not an address", func(_ *Report, m *MailOptions) { m.To = "nobody" }, "To"},
		{"overlong To", func(_ *Report, m *MailOptions) { m.To = strings.Repeat("x", 1000) + "@b.example" }, "header"},
		{"bad Message-ID", func(_ *Report, m *MailOptions) { m.MessageID = "<a b@c>" }, "Message-ID"},
		{"CRLF in Message-ID", func(_ *Report, m *MailOptions) { m.MessageID = "<a@c>\r\nX: y" }, "Message-ID"},
		{"no Date", func(_ *Report, m *MailOptions) { m.Date = time.Time{} }, "Date"},
	}
	for _, c := range cases {
		rep, m := good(), testMail
		c.edit(rep, &m)
		var buf bytes.Buffer
		err := rep.Mail(&buf, m)
		var me *MailError
		if !errors.As(err, &me) || me.Field != c.field {
			t.Errorf("%s: Mail = %v; want a *MailError for %s", c.name, err, c.field)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: %d bytes written despite the error", c.name, buf.Len())
		}
	}
	// A non-ASCII display name is encoded, not refused.
	rep, m := good(), testMail
	m.From = "Rapports TLS été <tlsrpt@mx.sender.example>"
	var buf bytes.Buffer
	if err := rep.Mail(&buf, m); err != nil {
		t.Fatal(err)
	}
	checkLines(t, buf.Bytes())
	msg, _ := mail.ReadMessage(&buf)
	if a, err := msg.Header.AddressList("From"); err != nil || a[0].Name != "Rapports TLS été" {
		t.Errorf("From %q: %v %v", msg.Header.Get("From"), a, err)
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestMailWriteError(t *testing.T) {
	rep := sampleRecorder(t).Reports(day(2026, 3, 14), day(2026, 3, 15), testOrg)[0]
	if err := rep.Mail(failWriter{}, testMail); err == nil || err.Error() != "disk full" {
		t.Errorf("Mail to a failing writer = %v", err)
	}
}
