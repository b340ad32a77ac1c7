package dmarc

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/netip"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/spf"
)

// forensicOriginal is a received message; the report must carry its
// header section and never its body.
const forensicOriginal = "Received: from mail.example.com ([192.0.2.1] helo=mail.example.com)\n" +
	"\tby mx.example.org with esmtp (Exim 4.99)\n" +
	"\t(envelope-from <bounce@example.com>)\n" +
	"\tid 1tABCD-000123-4X; Tue, 02 Mar 1999 09:44:30 +0000\n" +
	"From: \"Example Bank\" <service@example.com>\n" +
	"To: victim@example.org\n" +
	"Subject: Please verify your account\n" +
	"Date: Tue, 02 Mar 1999 09:44:00 +0000\n" +
	"Message-ID: <orig.1@mail.example.com>\n" +
	"In-Reply-To: <parent@example.net>\n" +
	"References: <root@example.net>\n" +
	" <parent@example.net>\n" +
	"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel;\n" +
	"\th=from:to:subject; bh=AAAA; b=BBBB\n" +
	"\n" +
	"Body text that must not be reported.\n"

// forensicHeadersCRLF is forensicOriginal's header section as the
// report carries it.
var forensicHeadersCRLF = strings.ReplaceAll(forensicOriginal[:strings.Index(forensicOriginal, "\n\n")+1], "\n", "\r\n")

// forensicFixtureAR is the Authentication-Results field the fixture's
// options give ForensicReports.
const forensicFixtureAR = "Authentication-Results: mx.example.org;\r\n\tspf=pass smtp.mailfrom=example.com;\r\n\tdkim=fail (unspecified reason)\r\n\t\theader.d=example.com header.s=sel header.a=rsa-sha256;\r\n\tdmarc=fail header.from=example.com"

func forensicFixture() (*Input, *Outcome, []Option) {
	in := &Input{
		HeaderFrom: []string{`"Example Bank" <service@example.com>`},
		MailFrom:   "bounce@example.com",
		HELO:       "mail.example.com",
		ClientIP:   netip.MustParseAddr("192.0.2.1"),
		SPF:        spf.Pass,
		SPFDomain:  "example.com",
	}
	rec, err := ParseRecord("v=DMARC1; p=reject; ruf=mailto:dmarc@example.com,mailto:forensic@reports.example.net!20k; fo=1")
	if err != nil {
		panic(err)
	}
	o := &Outcome{
		Status:      StatusReject,
		StatusText:  StatusReject.Text(),
		UsedDomain:  "example.com",
		FromDomain:  "example.com",
		AlignedDKIM: true,
		Record:      rec,
		Forensic:    []string{"dmarc@example.com", "forensic@reports.example.net"},
	}
	opts := []Option{
		WithForensicReporter("Mail Delivery System <Mailer-Daemon@mx.example.org>"),
		WithReportingMTA("mx.example.org"),
		WithClock(func() time.Time { return time.Date(1999, 3, 2, 9, 44, 33, 0, time.UTC) }),
		WithForensicRand(rand.NewChaCha8([32]byte{1, 2, 3})),
		WithForensicAuthResults(forensicFixtureAR),
	}
	return in, o, opts
}

// forensicParts parses a report with net/mail and mime/multipart,
// checking the MIME structure RFC 5965 §2 asks for, and returns the
// top-level header and the three parts (decoded).
func forensicParts(t testing.TB, msg []byte) (mail.Header, []*multipart.Part, [][]byte) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("net/mail: %v\n%s", err, msg)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/report" || params["report-type"] != "feedback-report" || params["boundary"] == "" {
		t.Fatalf("Content-Type %q: %v %v", m.Header.Get("Content-Type"), mt, params)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var parts []*multipart.Part
	var bodies [][]byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("part %d: %v", len(parts)+1, err)
		}
		parts = append(parts, p)
		bodies = append(bodies, b)
	}
	want := []string{"text/plain", "message/feedback-report", "text/rfc822-headers"}
	if len(parts) != len(want) {
		t.Fatalf("%d parts, want %d", len(parts), len(want))
	}
	for i, p := range parts {
		if mt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); mt != want[i] {
			t.Errorf("part %d is %q, want %q", i+1, mt, want[i])
		}
	}
	return m.Header, parts, bodies
}

// forensicLines checks what every report must be: CRLF line ends only,
// 7-bit, no NUL, lines of at most 998 bytes.
func forensicLines(t testing.TB, msg []byte) {
	t.Helper()
	for i, c := range msg {
		switch {
		case c == '\r' && (i+1 >= len(msg) || msg[i+1] != '\n'):
			t.Fatalf("bare CR at %d", i)
		case c == '\n' && (i == 0 || msg[i-1] != '\r'):
			t.Fatalf("bare LF at %d", i)
		case c == 0 || c >= 0x80:
			t.Fatalf("byte %#x at %d", c, i)
		}
	}
	if !bytes.HasSuffix(msg, []byte("\r\n")) {
		t.Fatal("message does not end with CRLF")
	}
	for n, l := range bytes.Split(msg, []byte("\r\n")) {
		if len(l) > 998 {
			t.Fatalf("line %d has %d bytes", n+1, len(l))
		}
	}
}

// forensicTopFields returns the raw top-level header lines (folded as
// sent), for checking our own fields for injected lines.
func forensicTopFields(msg []byte) []string {
	end := bytes.Index(msg, []byte("\r\n\r\n"))
	if end < 0 {
		return nil
	}
	return strings.Split(string(msg[:end]), "\r\n")
}

