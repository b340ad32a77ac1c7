package report_test

import (
	"bytes"
	"encoding/xml"
	"net/mail"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mailpolicy/mailpolicy/dmarc/report"
)

// FuzzParse feeds arbitrary bytes to Parse: it must not panic, and a
// report it accepts must survive Marshal and Parse unchanged.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add(gzipped(f, []byte(minimal)))
	f.Add(zipped(f, "r.xml", minimal))
	f.Add([]byte(`<feedback xmlns="urn:x"><version> 2.0 </version><policy_published><pct></pct><p>Reject</p></policy_published></feedback>`))
	f.Add([]byte(`<?xml version="1.0" encoding="latin1"?><a><feedback><record><row><count>1</count></row></record></feedback>`))
	f.Add([]byte(`<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0"><version>1.0</version><policy_published><np>Reject</np>` +
		`<testing>Yes</testing><discovery_method>Tree-Walk</discovery_method><pct>x</pct></policy_published><record><row>` +
		`<count>+1.5e3</count><policy_evaluated><spf>HardFail</spf></policy_evaluated></row><auth_results><spf>` +
		`<scope>MailFrom</scope><result>error</result></spf></auth_results></record></feedback>`))
	if names, err := os.ReadDir(samplesDir()); err == nil {
		for _, n := range names {
			if data, err := os.ReadFile(filepath.Join(samplesDir(), n.Name())); err == nil && len(data) < 4096 {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := report.Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		out, err := r.Marshal()
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		back, err := report.Parse(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("round trip changed the report:\n%#v\nwant\n%#v\n%s", back, r, out)
		}
		_ = r.Filename()
	})
}

// FuzzParseMessage checks that no message makes ParseMessage panic.
func FuzzParseMessage(f *testing.F) {
	f.Add([]byte("Content-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Type: application/gzip\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\nH4sIAAAA\r\n--X--\r\n"))
	f.Add([]byte("Content-Type: text/xml\r\n\r\n" + minimal))
	f.Fuzz(func(t *testing.T, data []byte) {
		report.ParseMessage(bytes.NewReader(data))
	})
}

// FuzzParseLenient puts arbitrary text into the values Parse reads
// leniently (numbers and enumerations): the report must still parse,
// whatever the text, and survive Marshal and Parse unchanged.
func FuzzParseLenient(f *testing.F) {
	f.Add("3", "fail", "100", "1", "none", "Pass")
	f.Add(" +3.0 ", "HardFail", "", "1.7e9", "REJECTED", "")
	f.Add("three", "unknown", "-5", "soon", "quarantine ", "error")
	f.Add("1e300", "temp_error", "NaN", "-9e18", "Relaxed", "\u00e9t\u00e9")
	f.Fuzz(func(t *testing.T, count, result, pct, begin, disposition, dkim string) {
		esc := func(s string) string {
			var b strings.Builder
			xml.EscapeText(&b, []byte(s))
			return b.String()
		}
		doc := strings.NewReplacer(
			"<count>3</count>", "<count>"+esc(count)+"</count>",
			"<result>fail</result>", "<result>"+esc(result)+"</result>",
			"<p>none</p>", "<p>none</p><pct>"+esc(pct)+"</pct>",
			"<begin>1</begin>", "<begin>"+esc(begin)+"</begin>",
			"<disposition>none</disposition>", "<disposition>"+esc(disposition)+"</disposition>",
			"<dkim>pass</dkim>", "<dkim>"+esc(dkim)+"</dkim>",
		).Replace(minimal)
		r, err := report.Parse(strings.NewReader(doc))
		if err != nil {
			// Only text XML itself cannot carry may fail the report.
			for _, s := range []string{count, result, pct, begin, disposition, dkim} {
				if !utf8.ValidString(s) || strings.ContainsFunc(s, func(c rune) bool {
					return c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0xfffe || c == 0xffff || c >= 0xd800 && c < 0xe000
				}) {
					return
				}
			}
			t.Fatalf("odd values failed the whole report: %v\n%s", err, doc)
		}
		out, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		back, err := report.Parse(bytes.NewReader(out))
		if err != nil || !reflect.DeepEqual(back, r) {
			t.Fatalf("round trip: %v\n%#v\n%#v", err, back, r)
		}
	})
}

// FuzzMail: whatever the report's remote values, Mail either refuses
// or writes 7-bit lines of at most 998 octets whose header section has
// exactly its own fields.
func FuzzMail(f *testing.F) {
	f.Add("example.com", "mx1.example.com.1.2", "dmarc@receiver.example", "Org", "DMARC <d@receiver.example>")
	f.Add("example.com\r\nBcc: x@y", "id\r\nX: y", "a@b\r\nc", "\x00", "a@b\nX: y")
	f.Add("b\xc3\xbccher.example", "<a@b>", "x@xn--bcher-kva.example", "\xff", "\"Caf\xc3\xa9\" <c@x.example>")
	f.Fuzz(func(t *testing.T, domain, id, email, orgName, from string) {
		r := &report.Feedback{
			Version:  "1.0",
			Metadata: report.ReportMetadata{OrgName: orgName, Email: email, ReportID: id, DateRange: report.DateRange{Begin: 1, End: 2}},
			Policy:   report.PolicyPublished{Domain: domain, P: "none"},
			Records:  []report.Record{{Row: report.Row{SourceIP: "192.0.2.1", Count: 1}}},
		}
		var b bytes.Buffer
		if err := r.Mail(&b, report.MailOptions{From: from, To: "rua@example.com", Date: time.Unix(0, 0)}); err != nil {
			if b.Len() != 0 {
				t.Fatalf("error %v after writing %d bytes", err, b.Len())
			}
			return
		}
		msg := b.Bytes()
		for _, line := range bytes.Split(msg, []byte("\r\n")) {
			if len(line) > 998 || bytes.ContainsAny(line, "\r\n") {
				t.Fatalf("bad line %q", line)
			}
			for _, c := range line {
				if c >= 0x80 {
					t.Fatalf("8-bit line %q", line)
				}
			}
		}
		m, err := mail.ReadMessage(bytes.NewReader(msg))
		if err != nil {
			t.Fatalf("unreadable mail: %v\n%s", err, msg)
		}
		if len(m.Header) != 8 {
			t.Fatalf("header fields %v", m.Header)
		}
	})
}
