package report_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/dmarc/report"
)

func historyEntry(domain, from string, at time.Time) dmarc.HistoryEntry {
	return dmarc.HistoryEntry{
		Job: "j", Reporter: "mx.receiver.example", Received: at, IPAddr: netip.MustParseAddr("192.0.2.1"),
		From: from, MailFrom: from, SPF: dmarc.ARESPass, PolicyDomain: domain, Policy: dmarc.HistoryPolicyPass,
		P: 'q', SP: 'n', ADKIM: 's', ASPF: 'r', AlignDKIM: dmarc.HistoryAlignPass, AlignSPF: dmarc.HistoryAlignPass,
		Action: dmarc.HistoryActionAccept, RUA: []string{"mailto:rua@" + domain + "!10m"},
	}
}

// An RFC 9990 report: namespace, version, generator, discovery_method,
// np, fo and testing from the Policy hook, first-level elements in the
// RFC's order; it parses back unchanged.
func TestAggregateRFC9990(t *testing.T) {
	asked := []string{}
	org := report.Reporter{
		OrgName: "Receiver", Email: "dmarc@receiver.example", Generator: "test-gen 1.0", DiscoveryMethod: "treewalk",
		Policy: func(domain string) *dmarc.Record {
			asked = append(asked, domain)
			if domain == "example.com" {
				return &dmarc.Record{NPPolicy: dmarc.PolicyReject, FailureOptions: []string{"d", "s"}, Testing: true}
			}
			return &dmarc.Record{} // every tag at its default
		},
	}
	entries := []dmarc.HistoryEntry{
		historyEntry("Example.COM", "example.com", day0.Add(time.Hour)),
		historyEntry("example.net", "sub.example.net", day0.Add(2*time.Hour)),
	}
	reports := report.Aggregate(entries, day0, dayEnd, org)
	if len(reports) != 2 || !reflect.DeepEqual(asked, []string{"example.com", "example.net"}) &&
		!reflect.DeepEqual(asked, []string{"example.net", "example.com"}) {
		t.Fatalf("%d reports, Policy asked for %v", len(reports), asked)
	}
	com, net := reports[0], reports[1]
	wantCom := report.PolicyPublished{Domain: "example.com", DiscoveryMethod: "treewalk", P: "quarantine", SP: "none",
		NP: "reject", FO: "d:s", ADKIM: "s", ASPF: "r", Testing: "y"}
	if !reflect.DeepEqual(com.Policy, wantCom) {
		t.Errorf("policy_published %+v\nwant %+v", com.Policy, wantCom)
	}
	// Defaults: np is sp's value, fo 0, testing n.
	if p := net.Policy; p.NP != "none" || p.FO != "0" || p.Testing != "n" {
		t.Errorf("defaults %+v", p)
	}
	if md := com.Metadata; md.Generator != "test-gen 1.0" || md.ReportID != "example.com.1700006400.1700092799" {
		t.Errorf("metadata %+v", md)
	}
	data, err := com.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">`)) {
		t.Errorf("no RFC 9990 namespace:\n%s", data)
	}
	if got := firstLevel(t, data); !reflect.DeepEqual(got, []string{"version", "report_metadata", "policy_published", "record"}) {
		t.Errorf("first-level elements %v", got)
	}
	for _, want := range []string{"<np>reject</np>", "<testing>y</testing>", "<discovery_method>treewalk</discovery_method>",
		"<fo>d:s</fo>", "<generator>test-gen 1.0</generator>"} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("no %s in\n%s", want, data)
		}
	}
	if bytes.Contains(data, []byte("<pct>")) {
		t.Errorf("pct written:\n%s", data)
	}
	back, err := report.Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, com) {
		t.Errorf("round trip:\n%+v\nwant\n%+v", back, com)
	}
	dests, err := report.DestinationsFor(entries, com)
	if err != nil || len(dests) != 1 || dests[0].Addr != "rua@example.com" || dests[0].MaxSize != 10<<20 {
		t.Errorf("DestinationsFor %+v, %v", dests, err)
	}
}

// firstLevel lists the element names directly inside <feedback>.
func firstLevel(t *testing.T, data []byte) []string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	var names []string
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			if depth++; depth == 2 {
				names = append(names, tk.Name.Local)
			}
		case xml.EndElement:
			depth--
		}
	}
}