func TestForensicReportsStructure(t *testing.T) {
	in, o, opts := forensicFixture()
	reports, err := ForensicReports(in, o, []byte(forensicOriginal), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 2 || reports[0].To != "dmarc@example.com" || reports[1].To != "forensic@reports.example.net" {
		t.Fatalf("reports to %+v", reports)
	}
	for _, r := range reports {
		if r.EnvelopeFrom != "" {
			t.Errorf("envelope sender %q, want null", r.EnvelopeFrom)
		}
		forensicLines(t, r.Message)
		if bytes.Contains(r.Message, []byte("must not be reported")) {
			t.Error("the original body is in the report")
		}
		h, parts, bodies := forensicParts(t, r.Message)

		fields := map[string]string{
			"From":           "Mail Delivery System <Mailer-Daemon@mx.example.org>",
			"To":             r.To,
			"Date":           "Tue, 02 Mar 1999 09:44:33 +0000",
			"Subject":        "DMARC Forensic Report for example.com from IP 192.0.2.1",
			"Auto-Submitted": "auto-replied",
			"MIME-Version":   "1.0",
			"References":     "<root@example.net> <parent@example.net> <orig.1@mail.example.com>",
		}
		for k, want := range fields {
			if got := h.Get(k); got != want {
				t.Errorf("%s: %q, want %q", k, got, want)
			}
		}
		if _, err := h.AddressList("From"); err != nil {
			t.Errorf("From: %v", err)
		}
		if _, err := h.Date(); err != nil {
			t.Errorf("Date: %v", err)
		}
		if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<dmarc-forensic.") || !strings.HasSuffix(id, "@mx.example.org>") {
			t.Errorf("Message-ID %q", id)
		}

		// Part 1: Exim's text (the golden test checks it in full).
		if got := parts[0].Header.Get("Content-Type"); got != "text/plain; charset=us-ascii" {
			t.Errorf("part 1 Content-Type %q", got)
		}
		if !bytes.HasPrefix(bodies[0], []byte("A message claiming to be from you")) || !bytes.HasSuffix(bodies[0], []byte(forensicHeadersCRLF)) {
			t.Errorf("part 1:\n%s", bodies[0])
		}

		// Part 2: RFC 6591 fields, each exactly once.
		fr := forensicReportFields(t, bodies[1])
		want2 := map[string]string{
			"Feedback-Type":          "auth-failure",
			"User-Agent":             forensicUserAgent,
			"Version":                "1",
			"Auth-Failure":           "dmarc",
			"Original-Mail-From":     "<bounce@example.com>",
			"Arrival-Date":           "Tue, 02 Mar 1999 09:44:33 +0000",
			"Reporting-Mta":          "dns; mx.example.org",
			"Source-Ip":              "192.0.2.1",
			"Reported-Domain":        "example.com",
			"Authentication-Results": "mx.example.org; spf=pass smtp.mailfrom=example.com; dkim=fail (unspecified reason) header.d=example.com header.s=sel header.a=rsa-sha256; dmarc=fail header.from=example.com",
			"Identity-Alignment":     "dkim",
			"Delivery-Result":        "reject",
		}
		for k, want := range want2 {
			if v := fr[k]; len(v) != 1 || forensicUnfold(v[0]) != want {
				t.Errorf("feedback %s: %q, want %q", k, v, want)
			}
		}
		if len(fr) != len(want2) {
			t.Errorf("feedback report has fields %v", fr)
		}
		if _, err := mail.ParseDate(fr["Arrival-Date"][0]); err != nil {
			t.Errorf("Arrival-Date: %v", err)
		}
		if _, err := netip.ParseAddr(fr["Source-Ip"][0]); err != nil {
			t.Errorf("Source-IP: %v", err)
		}

		// Part 3: the header section, byte for byte with CRLF.
		if got := parts[2].Header.Get("Content-Transfer-Encoding"); got != "7bit" {
			t.Errorf("part 3 encoding %q", got)
		}
		if string(bodies[2]) != forensicHeadersCRLF {
			t.Errorf("part 3:\n%q\nwant\n%q", bodies[2], forensicHeadersCRLF)
		}
		if hm, err := mail.ReadMessage(io.MultiReader(bytes.NewReader(bodies[2]), strings.NewReader("\r\n"))); err != nil || hm.Header.Get("Message-Id") != "<orig.1@mail.example.com>" {
			t.Errorf("part 3 does not parse as a header: %v", err)
		}
	}
	if bytes.Equal(reports[0].Message[:200], reports[1].Message[:200]) {
		t.Error("reports share Message-ID")
	}
}

// forensicReportFields parses a message/feedback-report body.
func forensicReportFields(t testing.TB, body []byte) textproto.MIMEHeader {
	t.Helper()
	h, err := textproto.NewReader(bufio.NewReader(io.MultiReader(bytes.NewReader(body), strings.NewReader("\r\n\r\n")))).ReadMIMEHeader()
	if err != nil {
		t.Fatalf("feedback report: %v\n%s", err, body)
	}
	return h
}

