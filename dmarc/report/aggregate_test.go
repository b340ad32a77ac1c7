package report_test

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/dmarc/report"
	"github.com/mailpolicy/mailpolicy/spf"

	"github.com/mailpolicy/mailpolicy/dkim"
)

var (
	day0   = time.Unix(1700006400, 0).UTC() // 2023-11-15 00:00:00 UTC
	dayEnd = day0.Add(24 * time.Hour)       // Aggregate's end is exclusive
	org    = report.Reporter{OrgName: "Receiver Org", Email: "dmarc-reports@receiver.example", ReportIDPrefix: "mx1."}
)

type msg struct {
	at       time.Duration // after day0
	ip       string
	from     string // From domain
	mailFrom string
	spf      spf.Result
	dkim     []dkim.Result
	status   dmarc.Status
	alDKIM   bool
	alSPF    bool
	record   *dmarc.Record
	used     string
}

var recExample = &dmarc.Record{Policy: dmarc.PolicyReject, ADKIM: dmarc.Relaxed, ASPF: dmarc.Relaxed, Percent: 100,
	RUA: []dmarc.URI{{Address: "mailto:rua@example.com"}}}

var recExampleLater = &dmarc.Record{Policy: dmarc.PolicyQuarantine, SubdomainPolicy: dmarc.PolicyNone,
	ADKIM: dmarc.Strict, ASPF: dmarc.Relaxed, Percent: 50, RUA: []dmarc.URI{{Address: "mailto:rua@example.com"}}}

var recOrg = &dmarc.Record{Policy: dmarc.PolicyNone, ADKIM: dmarc.Relaxed, ASPF: dmarc.Strict, Percent: 100}

func (m msg) entry(job string) *dmarc.HistoryEntry {
	in := &dmarc.Input{MailFrom: m.mailFrom, ClientIP: netip.MustParseAddr(m.ip), SPF: m.spf, DKIM: m.dkim}
	o := &dmarc.Outcome{Status: m.status, FromDomain: m.from, UsedDomain: m.used, AlignedDKIM: m.alDKIM,
		AlignedSPF: m.alSPF, Record: m.record}
	return dmarc.NewHistoryEntry(in, o, job, "mx1.receiver.example", day0.Add(m.at))
}