// Consecutive days neither overlap nor leave a gap.
func TestAggregateDays(t *testing.T) {
	b1, e1 := report.Day(time.Date(2023, 11, 15, 13, 5, 0, 0, time.FixedZone("x", -8*3600)))
	if b1 != time.Date(2023, 11, 15, 0, 0, 0, 0, time.UTC) || e1 != b1.Add(24*time.Hour) {
		t.Fatalf("Day: %v %v", b1, e1)
	}
	b2, e2 := report.Day(e1)
	if b2 != e1 {
		t.Fatalf("next day starts %v, want %v", b2, e1)
	}
	var entries []dmarc.HistoryEntry
	for _, at := range []time.Time{b1, e1.Add(-time.Second), e1, e2.Add(-time.Second), e2} {
		entries = append(entries, historyEntry("example.com", "example.com", at))
	}
	count := func(b, e time.Time) int64 {
		var n int64
		for _, f := range report.Aggregate(entries, b, e, org) {
			for _, r := range f.Records {
				n += r.Row.Count
			}
			if f.Metadata.DateRange != (report.DateRange{Begin: b.Unix(), End: e.Unix() - 1}) {
				t.Errorf("date_range %+v", f.Metadata.DateRange)
			}
		}
		return n
	}
	if n1, n2 := count(b1, e1), count(b2, e2); n1 != 2 || n2 != 2 {
		t.Errorf("day counts %d %d, want 2 2", n1, n2)
	}
}

// RFC 9990 §2.1.2: passing aligned signatures first, at most 100.
func TestAggregateSignatureOrder(t *testing.T) {
	e := historyEntry("example.com", "news.example.com", day0)
	e.DKIM = []dmarc.HistoryDKIM{
		{Domain: "fail.example.com", Selector: "f", Result: dmarc.ARESFail},
		{Domain: "other.example", Selector: "o", Result: dmarc.ARESPass},
		{Domain: "example.com", Selector: "r", Result: dmarc.ARESPass},
		{Domain: "news.example.com", Selector: "s", Result: dmarc.ARESPass},
	}
	for i := range 120 {
		e.DKIM = append(e.DKIM, dmarc.HistoryDKIM{Domain: "x" + strconv.Itoa(i) + ".example", Selector: "n", Result: dmarc.ARESNone})
	}
	sigs := report.Aggregate([]dmarc.HistoryEntry{e}, day0, dayEnd, org)[0].Records[0].AuthResults.DKIM
	if len(sigs) != 100 {
		t.Fatalf("%d signatures, want 100", len(sigs))
	}
	var got []string
	for _, s := range sigs[:5] {
		got = append(got, s.Selector)
	}
	if want := []string{"s", "r", "o", "f", "n"}; !reflect.DeepEqual(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
	if sigs[99].Domain != "x95.example" {
		t.Errorf("last kept %+v", sigs[99])
	}
}

// Real-world values are normalised; one odd value never fails the
// whole report.
func TestParseLenient(t *testing.T) {
	doc := strings.NewReplacer(
		"<p>none</p>", "<p>REJECTED</p><adkim>Relaxed</adkim><testing>Yes</testing><pct></pct>",
		"<count>3</count>", "<count> +3.0 </count>",
		"<dkim>pass</dkim><spf>fail</spf>", "<dkim>PASS</dkim><spf>HardFail</spf><reason><type>SampledOut</type></reason><reason></reason>",
		"<result>fail</result>", "<scope>MailFrom</scope><result>hardfail</result>",
		"<begin>1</begin><end>2</end>", "<begin>1.7e9</begin><end>soon</end>",
	).Replace(minimal)
	f, err := report.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	p := f.Policy
	if p.P != "reject" || p.ADKIM != "r" || p.Testing != "y" || p.Pct != nil {
		t.Errorf("policy_published %+v", p)
	}
	r := f.Records[0]
	pe := r.Row.PolicyEvaluated
	if r.Row.Count != 3 || pe.DKIM != "pass" || pe.SPF != "fail" ||
		!reflect.DeepEqual(pe.Reasons, []report.Reason{{Type: "sampled_out"}, {}}) {
		t.Errorf("row %+v", r.Row)
	}
	if s := r.AuthResults.SPF[0]; s.Scope != "mfrom" || s.Result != "fail" {
		t.Errorf("spf %+v", s)
	}
	if dr := f.Metadata.DateRange; dr.Begin != 1700000000 || dr.End != 0 {
		t.Errorf("date_range %+v", dr)
	}
	for _, c := range []struct{ in, want string }{
		{"error", "permerror"}, {"unknown", "temperror"}, {"TempError", "temperror"}, {"Soft-Fail", "softfail"},
		{"", "none"}, {"policy", "policy"}, {"something else", "something else"},
	} {
		doc := strings.Replace(minimal, "<result>fail</result>", "<result>"+c.in+"</result>", 1)
		if got := mustParse(t, []byte(doc)).Records[0].AuthResults.SPF[0].Result; got != c.want {
			t.Errorf("spf result %q: %q, want %q", c.in, got, c.want)
		}
	}
	for _, c := range []struct {
		in   string
		want int64
	}{{"12", 12}, {" 7 ", 7}, {"-1", -1}, {"1e3", 1000}, {"three", 0}, {"", 0}, {"1e300", 0}, {"NaN", 0}} {
		doc := strings.Replace(minimal, "<count>3</count>", "<count>"+c.in+"</count>", 1)
		if got := mustParse(t, []byte(doc)).Records[0].Row.Count; got != c.want {
			t.Errorf("count %q: %d, want %d", c.in, got, c.want)
		}
	}
}