func forensicUnfold(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// TestForensicHumanText is the golden check of part 1: Exim's text as
// the spec's §2.9 shows it, then the headers.
func TestForensicHumanText(t *testing.T) {
	in, o, opts := forensicFixture()
	o.Forensic = o.Forensic[:1]
	reports, err := ForensicReports(in, o, []byte(forensicOriginal), opts...)
	if err != nil {
		t.Fatal(err)
	}
	_, _, bodies := forensicParts(t, reports[0].Message)
	want := "A message claiming to be from you has failed the published DMARC\r\n" +
		"policy for your domain.\r\n" +
		"\r\n" +
		"  Sender Domain: example.com\r\n" +
		"  Sender IP Address: 192.0.2.1\r\n" +
		"  Received Date: Tue, 02 Mar 1999 09:44:33 +0000\r\n" +
		"  SPF Alignment: no\r\n" +
		"  DKIM Alignment: yes\r\n" +
		"  DMARC Results: Reject\r\n" +
		"\r\n" +
		"------ This is a copy of the headers that were received before the error\r\n" +
		"       was detected.\r\n" +
		"\r\n" +
		forensicHeadersCRLF
	if string(bodies[0]) != want {
		t.Errorf("text part:\n%s\nwant:\n%s", bodies[0], want)
	}

	// Quarantine, SPF aligned, local time with its offset.
	o.Status, o.StatusText, o.AlignedSPF, o.AlignedDKIM = StatusQuarantine, "", true, false
	opts = append(opts, WithClock(func() time.Time { return time.Date(2025, 4, 7, 23, 16, 9, 0, time.FixedZone("CEST", 2*3600)) }))
	reports, err = ForensicReports(in, o, []byte(forensicOriginal), opts...)
	if err != nil {
		t.Fatal(err)
	}
	h, _, bodies := forensicParts(t, reports[0].Message)
	for _, line := range []string{"  Received Date: Mon, 07 Apr 2025 23:16:09 +0200\r\n", "  SPF Alignment: yes\r\n", "  DKIM Alignment: no\r\n", "  DMARC Results: Quarantine\r\n"} {
		if !bytes.Contains(bodies[0], []byte(line)) {
			t.Errorf("text part lacks %q", line)
		}
	}
	if got := h.Get("Date"); got != "Mon, 07 Apr 2025 23:16:09 +0200" {
		t.Errorf("Date %q", got)
	}
	fr := forensicReportFields(t, bodies[1])
	if fr.Get("Identity-Alignment") != "spf" || fr.Get("Delivery-Result") != "spam" {
		t.Errorf("alignment %q, delivery %q", fr.Get("Identity-Alignment"), fr.Get("Delivery-Result"))
	}
}

func TestForensicSender(t *testing.T) {
	in, o, opts := forensicFixture()
	sender := "DMARC reports <dmarc-reports@mx.example.org>"
	opts = append(opts, WithForensicSender(sender))
	reports, err := ForensicReports(in, o, []byte(forensicOriginal), opts...)
	if err != nil {
		t.Fatal(err)
	}
	r := reports[0]
	if r.EnvelopeFrom != "dmarc-reports@mx.example.org" {
		t.Errorf("envelope sender %q", r.EnvelopeFrom)
	}
	h, _, _ := forensicParts(t, r.Message)
	if got := h.Get("From"); got != sender {
		t.Errorf("From %q", got)
	}

	// A non-ASCII display name is RFC 2047-encoded; the message stays 7-bit.
	opts = append(opts, WithForensicSender("Rapports DMARC é <dmarc@mx.example.org>"))
	reports, err = ForensicReports(in, o, []byte(forensicOriginal), opts...)
	if err != nil {
		t.Fatal(err)
	}
	forensicLines(t, reports[0].Message)
	h, _, _ = forensicParts(t, reports[0].Message)
	a, err := h.AddressList("From")
	if err != nil || len(a) != 1 || a[0].Name != "Rapports DMARC é" || a[0].Address != "dmarc@mx.example.org" {
		t.Errorf("From %q: %v %v", h.Get("From"), a, err)
	}

	// Without ReportingMTA: no Reporting-MTA:, Message-ID from the sender's domain.
	opts = append(opts, WithReportingMTA(""))
	reports, err = ForensicReports(in, o, []byte(forensicOriginal), opts...)
	if err != nil {
		t.Fatal(err)
	}
	h, _, bodies := forensicParts(t, reports[0].Message)
	if !strings.HasSuffix(h.Get("Message-ID"), "@mx.example.org>") {
		t.Errorf("Message-ID %q", h.Get("Message-ID"))
	}
	if fr := forensicReportFields(t, bodies[1]); fr.Get("Reporting-MTA") != "" {
		t.Errorf("Reporting-MTA %q", fr.Get("Reporting-MTA"))
	}
}

func TestForensicErrors(t *testing.T) {
	in, o, opts := forensicFixture()
	orig := []byte(forensicOriginal)

	if r, err := ForensicReports(in, nil, orig, opts...); r != nil || !errors.Is(err, ErrForensicNoRecord) {
		t.Errorf("nil outcome: %v %v", r, err)
	}
	noRec := *o
	noRec.Record = nil
	if r, err := ForensicReports(in, &noRec, orig, opts...); r != nil || !errors.Is(err, ErrForensicNoRecord) {
		t.Errorf("nil record: %v %v", r, err)
	}
	none := *o
	none.Forensic = nil
	if r, err := ForensicReports(in, &none, orig, opts...); r != nil || err != nil {
		t.Errorf("no ruf addresses: %v %v", r, err)
	}
	// With nothing to send, options are not even looked at.
	if r, err := ForensicReports(nil, &none, orig); r != nil || err != nil {
		t.Errorf("no ruf addresses, no options: %v %v", r, err)
	}
	if r, err := ForensicReports(nil, o, orig, opts...); r != nil || !errors.Is(err, ErrForensicNoInput) {
		t.Errorf("nil input: %v %v", r, err)
	}
	noIP := *in
	noIP.ClientIP = netip.Addr{}
	if r, err := ForensicReports(&noIP, o, orig, opts...); r != nil || !errors.Is(err, ErrForensicNoInput) {
		t.Errorf("no client IP: %v %v", r, err)
	}

	// A Rand that repeats itself makes every boundary the same; the
	// trap header contains that boundary.
	trap := append([]byte("X-Trap: =_dmarc_"+strings.Repeat("00", 12)+"\n"), orig...)
	bad := []struct {
		option string
		opt    Option
		orig   []byte
	}{
		{"WithForensicReporter", WithForensicReporter(""), nil},
		{"WithForensicReporter", WithForensicReporter("Mail Delivery System"), nil},
		{"WithForensicReporter", WithForensicReporter("a@x.example, b@x.example"), nil},
		{"WithForensicSender", WithForensicSender("not an address"), nil},
		{"WithForensicSender", WithForensicSender("<>"), nil},
		{"WithForensicSender", WithForensicSender("x@mx.example.org\r\nBcc: victim@example.net"), nil},
		{"WithForensicSender", WithForensicSender(`"a b"@mx.example.org`), nil},
		{"WithForensicSender", WithForensicSender("x@[192.0.2.1]"), nil},
		{"WithReportingMTA", WithReportingMTA("mx.example.org\r\nX-Evil: 1"), nil},
		{"WithReportingMTA", WithReportingMTA("mx..example.org"), nil},
		{"WithForensicRand", WithForensicRand(strings.NewReader("short")), nil},
		{"WithForensicRand", WithForensicRand(bytes.NewReader(bytes.Repeat([]byte{0}, 1024))), trap},
	}
	for _, c := range bad {
		opts2 := append(opts[:len(opts):len(opts)], WithForensicRand(rand.NewChaCha8([32]byte{})), c.opt)
		orig := orig
		if c.orig != nil {
			orig = c.orig
		}
		r, err := ForensicReports(in, o, orig, opts2...)
		var oe *ForensicOptionError
		if r != nil || !errors.As(err, &oe) || oe.Option != c.option {
			t.Errorf("%s case: %v %v", c.option, r, err)
		}
	}

	// A ruf= address that is no plain mailbox is skipped, the others
	// still get their report.
	o2 := *o
	o2.Forensic = []string{"dmarc@example.com\r\nBcc: victim@example.net", "MAILTO:dmarc@example.com", "dmarc@example.com", "no-at-sign", "x@-bad-.example"}
	r, err := ForensicReports(in, &o2, orig, opts...)
	if len(r) != 1 || r[0].To != "dmarc@example.com" {
		t.Errorf("reports %+v", r)
	}
	var skips []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var se *ForensicSkipError
		if !errors.As(e, &se) || !errors.Is(e, ErrForensicBadRecipient) {
			t.Errorf("skip error %v", e)
			continue
		}
		skips = append(skips, se.Recipient)
	}
	if len(skips) != 3 {
		t.Errorf("skipped %q", skips)
	}
}

