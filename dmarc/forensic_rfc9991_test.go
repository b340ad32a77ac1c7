package dmarc

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/dkim"
	"github.com/mailpolicy/mailpolicy/spf"
)

// forensic9991Fixture fails DMARC on both counts: an aligned signature
// that does not verify and an SPF fail for the From domain.
func forensic9991Fixture(t *testing.T, record string) (*Input, *Outcome, []Option) {
	t.Helper()
	in, o, opts := forensicFixture()
	rec, err := ParseRecordRFC9989(record)
	if err != nil {
		t.Fatal(err)
	}
	in.SPF = spf.Fail
	in.DKIM = []dkim.Result{
		{Domain: "other.example", Selector: "x", Status: dkim.StatusPass},
		{Domain: "mail.example.com", Selector: "sel", Identifier: "news@mail.example.com", Status: dkim.StatusFail, Reason: dkim.ReasonBodyHashMismatch},
	}
	o.Record, o.Mode, o.AlignedDKIM, o.AlignedSPF = rec, ModeRFC9989, false, false
	opts = append(opts, WithForensicSPFRecords("v=spf1 ip4:198.51.100.0/24 -all"))
	return in, o, opts
}

func TestForensicRFC9991DMARCReport(t *testing.T) {
	in, o, opts := forensic9991Fixture(t, "v=DMARC1; p=reject; ruf=mailto:dmarc@example.com")
	o.Forensic = []string{"dmarc@example.com"}
	reports, err := ForensicReports(in, o, []byte(forensicOriginal), opts...)
	if err != nil || len(reports) != 1 {
		t.Fatalf("%d reports, %v", len(reports), err)
	}
	r := reports[0]
	forensicLines(t, r.Message)
	h, _, bodies := forensicParts(t, r.Message)
	if got := h.Get("Subject"); got != "DMARC Failure Report for example.com from IP 192.0.2.1" {
		t.Errorf("Subject %q", got)
	}
	fr := forensicReportFields(t, bodies[1])
	want := map[string]string{
		"Feedback-Type":      "auth-failure",
		"Auth-Failure":       "dmarc",
		"Identity-Alignment": "dkim, spf",
		"DKIM-Domain":        "mail.example.com",
		"DKIM-Identity":      "news@mail.example.com",
		"DKIM-Selector":      "sel",
		"SPF-DNS":            "txt : example.com : v=spf1 ip4:198.51.100.0/24 -all",
		"Source-Ip":          "192.0.2.1",
		"Reported-Domain":    "example.com",
	}
	for k, v := range want {
		if got := forensicUnfold(fr.Get(k)); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if r.AuthFailure != "dmarc" {
		t.Errorf("AuthFailure %q", r.AuthFailure)
	}

	// SPF aligned and passing: no SPF-DNS; Identity-Alignment names only
	// the mechanism that failed. An unaligned failing signature gives no
	// DKIM-* fields. (fo=1: with SPF aligned, fo=0 would ask for no
	// report at all.)
	in.SPF, o.AlignedSPF = spf.Pass, true
	o.Record.FailureOptions = []string{"0"}
	if reports, _ := ForensicReports(in, o, []byte(forensicOriginal), opts...); len(reports) != 0 {
		t.Fatalf("fo=0 with SPF aligned: %d reports", len(reports))
	}
	o.Record.FailureOptions = []string{"1"}
	in.DKIM[1].Domain = "elsewhere.example"
	reports, _ = ForensicReports(in, o, []byte(forensicOriginal), opts...)
	_, _, bodies = forensicParts(t, reports[0].Message)
	fr = forensicReportFields(t, bodies[1])
	if fr.Get("Identity-Alignment") != "dkim" || fr.Get("SPF-DNS") != "" || fr.Get("DKIM-Domain") != "" {
		t.Errorf("fields %v", fr)
	}
	// Strict adkim: a subdomain's signature is not aligned.
	in.DKIM[1].Domain = "mail.example.com"
	o.Record.ADKIM = Strict
	reports, _ = ForensicReports(in, o, []byte(forensicOriginal), opts...)
	_, _, bodies = forensicParts(t, reports[0].Message)
	if fr := forensicReportFields(t, bodies[1]); fr.Get("DKIM-Domain") != "" {
		t.Errorf("strict alignment: %v", fr)
	}
}

// The same outcome in RFC 7489 mode keeps Exim's report; WithMode
// selects RFC 9991 too.
func TestForensicModes(t *testing.T) {
	in, o, opts := forensic9991Fixture(t, "v=DMARC1; p=reject; fo=1; ruf=mailto:dmarc@example.com")
	o.Forensic = []string{"dmarc@example.com"}
	o.AlignedSPF = true
	o.Mode = ModeRFC7489
	reports, err := ForensicReports(in, o, []byte(forensicOriginal), opts...)
	if err != nil || len(reports) != 1 {
		t.Fatalf("%d reports, %v", len(reports), err)
	}
	h, _, bodies := forensicParts(t, reports[0].Message)
	fr := forensicReportFields(t, bodies[1])
	if h.Get("Subject") != "DMARC Forensic Report for example.com from IP 192.0.2.1" ||
		fr.Get("Identity-Alignment") != "spf" || fr.Get("DKIM-Domain") != "" || fr.Get("SPF-DNS") != "" {
		t.Errorf("RFC 7489 report: %q %v", h.Get("Subject"), fr)
	}
	reports, _ = ForensicReports(in, o, []byte(forensicOriginal), append(opts, WithMode(ModeRFC9989))...)
	h, _, bodies = forensicParts(t, reports[0].Message)
	if fr := forensicReportFields(t, bodies[1]); !strings.HasPrefix(h.Get("Subject"), "DMARC Failure Report") ||
		fr.Get("Identity-Alignment") != "dkim" {
		t.Errorf("WithMode(ModeRFC9989): %q %v", h.Get("Subject"), fr)
	}
	for _, c := range []struct {
		spf, dkim bool
		want      string
	}{{false, false, "dkim, spf"}, {true, false, "dkim"}, {false, true, "spf"}, {true, true, "none"}} {
		if got := forensicAlignment9991(&Outcome{AlignedSPF: c.spf, AlignedDKIM: c.dkim}); got != c.want {
			t.Errorf("RFC 9991 alignment spf=%v dkim=%v: %q, want %q", c.spf, c.dkim, got, c.want)
		}
	}
}

// RFC 9991 §2: no failure reports for the ruf= of a psd=y record.
func TestForensicPSD(t *testing.T) {
	in, o, opts := forensic9991Fixture(t, "v=DMARC1; p=reject; psd=y; ruf=mailto:dmarc@example.com")
	o.Forensic = []string{"dmarc@example.com"}
	if reports, err := ForensicReports(in, o, []byte(forensicOriginal), opts...); len(reports) != 0 || err != nil {
		t.Errorf("psd=y: %d reports, %v", len(reports), err)
	}
	o.Mode = ModeRFC7489
	if reports, _ := ForensicReports(in, o, []byte(forensicOriginal), opts...); len(reports) != 1 {
		t.Errorf("psd=y in RFC 7489 mode: %d reports", len(reports))
	}
}

// fo=d and fo=s ask for DKIM and SPF failure reports (RFC 6591), each
// with its own fields, next to the DMARC one fo=1 asks for.
func TestForensicKinds(t *testing.T) {
	in, o, opts := forensic9991Fixture(t, "v=DMARC1; p=reject; fo=1:d:s; ruf=mailto:dmarc@example.com")
	o.Forensic = []string{"dmarc@example.com", "DMARC@example.com"}
	reports, err := ForensicReports(in, o, []byte(forensicOriginal), opts...)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, r := range reports {
		kinds = append(kinds, r.AuthFailure)
		forensicLines(t, r.Message)
	}
	if !reflect.DeepEqual(kinds, []string{"dmarc", "bodyhash", "spf"}) {
		t.Fatalf("reports %v", kinds)
	}
	h, _, bodies := forensicParts(t, reports[1].Message)
	fr := forensicReportFields(t, bodies[1])
	if h.Get("Subject") != "DKIM Failure Report for example.com from IP 192.0.2.1" || fr.Get("Auth-Failure") != "bodyhash" ||
		fr.Get("DKIM-Domain") != "mail.example.com" || fr.Get("DKIM-Selector") != "sel" || fr.Get("Identity-Alignment") != "" {
		t.Errorf("DKIM report %q %v", h.Get("Subject"), fr)
	}
	if !strings.Contains(string(bodies[0]), "fo=d") {
		t.Errorf("DKIM report text %q", bodies[0])
	}
	h, _, bodies = forensicParts(t, reports[2].Message)
	fr = forensicReportFields(t, bodies[1])
	if h.Get("Subject") != "SPF Failure Report for example.com from IP 192.0.2.1" || fr.Get("Auth-Failure") != "spf" ||
		fr.Get("Spf-Dns") != "txt : example.com : v=spf1 ip4:198.51.100.0/24 -all" {
		t.Errorf("SPF report %q %v", h.Get("Subject"), fr)
	}
	// A signature that fails for another reason is a "signature" report.
	in.DKIM[1].Reason = dkim.ReasonSignatureIncorrect
	if k := forensicKinds9991(in, o); len(k) != 3 || k[1].auth != "signature" {
		t.Errorf("kinds %+v", k)
	}
}

func TestForensicRedaction(t *testing.T) {
	orig := "Received: from mail.example.com by mx.example.org for <victim.name@example.org>; Tue, 2 Mar 1999\r\n" +
		"From: \"Example Bank\" <service@example.com>\r\n" +
		"To: victim.name@example.org, \"Quoted Local\"@example.org\r\n" +
		"Cc: Other <other+tag@example.net>\r\n" +
		"Message-ID: <orig.1@mail.example.com>\r\n" +
		"References: <root@example.net>\r\n" +
		"List-Unsubscribe: <https://example.com/u?x=1>, <HTTP://example.com/v>\r\n" +
		"DKIM-Signature: v=1; d=example.com; i=signer@example.com; s=sel; b=AAAA\r\n" +
		"Return-Path: <SRS0=Hh=TT=example.net=alice@fwd.example>\r\n" +
		"\r\nbody\r\n"
	in, o, _ := forensicFixture()
	in.MailFrom = "bounce-123@example.com"
	o.Forensic = o.Forensic[:1]
	build := func(key []byte) (hdrs string, fr map[string]string) {
		_, _, opts := forensicFixture()
		reports, err := ForensicReports(in, o, []byte(orig), append(opts, WithForensicRedaction(key))...)
		if err != nil || len(reports) != 1 {
			t.Fatalf("%d reports, %v", len(reports), err)
		}
		forensicLines(t, reports[0].Message)
		_, _, bodies := forensicParts(t, reports[0].Message)
		f := forensicReportFields(t, bodies[1])
		if bytes.Contains(bodies[0], []byte("victim.name")) {
			t.Errorf("text part not redacted:\n%s", bodies[0])
		}
		return string(bodies[2]), map[string]string{"Original-Mail-From": f.Get("Original-Mail-From")}
	}
	key := []byte("redaction key")
	hdrs, fr := build(key)
	r := &forensicRedactor{key: key, tokens: map[string]string{}}
	victim, service, quoted, other, signer, bounce := r.token("victim.name"), r.token("service"), r.token(`"Quoted Local"`),
		r.token("other+tag"), r.token("signer"), r.token("bounce-123")
	if len(victim) != 8 || victim == service {
		t.Fatalf("tokens %q %q", victim, service)
	}
	for _, want := range []string{
		"for <" + victim + "@example.org>", "<" + service + "@example.com>", "To: " + victim + "@example.org, " + quoted + "@example.org",
		"<" + other + "@example.net>", "i=" + signer + "@example.com", "Message-ID: <orig.1@mail.example.com>",
		"References: <root@example.net>", "<SRS0=" + r.token("Hh=TT=example.net=alice") + "@fwd.example>", "<hxxps://example.com/u?x=1>, <HxxP://example.com/v>",
	} {
		if !strings.Contains(hdrs, want) {
			t.Errorf("headers lack %q:\n%s", want, hdrs)
		}
	}
	for _, gone := range []string{"victim.name", "service@", "Quoted Local", "other+tag", "signer@", "https:", "alice"} {
		if strings.Contains(hdrs, gone) {
			t.Errorf("headers still hold %q:\n%s", gone, hdrs)
		}
	}
	if fr["Original-Mail-From"] != "<"+bounce+"@example.com>" {
		t.Errorf("Original-Mail-From %q", fr["Original-Mail-From"])
	}
	// The same key gives the same tokens; another key other ones; no key
	// a random one (from WithForensicRand).
	if again, _ := build(key); again != hdrs {
		t.Errorf("redaction is not deterministic under one key")
	}
	if other, _ := build([]byte("another key")); other == hdrs {
		t.Errorf("the key makes no difference")
	}
	if random, _ := build(nil); random == hdrs || strings.Contains(random, "victim.name") {
		t.Errorf("no key: %s", random)
	}
	_ = rand.NewChaCha8
}
