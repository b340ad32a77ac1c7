package dmarc

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net/mail"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/dkim"
	"github.com/mailpolicy/mailpolicy/spf"
)

// FuzzForensicReports feeds hostile From domains, envelope senders,
// Authentication-Results and received headers to ForensicReports. The
// report must parse (net/mail, mime/multipart), be 7-bit with CRLF
// line ends and lines of at most 998 bytes, carry exactly our fields
// at the top and in the feedback report (nothing injected), keep the
// received header section byte for byte in part 3, and respect the
// ruf= size limit.
func FuzzForensicReports(f *testing.F) {
	f.Add("example.com", "bounce@example.com", "", []byte(forensicOriginal), uint16(0))
	f.Add("example.com\r\nBcc: x@example.net", "a@b>\r\n\r\n--=_dmarc_", "x\ny", []byte("Subject: caf\xc3\xa9\r\nX: a\rb\x00c\r\n\r\nbody"), uint16(3000))
	f.Add("b\xfccher.example", "", "Authentication-Results: mx; dmarc=fail", []byte("From nobody\nReferences: <a@b> <c@d>\n\tX\n"), uint16(1500))
	f.Add(strings.Repeat("d", 2000), strings.Repeat("m ", 700), strings.Repeat("a;", 900), []byte("X: "+strings.Repeat("y", 3000)+"\n"), uint16(0))
	f.Fuzz(func(t *testing.T, fromDomain, mailFrom, ar string, original []byte, limit uint16) {
		in, o, opts := forensicFixture()
		opts = append(opts, WithForensicRand(rand.NewChaCha8([32]byte{42})))
		in.MailFrom = mailFrom
		o.FromDomain = fromDomain
		o.UsedDomain = fromDomain
		opts = append(opts, WithForensicAuthResults(ar))
		ruf := "mailto:dmarc@example.com"
		if limit > 0 {
			ruf += "!" + strconv.Itoa(int(limit))
		}
		rec, err := ParseRecord("v=DMARC1; p=reject; ruf=" + ruf)
		if err != nil {
			t.Fatal(err)
		}
		o.Record = rec
		o.Forensic = []string{"dmarc@example.com"}

		reports, err := ForensicReports(in, o, original, opts...)
		if limit > 0 && errors.Is(err, ErrForensicTooLarge) && len(reports) == 0 {
			return
		}
		if err != nil || len(reports) != 1 {
			t.Fatalf("%d reports, %v", len(reports), err)
		}
		msg := reports[0].Message
		if limit > 0 && len(msg) > int(limit) {
			t.Fatalf("%d bytes over the limit %d", len(msg), limit)
		}
		forensicLines(t, msg)
		h, _, bodies := forensicParts(t, msg)

		top := forensicKeys(h)
		wantTop := "Auto-Submitted Content-Type Date From Message-Id Mime-Version Subject To"
		if top != wantTop && top != "Auto-Submitted Content-Type Date From Message-Id Mime-Version References Subject To" {
			t.Fatalf("top-level fields %q", top)
		}
		fr := forensicReportFields(t, bodies[1])
		var keys []string
		for k, v := range fr {
			if len(v) != 1 {
				t.Fatalf("feedback field %s %d times", k, len(v))
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		wantFR := "Arrival-Date Auth-Failure Authentication-Results Delivery-Result Feedback-Type Identity-Alignment Original-Mail-From Reported-Domain Reporting-Mta Source-Ip User-Agent Version"
		if fromDomain == "" {
			wantFR = strings.Replace(wantFR, "Reported-Domain ", "", 1)
		}
		if got := strings.Join(keys, " "); got != wantFR {
			t.Fatalf("feedback fields %q", got)
		}
		if fr.Get("Feedback-Type") != "auth-failure" || fr.Get("Source-Ip") != "192.0.2.1" {
			t.Fatalf("feedback %v", fr)
		}

		var want bytes.Buffer
		for _, l := range forensicHeaderLines(original) {
			want.WriteString(l + "\r\n")
		}
		if !bytes.Equal(bodies[2], want.Bytes()) && !bytes.Equal(bodies[2], forensicMain(original)) {
			t.Fatalf("part 3 %q, want %q", bodies[2], want.Bytes())
		}
	})
}

func forensicKeys(h mail.Header) string {
	var keys []string
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, " ")
}

// forensicMain is part 3 of the smallest report: the main fields only.
func forensicMain(original []byte) []byte {
	lines := forensicHeaderLines(original)
	var b bytes.Buffer
	for _, f := range forensicFields(lines) {
		switch strings.ToLower(f.name) {
		case "from", "sender", "to", "cc", "date", "subject", "message-id":
			for _, l := range lines[f.first:f.end] {
				b.WriteString(l + "\r\n")
			}
		}
	}
	return b.Bytes()
}

// FuzzForensicRFC9991 feeds hostile received headers, domains and SPF
// records to RFC 9991 reports with redaction: every report must still
// be well-formed and 7-bit, carry each feedback field once, name its
// kind in Auth-Failure, and copy no more header lines than received
// (redaction replaces within lines, never adds any).
func FuzzForensicRFC9991(f *testing.F) {
	f.Add("example.com", "v=spf1 -all", []byte(forensicOriginal), "mail.example.com", "1:d:s")
	f.Add("example.com\r\nX: y", "a\r\nb", []byte("To: \"a\\\"b\"@x, c@d\r\nFrom: e.f@g\r\n\r\n"), "x\x00y", "0")
	f.Add("", "", []byte("From: @@@a@\r\nReceived: for <http://@x>\r\n"), "", "s")
	f.Fuzz(func(t *testing.T, fromDomain, spfRecord string, original []byte, dkimDomain, fo string) {
		in, o, opts := forensicFixture()
		opts = append(opts, WithForensicRand(rand.NewChaCha8([32]byte{7})), WithForensicRedaction([]byte("k")),
			WithForensicSPFRecords(spfRecord), WithMode(ModeRFC9989))
		rec, err := ParseRecordRFC9989("v=DMARC1; p=reject; ruf=mailto:dmarc@example.com; fo=" + fo)
		if err != nil {
			return
		}
		in.SPF = spf.Fail
		in.DKIM = []dkim.Result{{Domain: dkimDomain, Selector: "s", Status: dkim.StatusFail}}
		o.Record, o.FromDomain, o.UsedDomain, o.AlignedDKIM = rec, fromDomain, fromDomain, false
		o.Forensic = []string{"dmarc@example.com"}
		reports, err := ForensicReports(in, o, original, opts...)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reports {
			forensicLines(t, r.Message)
			_, _, bodies := forensicParts(t, r.Message)
			fr := forensicReportFields(t, bodies[1])
			for k, v := range fr {
				if len(v) != 1 {
					t.Fatalf("feedback field %s %d times", k, len(v))
				}
			}
			if fr.Get("Auth-Failure") != r.AuthFailure {
				t.Fatalf("Auth-Failure %q, report says %q", fr.Get("Auth-Failure"), r.AuthFailure)
			}
			if got, want := bytes.Count(bodies[2], []byte("\r\n")), len(forensicHeaderLines(original)); got > want {
				t.Fatalf("part 3 has %d lines, received %d", got, want)
			}
		}
	})
}