func TestForensicSizeLimit(t *testing.T) {
	in, o, opts := forensicFixture()
	// A big header section, as with many Received: lines.
	var big strings.Builder
	for i := 0; i < 200; i++ {
		big.WriteString("Received: from relay" + strings.Repeat("x", 40) + ".example.net by mx.example.org; Tue, 02 Mar 1999 09:44:30 +0000\n")
	}
	orig := []byte(big.String() + forensicOriginal)

	build := func(ruf string) ([]ForensicReport, error) {
		rec, err := ParseRecord("v=DMARC1; p=reject; ruf=" + ruf)
		if err != nil {
			t.Fatal(err)
		}
		o2 := *o
		o2.Record = rec
		o2.Forensic = []string{"dmarc@example.com"}
		opts := append(opts[:len(opts):len(opts)], WithForensicRand(rand.NewChaCha8([32]byte{9})))
		return ForensicReports(in, &o2, orig, opts...)
	}
	full, err := build("mailto:dmarc@example.com")
	if err != nil {
		t.Fatal(err)
	}
	fullLen := len(full[0].Message)
	if fullLen < 40000 {
		t.Fatalf("full report only %d bytes", fullLen)
	}

	// 100k fits: the full report.
	r, err := build("mailto:dmarc@example.com!100k")
	if err != nil || !bytes.Equal(r[0].Message, full[0].Message) {
		t.Fatalf("100k: %v", err)
	}

	// 30k: no copy in part 1, all headers in part 3.
	r, err = build("mailto:dmarc@example.com!30k")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(r[0].Message); n > 30*1024 || n >= fullLen {
		t.Errorf("30k report has %d bytes", n)
	}
	_, _, bodies := forensicParts(t, r[0].Message)
	if bytes.Contains(bodies[0], []byte("Received:")) || !bytes.Contains(bodies[0], []byte("DMARC Results: Reject\r\n")) {
		t.Errorf("30k part 1:\n%s", bodies[0])
	}
	if !bytes.HasSuffix(bodies[2], []byte(forensicHeadersCRLF)) || !bytes.HasPrefix(bodies[2], []byte("Received: from relay")) {
		t.Error("30k part 3 lacks headers")
	}
	if fr := forensicReportFields(t, bodies[1]); fr.Get("Feedback-Type") != "auth-failure" {
		t.Error("30k part 2 lost")
	}

	// 2k: only the main fields in part 3.
	r, err = build("mailto:dmarc@example.com!2k")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(r[0].Message); n > 2048 {
		t.Errorf("2k report has %d bytes", n)
	}
	_, _, bodies = forensicParts(t, r[0].Message)
	wantMain := "From: \"Example Bank\" <service@example.com>\r\n" +
		"To: victim@example.org\r\n" +
		"Subject: Please verify your account\r\n" +
		"Date: Tue, 02 Mar 1999 09:44:00 +0000\r\n" +
		"Message-ID: <orig.1@mail.example.com>\r\n"
	if string(bodies[2]) != wantMain {
		t.Errorf("2k part 3:\n%s", bodies[2])
	}

	// 1k: too small even so; the address is skipped, the unlimited one is not.
	rec, err := ParseRecord("v=DMARC1; p=reject; ruf=mailto:dmarc@example.com!1k,mailto:other@example.com")
	if err != nil {
		t.Fatal(err)
	}
	o2 := *o
	o2.Record = rec
	o2.Forensic = []string{"dmarc@example.com", "other@example.com"}
	r, err = ForensicReports(in, &o2, orig, opts...)
	var se *ForensicSkipError
	if len(r) != 1 || r[0].To != "other@example.com" || !errors.As(err, &se) || !errors.Is(err, ErrForensicTooLarge) ||
		se.Recipient != "dmarc@example.com" || se.Limit != 1024 || se.Size <= 1024 {
		t.Errorf("1k: %d reports, %v", len(r), err)
	}

	// The same address twice with two limits: the stricter one counts.
	if got := forensicLimit(&Record{RUF: []URI{{Address: "mailto:a@x.example", MaxSize: 2, Unit: 'm'}, {Address: "mailto:A@x.example", MaxSize: 5, Unit: 'k'}, {Address: "mailto:a@x.example"}}}, "a@x.example"); got != 5*1024 {
		t.Errorf("limit %d", got)
	}
	if got := forensicLimit(&Record{RUF: []URI{{Address: "mailto:a@x.example?subject=x", MaxSize: 7}}}, "a@x.example"); got != 7 {
		t.Errorf("limit with query %d", got)
	}
}