// The whole pipeline: history file → ParseHistory → Aggregate →
// WriteGzip → Parse, with counts checked at the end.
func TestAggregateEndToEnd(t *testing.T) {
	pass := []dkim.Result{{Domain: "example.com", Selector: "s1", Status: dkim.StatusPass}}
	msgs := []msg{
		// 3 identical aligned passes from one IP: one row, count 3.
		{at: time.Hour, ip: "192.0.2.1", from: "example.com", mailFrom: "a@example.com", spf: spf.Pass, dkim: pass,
			status: dmarc.StatusAccept, alDKIM: true, alSPF: true, record: recExample, used: "example.com"},
		{at: 2 * time.Hour, ip: "192.0.2.1", from: "Example.COM", mailFrom: "b@EXAMPLE.com", spf: spf.Pass, dkim: pass,
			status: dmarc.StatusAccept, alDKIM: true, alSPF: true, record: recExample, used: "example.com"},
		{at: 3 * time.Hour, ip: "::ffff:192.0.2.1", from: "example.com", mailFrom: "c@example.com", spf: spf.Pass, dkim: pass,
			status: dmarc.StatusAccept, alDKIM: true, alSPF: true, record: recExample, used: "example.com"},
		// 2 spoofs rejected from another IP, null sender.
		{at: 4 * time.Hour, ip: "198.51.100.7", from: "example.com", spf: spf.None,
			status: dmarc.StatusReject, record: recExample, used: "example.com"},
		{at: 5 * time.Hour, ip: "198.51.100.7", from: "example.com", spf: spf.None,
			status: dmarc.StatusReject, record: recExample, used: "example.com"},
		// Same IP but a failing signature: a different row. The record
		// changed: policy_published must show this latest one.
		{at: 6 * time.Hour, ip: "198.51.100.7", from: "example.com", mailFrom: "x@spoof.example", spf: spf.SoftFail,
			dkim:   []dkim.Result{{Domain: "example.com", Selector: "s1", Status: dkim.StatusFail, Reason: "bodyhash_mismatch"}},
			status: dmarc.StatusQuarantine, record: recExampleLater, used: "example.com"},
		// A subdomain evaluated against the org domain's record: counted
		// under the policy domain example.org.
		{at: 7 * time.Hour, ip: "2001:db8::1", from: "news.example.org", mailFrom: "n@news.example.org", spf: spf.Pass,
			status: dmarc.StatusAccept, alSPF: true, record: recOrg, used: "example.org"},
		// Outside the period: ignored.
		{at: -time.Second, ip: "192.0.2.1", from: "example.com", spf: spf.Pass, dkim: pass,
			status: dmarc.StatusAccept, alDKIM: true, record: recExample, used: "example.com"},
		{at: 24 * time.Hour, ip: "192.0.2.1", from: "example.com", spf: spf.Pass, dkim: pass,
			status: dmarc.StatusAccept, alDKIM: true, record: recExample, used: "example.com"},
		// The last second of the day is in it (and is the latest entry,
		// with the later record).
		{at: 24*time.Hour - time.Second, ip: "192.0.2.1", from: "example.com", mailFrom: "d@example.com", spf: spf.Pass, dkim: pass,
			status: dmarc.StatusAccept, alDKIM: true, alSPF: true, record: recExampleLater, used: "example.com"},
	}
	path := filepath.Join(t.TempDir(), "history")
	h, err := dmarc.OpenHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range msgs {
		if err := h.Append(m.entry("job" + string(rune('A'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	h.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := dmarc.ParseHistory(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}

	reports := report.Aggregate(entries, day0, dayEnd, org)
	if len(reports) != 2 {
		t.Fatalf("%d reports, want 2", len(reports))
	}
	type row struct {
		ip, disp, dkim, spf string
		count               int64
	}
	want := map[string][]row{
		"example.com": {
			{"192.0.2.1", "none", "pass", "pass", 4},
			{"198.51.100.7", "reject", "fail", "fail", 2},
			{"198.51.100.7", "quarantine", "fail", "fail", 1},
		},
		"example.org": {{"2001:db8::1", "none", "fail", "pass", 1}},
	}
	for _, f := range reports {
		var gz bytes.Buffer
		if err := f.WriteGzip(&gz); err != nil {
			t.Fatal(err)
		}
		back, err := report.Parse(&gz)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, f) {
			t.Errorf("%s: gzip round trip changed the report", f.Policy.Domain)
		}
		var got []row
		for _, r := range back.Records {
			pe := r.Row.PolicyEvaluated
			got = append(got, row{r.Row.SourceIP, pe.Disposition, pe.DKIM, pe.SPF, r.Row.Count})
		}
		if !reflect.DeepEqual(got, want[f.Policy.Domain]) {
			t.Errorf("%s rows:\n%v\nwant\n%v", f.Policy.Domain, got, want[f.Policy.Domain])
		}
		md := back.Metadata
		if md.DateRange.Begin != 1700006400 || md.DateRange.End != 1700092799 || md.OrgName != "Receiver Org" ||
			md.Email != "dmarc-reports@receiver.example" {
			t.Errorf("metadata %+v", md)
		}
		if wantID := "mx1." + f.Policy.Domain + ".1700006400.1700092799"; md.ReportID != wantID {
			t.Errorf("report_id %q, want %q", md.ReportID, wantID)
		}
		if wantName := "receiver.example!" + f.Policy.Domain + "!1700006400!1700092799.xml.gz"; f.Filename() != wantName {
			t.Errorf("Filename %q, want %q", f.Filename(), wantName)
		}
	}

	com, orgRep := reports[0], reports[1]
	// RFC 9990 has no pct: it is not written.
	if p := com.Policy; !reflect.DeepEqual(p, report.PolicyPublished{Domain: "example.com", ADKIM: "s", ASPF: "r",
		P: "quarantine", SP: "none"}) {
		t.Errorf("example.com policy_published %+v", p)
	}
	if p := orgRep.Policy; !reflect.DeepEqual(p, report.PolicyPublished{Domain: "example.org", ADKIM: "r", ASPF: "s",
		P: "none", SP: "none"}) {
		t.Errorf("example.org policy_published %+v", p)
	}
	if com.XMLName.Space != report.Namespace || com.Version != "1.0" || com.Metadata.Generator != report.DefaultGenerator {
		t.Errorf("namespace %q version %q generator %q", com.XMLName.Space, com.Version, com.Metadata.Generator)
	}

	// Identifiers and raw results of individual rows.
	first := com.Records[0]
	if first.Identifiers != (report.Identifiers{EnvelopeFrom: "example.com", HeaderFrom: "example.com"}) ||
		!reflect.DeepEqual(first.AuthResults.DKIM, []report.DKIMAuthResult{{Domain: "example.com", Selector: "s1", Result: "pass"}}) ||
		!reflect.DeepEqual(first.AuthResults.SPF, []report.SPFAuthResult{{Domain: "example.com", Scope: "mfrom", Result: "pass"}}) {
		t.Errorf("first row %+v", first)
	}
	quar := com.Records[2]
	if !reflect.DeepEqual(quar.AuthResults.DKIM, []report.DKIMAuthResult{{Domain: "example.com", Selector: "s1", Result: "fail"}}) ||
		!reflect.DeepEqual(quar.AuthResults.SPF, []report.SPFAuthResult{{Domain: "spoof.example", Scope: "mfrom", Result: "softfail"}}) {
		t.Errorf("quarantine row %+v", quar)
	}
	rej := com.Records[1]
	if rej.Identifiers.EnvelopeFrom != "" || rej.AuthResults.DKIM != nil ||
		!reflect.DeepEqual(rej.AuthResults.SPF, []report.SPFAuthResult{{Result: "none"}}) {
		t.Errorf("reject row %+v", rej)
	}
	if sub := orgRep.Records[0]; sub.Identifiers.HeaderFrom != "news.example.org" {
		t.Errorf("example.org row %+v", sub)
	}

	// Total count equals the entries in the period.
	var total int64
	for _, f := range reports {
		for _, r := range f.Records {
			total += r.Row.Count
		}
	}
	if total != 8 {
		t.Errorf("total count %d, want 8", total)
	}
}

func TestAggregateWords(t *testing.T) {
	base := dmarc.HistoryEntry{Job: "j", Received: day0, IPAddr: netip.MustParseAddr("192.0.2.9"), From: "x.example",
		MailFrom: "x.example", PolicyDomain: "x.example", P: 'r', AlignDKIM: 5, AlignSPF: 5}
	for _, c := range []struct {
		spf, dkim, action int
		spfW, dkimW, disp string
	}{
		{0, 0, 2, "pass", "pass", "none"},
		{7, 7, 0, "fail", "fail", "reject"},
		{2, 6, 4, "softfail", "none", "quarantine"},
		{3, 3, 1, "neutral", "neutral", "reject"},
		{4, 4, 3, "temperror", "temperror", "none"},
		{5, 5, 2, "permerror", "permerror", "none"},
		{6, 8, 2, "none", "policy", "none"},
		{11, 11, 2, "none", "neutral", "none"},
		{-1, 99, 2, "none", "neutral", "none"},
	} {
		e := base
		e.SPF, e.Action = c.spf, c.action
		e.DKIM = []dmarc.HistoryDKIM{{Domain: "x.example", Selector: "s", Result: c.dkim}}
		f := report.Aggregate([]dmarc.HistoryEntry{e}, day0, dayEnd, org)[0]
		r := f.Records[0]
		if r.AuthResults.SPF[0].Result != c.spfW || r.AuthResults.DKIM[0].Result != c.dkimW ||
			r.Row.PolicyEvaluated.Disposition != c.disp {
			t.Errorf("spf %d dkim %d action %d: %+v", c.spf, c.dkim, c.action, r)
		}
		if f.Policy.P != "reject" || f.Policy.SP != "reject" || f.Policy.ADKIM != "r" {
			t.Errorf("policy %+v", f.Policy)
		}
	}
	// No policy domain: skipped.
	e := base
	e.PolicyDomain = ""
	if got := report.Aggregate([]dmarc.HistoryEntry{e}, day0, dayEnd, org); len(got) != 0 {
		t.Errorf("entry without pdomain reported: %+v", got)
	}
}