func TestForensicDeterministic(t *testing.T) {
	in, o, opts := forensicFixture()
	run := func(seed byte) []ForensicReport {
		opts := append(opts[:len(opts):len(opts)], WithForensicRand(rand.NewChaCha8([32]byte{seed})))
		r, err := ForensicReports(in, o, []byte(forensicOriginal), opts...)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b, c := run(7), run(7), run(8)
	for i := range a {
		if !bytes.Equal(a[i].Message, b[i].Message) {
			t.Error("same Now and Rand, different report")
		}
		if bytes.Equal(a[i].Message, c[i].Message) {
			t.Error("different Rand, same report")
		}
	}
}

func TestForensicReferences(t *testing.T) {
	refs := func(hdr string) string {
		return forensicReferences(forensicFields(forensicHeaderLines([]byte(hdr))))
	}
	var ids []string
	for i := 1; i <= 15; i++ {
		ids = append(ids, "<r"+strings.Repeat("x", i)+"@example.net>")
	}
	cases := []struct{ hdr, want string }{
		{"Message-ID: <a@x>\n", "<a@x>"},
		{"Subject: none\n", ""},
		{"In-Reply-To: <p@x>\nMessage-ID: <a@x>\n", "<p@x> <a@x>"},
		{"In-Reply-To: <p@x> <q@x>\nMessage-ID: <a@x>\n", "<a@x>"},
		{"References: <r@x> (comment) <p@x>\nIn-Reply-To: <p@x>\nMessage-ID: <a@x>\n", "<r@x> <p@x> <a@x>"},
		{"References: <r@x> <a@x>\nMessage-ID: <a@x>\n", "<r@x> <a@x>"},
		{"References: <bad id@x> <\x01@x> <ok@x>\nMessage-ID: <a@x>\n", "<ok@x> <a@x>"},
		{"message-id:   <a@x>  \n", "<a@x>"},
		{"References: " + strings.Join(ids, "\n ") + "\nMessage-ID: <own@x>\n",
			strings.Join(append(append([]string{ids[0]}, ids[5:]...), "<own@x>"), " ")},
	}
	for _, c := range cases {
		if got := refs(c.hdr); got != c.want {
			t.Errorf("%q: %q, want %q", c.hdr, got, c.want)
		}
		if n := len(strings.Fields(refs(c.hdr))); n > 12 {
			t.Errorf("%d ids", n)
		}
	}

	// Long ids fold at spaces into lines of at most 78 bytes.
	in, o, opts := forensicFixture()
	orig := "References: " + strings.Join(ids, " ") + "\nMessage-ID: <own@x>\n\n"
	r, err := ForensicReports(in, o, []byte(orig), opts...)
	if err != nil {
		t.Fatal(err)
	}
	h, _, _ := forensicParts(t, r[0].Message)
	if n := len(strings.Fields(h.Get("References"))); n != 12 {
		t.Errorf("References has %d ids", n)
	}
	in2 := false
	for _, l := range forensicTopFields(r[0].Message) {
		if strings.HasPrefix(l, "References:") {
			in2 = true
		} else if l == "" || (l[0] != ' ' && l[0] != '\t') {
			in2 = false
		}
		if in2 && len(l) > 78 {
			t.Errorf("References line of %d bytes", len(l))
		}
	}
}

func TestForensicFold(t *testing.T) {
	cases := []string{
		"short",
		strings.Repeat("word ", 100),
		strings.Repeat("x", 3000),
		"a " + strings.Repeat("y", 1200) + " b",
		strings.Repeat("z", 80) + "  " + strings.Repeat("w", 80),
		"trailing   ",
	}
	for _, v := range cases {
		f := string(forensicField(nil, "Authentication-Results", v))
		if !strings.HasSuffix(f, "\r\n") {
			t.Fatalf("no CRLF: %q", f)
		}
		lines := strings.Split(strings.TrimSuffix(f, "\r\n"), "\r\n")
		for i, l := range lines {
			if len(l) > 998 {
				t.Errorf("line of %d bytes", len(l))
			}
			if i > 0 && (l == "" || l[0] != ' ' && l[0] != '\t' || strings.TrimSpace(l) == "") {
				t.Errorf("bad continuation %q", l)
			}
			if i == 0 {
				l = strings.TrimPrefix(l, "Authentication-Results: ")
			}
			if len(l) > 78 && strings.ContainsAny(strings.TrimSpace(l), " \t") {
				t.Errorf("line of %d bytes could have been folded", len(l))
			}
		}
		// Unfolding gives the value back, except for the spaces added
		// when a word is longer than a line.
		got := strings.TrimPrefix(strings.ReplaceAll(f[:len(f)-2], "\r\n", ""), "Authentication-Results: ")
		if len(v) < 998 && got != strings.TrimRight(v, " ") {
			t.Errorf("unfolded %q, want %q", got, v)
		}
		if strings.ReplaceAll(got, " ", "") != strings.ReplaceAll(v, " ", "") {
			t.Errorf("content changed for %q", v[:20])
		}
	}
}

// TestForensicHostile puts remote-controlled text with CR, LF, NUL and
// 8-bit bytes everywhere and checks that the report's own fields and
// structure survive, and the received headers come through intact.
func TestForensicHostile(t *testing.T) {
	in, o, opts := forensicFixture()
	in.MailFrom = "x@example.com>\r\nBcc: victim@example.net\r\n\r\n--=_dmarc_"
	o.FromDomain = "example.com\r\nX-Injected: from\x00domain"
	o.UsedDomain = "example.com\nX-Injected: used\rdomain"
	opts = append(opts, WithForensicAuthResults("Authentication-Results: mx; dmarc=fail\r\nX-Injected: ar\n\tfolded"))
	o.StatusText = "Reject\r\n--=_dmarc_"
	orig := "Subject: caf\xc3\xa9 \r\n" +
		"X-Bare-CR: a\rb\r\n" +
		"X-Nul: a\x00b\r\n" +
		"X-Latin1: \xe9t\xe9\r\n" +
		"X-Long: " + strings.Repeat("L", 1500) + "\r\n" +
		"X-Boundary-Guess: --=_dmarc_0000\r\n" +
		"Message-ID: <a@x>\r\n\r\nbody\r\n"
	reports, err := ForensicReports(in, o, []byte(orig), opts...)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		forensicLines(t, r.Message)
		for _, l := range forensicTopFields(r.Message) {
			if strings.HasPrefix(strings.TrimSpace(l), "X-Injected") || strings.HasPrefix(strings.TrimSpace(l), "Bcc") {
				t.Errorf("injected top-level line %q", l)
			}
		}
		h, parts, bodies := forensicParts(t, r.Message)
		if got := h.Get("Subject"); got != "DMARC Forensic Report for example.com?X-Injected: used?domain from IP 192.0.2.1" {
			t.Errorf("Subject %q", got)
		}
		fr := forensicReportFields(t, bodies[1])
		if len(fr["X-Injected"]) > 0 || len(fr["Bcc"]) > 0 {
			t.Errorf("injected feedback field: %v", fr)
		}
		if got := fr.Get("Reported-Domain"); got != "example.com??X-Injected: from?domain" {
			t.Errorf("Reported-Domain %q", got)
		}
		if got := fr.Get("Original-Mail-From"); got != "<x@example.com>??Bcc: victim@example.net????--=_dmarc_>" {
			t.Errorf("Original-Mail-From %q", got)
		}
		if got := forensicUnfold(fr.Get("Authentication-Results")); got != "mx; dmarc=failX-Injected: ar folded" {
			t.Errorf("Authentication-Results %q", got)
		}
		// The text part's lines are Exim's, the injected text stays on its line.
		for _, l := range strings.Split(string(bodies[0]), "\r\n") {
			if strings.HasPrefix(l, "X-Injected") || strings.HasPrefix(l, "--=_dmarc_") {
				t.Errorf("injected text line %q", l)
			}
		}
		// The header copy is quoted-printable and decodes byte for byte.
		wantHdr := orig[:strings.Index(orig, "\r\n\r\n")+2]
		if got := parts[2].Header.Get("Content-Type"); got != "text/rfc822-headers; charset=unknown-8bit" {
			t.Errorf("part 3 Content-Type %q", got)
		}
		if string(bodies[2]) != wantHdr {
			t.Errorf("part 3 decoded:\n%q\nwant\n%q", bodies[2], wantHdr)
		}
		if !bytes.HasSuffix(bodies[0], []byte(wantHdr)) {
			t.Error("part 1 copy differs")
		}
	}

	// UTF-8 domains: the Subject is RFC 2047-encoded, part 1 is utf-8.
	in, o, opts = forensicFixture()
	o.UsedDomain, o.FromDomain = "bücher.example", "bücher.example"
	reports, err = ForensicReports(in, o, []byte(forensicOriginal), opts...)
	if err != nil {
		t.Fatal(err)
	}
	forensicLines(t, reports[0].Message)
	h, parts, bodies := forensicParts(t, reports[0].Message)
	subj, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subj != "DMARC Forensic Report for bücher.example from IP 192.0.2.1" {
		t.Errorf("Subject %q: %v", subj, err)
	}
	if got := parts[0].Header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
		t.Errorf("part 1 Content-Type %q", got)
	}
	if !bytes.Contains(bodies[0], []byte("  Sender Domain: bücher.example\r\n")) {
		t.Errorf("part 1:\n%s", bodies[0])
	}
	if fr := forensicReportFields(t, bodies[1]); fr.Get("Reported-Domain") != "b??cher.example" {
		t.Errorf("Reported-Domain %q", fr.Get("Reported-Domain"))
	}

	// IPv4-mapped and zoned client addresses are shown plainly.
	in.ClientIP = netip.MustParseAddr("::ffff:192.0.2.7")
	reports, err = ForensicReports(in, o, []byte(forensicOriginal), opts...)
	if err != nil {
		t.Fatal(err)
	}
	_, _, bodies = forensicParts(t, reports[0].Message)
	if fr := forensicReportFields(t, bodies[1]); fr.Get("Source-IP") != "192.0.2.7" {
		t.Errorf("Source-IP %q", fr.Get("Source-IP"))
	}
	in.ClientIP = netip.MustParseAddr("fe80::1%eth0")
	reports, err = ForensicReports(in, o, []byte(forensicOriginal), opts...)
	if err != nil {
		t.Fatal(err)
	}
	_, _, bodies = forensicParts(t, reports[0].Message)
	if fr := forensicReportFields(t, bodies[1]); fr.Get("Source-IP") != "fe80::1" {
		t.Errorf("Source-IP %q", fr.Get("Source-IP"))
	}
}

func TestForensicEdgeOriginals(t *testing.T) {
	in, o, opts := forensicFixture()
	opts = append(opts, WithForensicAuthResults(""))
	o.UsedDomain = ""
	for _, orig := range []string{"", "\r\n\r\nbody only", "From nobody Tue Mar  2 09:44:33 1999\nX: y\n", " leading continuation\nX: y", "No-Newline-At-End: x"} {
		reports, err := ForensicReports(in, o, []byte(orig), opts...)
		if err != nil {
			t.Fatal(err)
		}
		forensicLines(t, reports[0].Message)
		h, _, bodies := forensicParts(t, reports[0].Message)
		if h.Get("References") != "" && !strings.Contains(orig, "<") {
			t.Errorf("References %q", h.Get("References"))
		}
		if got := h.Get("Subject"); got != "DMARC Forensic Report for example.com from IP 192.0.2.1" {
			t.Errorf("Subject %q", got)
		}
		fr := forensicReportFields(t, bodies[1])
		if got := fr.Get("Authentication-Results"); got != "mx.example.org; dmarc=fail header.from=example.com" {
			t.Errorf("synthesised Authentication-Results %q", got)
		}
	}
}

// forensicARF is what forensicReadARF finds in a report.
type forensicARF struct {
	FeedbackType, AuthFailure, ReportedDomain, SourceIP string
}

// forensicReadARF is a small ARF (RFC 5965) reader: it finds the
// message/feedback-report part anywhere in the MIME tree, decodes it
// (7bit, 8bit, quoted-printable, base64) and returns its main fields.
// found is false for a message without such a part.
func forensicReadARF(raw []byte) (arf forensicARF, found bool, err error) {
	if bytes.HasPrefix(raw, []byte("From ")) { // mbox separator line
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		}
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return arf, false, err
	}
	var walk func(ctype, cte string, body io.Reader) (bool, error)
	walk = func(ctype, cte string, body io.Reader) (bool, error) {
		mt, params, err := mime.ParseMediaType(ctype)
		if err != nil {
			return false, nil // no usable type: text/plain by RFC 2045
		}
		switch {
		case strings.HasPrefix(mt, "multipart/"):
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextPart()
				if err == io.EOF {
					return false, nil
				}
				if err != nil {
					return false, err
				}
				if ok, err := walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); ok || err != nil {
					return ok, err
				}
			}
		case mt == "message/feedback-report":
			if strings.EqualFold(strings.TrimSpace(cte), "base64") {
				body = base64.NewDecoder(base64.StdEncoding, forensicNoSpace{body})
			}
			b, err := io.ReadAll(body)
			if err != nil {
				return false, err
			}
			h, err := textproto.NewReader(bufio.NewReader(io.MultiReader(bytes.NewReader(bytes.TrimLeft(b, "\r\n")), strings.NewReader("\r\n\r\n")))).ReadMIMEHeader()
			if err != nil {
				return false, err
			}
			arf = forensicARF{
				FeedbackType:   strings.TrimSpace(h.Get("Feedback-Type")),
				AuthFailure:    strings.TrimSpace(h.Get("Auth-Failure")),
				ReportedDomain: strings.TrimSpace(h.Get("Reported-Domain")),
				SourceIP:       strings.TrimSpace(h.Get("Source-IP")),
			}
			return true, nil
		}
		return false, nil
	}
	found, err = walk(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body)
	return arf, found, err
}

// forensicNoSpace drops the line breaks of base64 text.
type forensicNoSpace struct{ r io.Reader }

func (n forensicNoSpace) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	j := 0
	for _, c := range p[:k] {
		if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
			p[j] = c
			j++
		}
	}
	return j, err
}

// TestForensicARFSamples runs the ARF reader over real-world reports
// (sisimai's ARF set, parsedmarc's DMARC failure samples) and over our
// output: ours must read like the auth-failure reports of other
// implementations.
func TestForensicARFSamples(t *testing.T) {
	const dir = "../../shared/suites/arf"
	type want struct {
		found bool
		arf   forensicARF
	}
	abuse := func(dom, ip string) want { return want{true, forensicARF{"abuse", "", dom, ip}} }
	wants := map[string]want{
		"sisimai-arf/arf-01.eml": abuse("example.ed.jp", "192.0.2.89"),
		"sisimai-arf/arf-02.eml": abuse("example.com", ""),
		"sisimai-arf/arf-11.eml": abuse("", ""),
		"sisimai-arf/arf-12.eml": {true, forensicARF{"opt-out", "", "", ""}},
		"sisimai-arf/arf-14.eml": abuse("amazonses.com", ""),
		"sisimai-arf/arf-15.eml": abuse("", "192.0.2.222"),
		"sisimai-arf/arf-16.eml": abuse("example.com", "192.0.2.1"),
		"sisimai-arf/arf-17.eml": abuse("", "192.0.2.3"),
		"sisimai-arf/arf-18.eml": {true, forensicARF{"auth-failure", "dmarc", "example.net", "192.0.2.222"}},
		"sisimai-arf/arf-19.eml": {true, forensicARF{"auth-failure", "", "example.net", "203.0.113.2"}},
		"sisimai-arf/arf-20.eml": {true, forensicARF{"auth-failure", "dmarc", "example.net", "203.0.113.2"}},
		"sisimai-arf/arf-21.eml": abuse("", "198.51.100.224"),
		"sisimai-arf/arf-22.eml": {},
		"sisimai-arf/arf-23.eml": {},
		"sisimai-arf/arf-24.eml": {},
		"sisimai-arf/arf-25.eml": abuse("example.com", "10.0.0.1"),
		"sisimai-arf/arf-26.eml": {},
		"parsedmarc-failure-samples/DMARC_Failure_Report_for_domain.de__mail-from_sharepoint_domain.de__ip_10.10.10.10_.eml": {true, forensicARF{"auth-failure", "dmarc", "domain.de", "10.10.10.10"}},
		"parsedmarc-failure-samples/_Netease_DMARC_Failure_Report__Rent_Reminder.eml":                                        {true, forensicARF{"auth-failure", "", "cardinal.com", "167.89.69.24"}},
		"parsedmarc-failure-samples/dmarc_ruf_report_linkedin.crlf.eml":                                                      {true, forensicARF{"auth-failure", "dmarc", "example.com", "10.10.10.10"}},
		"parsedmarc-failure-samples/dmarc_ruf_report_linkedin.eml":                                                           {true, forensicARF{"auth-failure", "dmarc", "example.com", "10.10.10.10"}},
		"parsedmarc-failure-samples/exim_plain_text_only_no_arf_part.eml":                                                    {},
	}
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.eml"))
	if err != nil || len(files) == 0 {
		t.Skipf("no ARF samples in %s: %v", dir, err)
	}
	if len(files) != len(wants) {
		t.Errorf("%d sample files, %d expectations", len(files), len(wants))
	}
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := wants[filepath.ToSlash(rel)]
		if !ok {
			t.Errorf("%s: no expectation", rel)
			continue
		}
		arf, found, err := forensicReadARF(raw)
		if err != nil || found != w.found || arf != w.arf {
			t.Errorf("%s: %+v found=%v err=%v, want %+v found=%v", rel, arf, found, err, w.arf, w.found)
		}
	}

	// Ours, through the same reader, reads like the DMARC reports above
	// (arf-18, arf-20, domain.de, LinkedIn).
	in, o, opts := forensicFixture()
	reports, err := ForensicReports(in, o, []byte(forensicOriginal), opts...)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		arf, found, err := forensicReadARF(r.Message)
		want := forensicARF{"auth-failure", "dmarc", "example.com", "192.0.2.1"}
		if err != nil || !found || arf != want {
			t.Errorf("our report: %+v found=%v err=%v", arf, found, err)
		}
	}
}

// TestForensicLargeHeader guards against work that grows faster than
// the header section (Exim accepts 1 MiB of headers by default).
func TestForensicLargeHeader(t *testing.T) {
	in, o, opts := forensicFixture()
	var b strings.Builder
	b.WriteString("X-Folded: start\n")
	for b.Len() < 1<<20 {
		b.WriteString(" x\n")
	}
	b.WriteString("References:")
	for i := 0; i < 40000; i++ {
		b.WriteString(" <" + strings.Repeat("r", i%7+1) + "@x>")
	}
	b.WriteString("\nMessage-ID: <own@x>\n\n")
	start := time.Now()
	reports, err := ForensicReports(in, o, []byte(b.String()), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
	forensicLines(t, reports[0].Message)
	h, _, _ := forensicParts(t, reports[0].Message)
	if n := len(strings.Fields(h.Get("References"))); n != 12 {
		t.Errorf("References has %d ids", n)
	}
}

func TestForensicFieldValues(t *testing.T) {
	for _, c := range []struct {
		spf, dkim bool
		want      string
	}{{false, false, "none"}, {true, false, "spf"}, {false, true, "dkim"}, {true, true, "dkim, spf"}} {
		if got := forensicAlignment(&Outcome{AlignedSPF: c.spf, AlignedDKIM: c.dkim}); got != c.want {
			t.Errorf("alignment spf=%v dkim=%v: %q", c.spf, c.dkim, got)
		}
	}
	for s, want := range map[Status]string{
		StatusReject: "reject", StatusQuarantine: "spam", StatusNone: "delivered", StatusAccept: "delivered",
		StatusNoRecord: "delivered", StatusTempError: "other", StatusNoFrom: "other", StatusOff: "other",
	} {
		if got := forensicDelivery(s); got != want {
			t.Errorf("Delivery-Result for %s: %q, want %q", s, got, want)
		}
	}
	e1 := &ForensicSkipError{Recipient: "a@x.example", Size: 2000, Limit: 1024, Err: ErrForensicTooLarge}
	e2 := &ForensicSkipError{Recipient: "bad", Err: ErrForensicBadRecipient}
	e3 := &ForensicOptionError{Option: "WithForensicSender", Err: errors.New("boom")}
	for _, c := range []struct {
		err  error
		want string
	}{
		{e1, `dmarc: forensic report exceeds the ruf= size limit: 2000 bytes > 1024 for "a@x.example"`},
		{e2, `dmarc: ruf= address is not a plain mailbox: "bad"`},
		{e3, "dmarc: forensic report option WithForensicSender: boom"},
	} {
		if c.err.Error() != c.want {
			t.Errorf("%q, want %q", c.err.Error(), c.want)
		}
	}
	if !errors.Is(e3, e3.Err) {
		t.Error("ForensicOptionError does not unwrap")
	}
}
