package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/dmarc/report"
)

// The parsedmarc aggregate samples (see the suites README). Expected
// values below were read from the files by hand.
func samplesDir() string {
	if d := os.Getenv("MAILPOLICY_SHARED"); d != "" {
		return filepath.Join(d, "suites", "dmarc", "parsedmarc-aggregate-samples")
	}
	return filepath.Join("..", "..", "..", "shared", "suites", "dmarc", "parsedmarc-aggregate-samples")
}

type sampleWant struct {
	file         string
	invalid      bool // must fail to parse
	wantErr      string
	orgName      string
	email        string
	reportID     string
	domain       string
	begin, end   int64
	p, sp        string
	pct          int // -1: no <pct>
	ips          []string
	counts       []int64
	disposition  string // of the first record
	headerFrom   string // of the first record
	check        func(t *testing.T, f *report.Feedback)
	filenameWant string
}

var samples = []sampleWant{
	{
		file: "_example.com_1538204542_1538463818.xml", orgName: "", email: "administrator@accurateplastics.com",
		reportID: "example.com:1538463741", domain: "example.com", begin: 1538413632, end: 1538413632,
		p: "none", sp: "reject", pct: 100, ips: []string{"12.20.127.122"}, counts: []int64{1},
		disposition: "none", headerFrom: "example.com",
		check: func(t *testing.T, f *report.Feedback) {
			spf := f.Records[0].AuthResults.SPF
			if len(spf) != 1 || spf[0].Domain != "" || spf[0].Result != "none" {
				t.Errorf("spf %+v", spf)
			}
		},
		filenameWant: "accurateplastics.com!example.com!1538413632!1538413632.xml.gz",
	},
	{
		file: "addisonfoods.com_example.com_1536105600_1536191999.xml", orgName: "addisonfoods.com",
		email: "postmaster@addisonfoods.com", reportID: "3ceb5548498640beaeb47327e202b0b9", domain: "example.com",
		begin: 1536105600, end: 1536191999, p: "none", sp: "none", pct: 100,
		ips: []string{"109.203.100.17"}, counts: []int64{1}, disposition: "none", headerFrom: "example.com",
		check: func(t *testing.T, f *report.Feedback) {
			r := f.Records[0]
			want := []report.DKIMAuthResult{{Domain: "toptierhighticket.club", Selector: "default", Result: "pass"}}
			if !reflect.DeepEqual(r.AuthResults.DKIM, want) || len(r.AuthResults.SPF) != 0 {
				t.Errorf("auth results %+v", r.AuthResults)
			}
			if f.Version != "1.0" || f.Policy.FO != "0" || r.Identifiers.EnvelopeFrom != "example.com" {
				t.Errorf("version %q fo %q envelope_from %q", f.Version, f.Policy.FO, r.Identifiers.EnvelopeFrom)
			}
		},
		filenameWant: "addisonfoods.com!example.com!1536105600!1536191999!3ceb5548498640beaeb47327e202b0b9.xml.gz",
	},
	{
		file: "empty_reason.xml", orgName: "example.org", email: "noreply-dmarc-support@example.org",
		reportID: "20240125141224705995", domain: "example.com", begin: 1706159544, end: 1706185733,
		p: "quarantine", sp: "quarantine", pct: 100, ips: []string{"198.51.100.123"}, counts: []int64{2},
		disposition: "none", headerFrom: "example.com",
		check: func(t *testing.T, f *report.Feedback) {
			r := f.Records[0]
			if !reflect.DeepEqual(r.Row.PolicyEvaluated.Reasons, []report.Reason{{}}) {
				t.Errorf("reasons %+v", r.Row.PolicyEvaluated.Reasons)
			}
			if r.Identifiers != (report.Identifiers{EnvelopeTo: "example.net", EnvelopeFrom: "example.edu", HeaderFrom: "example.com"}) {
				t.Errorf("identifiers %+v", r.Identifiers)
			}
			if d := r.AuthResults.DKIM; len(d) != 1 || d[0].HumanResult != "2048-bit key" || d[0].Selector != "example" {
				t.Errorf("dkim %+v", d)
			}
			if s := r.AuthResults.SPF; len(s) != 1 || s[0] != (report.SPFAuthResult{Domain: "example.edu", Scope: "mfrom", Result: "pass"}) {
				t.Errorf("spf %+v", s)
			}
			if f.Metadata.ExtraContactInfo != "https://support.example.org/dmarc" || f.Policy.FO != "1" {
				t.Errorf("extra %q fo %q", f.Metadata.ExtraContactInfo, f.Policy.FO)
			}
		},
	},
	{
		file: "estadocuenta1.infonacot.gob.mx_example.com_1536853302_1536939702_2940.xml.zip", orgName: "XYZ Corporation",
		email: "admin@estadocuenta1.infonacot.gob.mx", reportID: "2940", domain: "example.com",
		begin: 1536853302, end: 1536939702, p: "none", pct: -1, ips: []string{"148.243.137.254"}, counts: []int64{1},
		disposition: "none", headerFrom: "example.com",
		check: func(t *testing.T, f *report.Feedback) {
			r := f.Records[0]
			if r.Identifiers.EnvelopeTo != "estadocuenta1.infonacot.gob.mx" || len(r.AuthResults.DKIM)+len(r.AuthResults.SPF) != 0 {
				t.Errorf("record %+v", r)
			}
			if f.Policy.ADKIM != "" || f.Version != "" {
				t.Errorf("policy %+v version %q", f.Policy, f.Version)
			}
		},
		filenameWant: "estadocuenta1.infonacot.gob.mx!example.com!1536853302!1536939702!2940.xml.gz",
	},
	{
		// A stray "11" after </sp> is character data, ignored.
		file: "example.net_example.com_1529366400_1529452799.xml", orgName: "example.net", email: "postmaster@example.net",
		reportID: "b043f0e264cf4ea995e93765242f6dfb", domain: "example.com", begin: 1529366400, end: 1529452799,
		p: "none", sp: "none", pct: 100, ips: []string{"199.230.200.36"}, counts: []int64{1},
		disposition: "none", headerFrom: "example.com",
	},
	{
		file: "fastmail.com_example.com_1516060800_1516147199_102675056.xml.gz", orgName: "FastMail Pty Ltd",
		email: "reports@fastmaildmarc.com", reportID: "102675056", domain: "indemed.com",
		begin: 1516060800, end: 1516147199, p: "none", sp: "none", pct: 100, ips: []string{"104.195.80.20"},
		counts: []int64{1}, disposition: "none", headerFrom: "example.com",
		check: func(t *testing.T, f *report.Feedback) {
			r := f.Records[0]
			if r.Identifiers.EnvelopeTo != "fastmail.fm" ||
				!reflect.DeepEqual(r.AuthResults.SPF, []report.SPFAuthResult{{Domain: "example.com", Scope: "mfrom", Result: "softfail"}}) {
				t.Errorf("record %+v", r)
			}
		},
		filenameWant: "fastmaildmarc.com!indemed.com!1516060800!1516147199!102675056.xml.gz",
	},
	{
		// <feedback> inside an unclosed <xs:schema>.
		file: "ikea.com_example.de_1538690400_1538776800.xml", orgName: "ikea.com", email: "double-bounce@ikea.com",
		reportID: "aggr_report_2018_10_05_5bc7e9b4f3e8a", domain: "example.de", begin: 1538690400, end: 1538776800,
		p: "none", sp: "none", pct: 100, ips: []string{"234.234.234.234"}, counts: []int64{1},
		disposition: "none", headerFrom: "example.de",
		check: func(t *testing.T, f *report.Feedback) {
			a := f.Records[0].AuthResults
			if !reflect.DeepEqual(a.SPF, []report.SPFAuthResult{{Domain: "mailrelay.com", Scope: "helo", Result: "none"}}) ||
				!reflect.DeepEqual(a.DKIM, []report.DKIMAuthResult{{Domain: "example.de", Result: "pass"}}) {
				t.Errorf("auth %+v", a)
			}
		},
	},
	{
		// Capitalised "None"/"Pass" are normalised; the org name keeps its space.
		file: "invalid-report_with_upper_cased_pass.xml", orgName: "example.com ", email: "postmaster@example.com",
		reportID: "aggr_report_example.com_20191202_1638", domain: "example.com", begin: 1574955300, end: 1575304683,
		p: "reject", pct: 100, ips: []string{"23.104.41.189"}, counts: []int64{1}, disposition: "none", headerFrom: "example.com",
		check: func(t *testing.T, f *report.Feedback) {
			r := f.Records[0]
			pe := r.Row.PolicyEvaluated
			if pe.DKIM != "pass" || pe.SPF != "pass" || r.AuthResults.DKIM[0].Result != "pass" || r.AuthResults.SPF[0].Result != "pass" {
				t.Errorf("results %+v %+v", pe, r.AuthResults)
			}
			if h := r.AuthResults.DKIM[0].HumanResult; h != "verify result: all signatures verified" {
				t.Errorf("human_result %q", h)
			}
		},
	},
	{
		// Byte 0x91 in header_from becomes U+FFFD.
		file: "invalid_utf_8.xml", orgName: "", email: "administrator@accurateplastics.com",
		reportID: "example.com:1538463741", domain: "example.com", begin: 1538413632, end: 1538413632,
		p: "none", sp: "reject", pct: 100, ips: []string{"12.20.127.122"}, counts: []int64{1},
		disposition: "none", headerFrom: "bad_byte\uFFFD",
	},
	// "<email><bad-xml@bad-xml.net></email>" is not XML.
	{file: "invalid_xml.xml", invalid: true, wantErr: "syntax error on line 5"},
	{
		file: "old_draft_from_wiki.xml", orgName: "acme.com", email: "noreply-dmarc-support@acme.com",
		reportID: "9391651994964116463", domain: "example.com", begin: 1335571200, end: 1335657599,
		p: "none", sp: "none", pct: 100, ips: []string{"72.150.241.94"}, counts: []int64{2},
		disposition: "none", headerFrom: "example.com",
		check: func(t *testing.T, f *report.Feedback) {
			pe := f.Records[0].Row.PolicyEvaluated
			if pe.DKIM != "fail" || pe.SPF != "pass" || f.Metadata.ExtraContactInfo != "http://acme.com/dmarc/support" {
				t.Errorf("policy_evaluated %+v", pe)
			}
		},
	},
	{
		file: "protection.outlook.com_example.com_1711756800_1711843200.xml", orgName: "Outlook.com",
		email: "dmarcreport@microsoft.com", reportID: "cfeafefe4129445e8c81018bd9177197", domain: "example.com",
		begin: 1711756800, end: 1711843200, p: "none", sp: "none", pct: 100, ips: []string{"100.24.188.149"},
		counts: []int64{1}, disposition: "none", headerFrom: "example.com",
		check: func(t *testing.T, f *report.Feedback) {
			if e := f.Records[0].Identifiers.EnvelopeTo; e != "hotmail.com" {
				t.Errorf("envelope_to %q", e)
			}
		},
	},
	{
		file: "rfc9990-example.net_example.com_1700000000_1700086399.xml", orgName: "example.net",
		email: "postmaster@example.net", reportID: "dmarcbis-test-report-001", domain: "example.com",
		begin: 1700000000, end: 1700086399, p: "reject", sp: "quarantine", pct: -1,
		ips: []string{"198.51.100.1", "203.0.113.10"}, counts: []int64{5, 2}, disposition: "none", headerFrom: "example.com",
		check: func(t *testing.T, f *report.Feedback) {
			p := f.Policy
			if f.Version != "2.0" || p.NP != "reject" || p.Testing != "y" || p.DiscoveryMethod != "treewalk" || p.ADKIM != "s" || p.FO != "1" {
				t.Errorf("version %q policy %+v", f.Version, p)
			}
			pe := f.Records[1].Row.PolicyEvaluated
			if pe.Disposition != "reject" || !reflect.DeepEqual(pe.Reasons, []report.Reason{{Type: "other", Comment: "sender not authorized"}}) {
				t.Errorf("second record %+v", pe)
			}
		},
	},
	{
		// Namespaced RFC 9990 sample without XML declaration; its
		// disposition is the new "pass".
		file: "rfc9990-sample.xml", orgName: "Sample Reporter", email: "report_sender@example-reporter.com",
		reportID: "3v98abbp8ya9n3va8yr8oa3ya", domain: "example.com", begin: 302832000, end: 302918399,
		p: "quarantine", sp: "none", pct: -1, ips: []string{"192.0.2.123"}, counts: []int64{123},
		disposition: "pass", headerFrom: "example.com",
		check: func(t *testing.T, f *report.Feedback) {
			if f.XMLName.Space != "urn:ietf:params:xml:ns:dmarc-2.0" || f.Metadata.Generator != "Example DMARC Aggregate Reporter v1.2" {
				t.Errorf("namespace %q generator %q", f.XMLName.Space, f.Metadata.Generator)
			}
			if d := f.Records[0].AuthResults.DKIM; len(d) != 1 || d[0].Selector != "abc123" {
				t.Errorf("dkim %+v", d)
			}
			if f.Policy.NP != "none" || f.Policy.Testing != "n" {
				t.Errorf("policy %+v", f.Policy)
			}
		},
		filenameWant: "example-reporter.com!example.com!302832000!302918399!3v98abbp8ya9n3va8yr8oa3ya.xml.gz",
	},
	{
		file: "usssa.com_example.com_1538784000_1538870399.xml", orgName: "usssa.com", email: "postmaster@usssa.com",
		reportID: "8953b4d4a4ee4218b6ac0e2cb2667ee1", domain: "example.com", begin: 1538784000, end: 1538870399,
		p: "none", sp: "none", pct: 100, ips: []string{"12.20.127.40", "199.230.200.36"}, counts: []int64{1, 1},
		disposition: "none", headerFrom: "example.com",
	},
	{
		file: "veeam.com_example.com_1530133200_1530219600.xml", orgName: "veeam.com", email: "noreply.it.dmarc@veeam.com",
		reportID: "sonexushealth.com:1530233361", domain: "example.com", begin: 1530133200, end: 1530219600,
		p: "none", sp: "none", pct: 100, ips: []string{"199.230.200.36"}, counts: []int64{1},
		disposition: "none", headerFrom: "example.com",
	},
	{
		file: "Report_domain-_borschow.com_Submitter-_google.com_Report-ID-_949348866075514174.eml", orgName: "google.com",
		email: "noreply-dmarc-support@google.com", reportID: "949348866075514174", domain: "borschow.com",
		begin: 1549929600, end: 1550015999, p: "reject", sp: "reject", pct: 100, ips: []string{"92.53.116.102"},
		counts: []int64{1}, disposition: "reject", headerFrom: "borschow.com",
		check: func(t *testing.T, f *report.Feedback) {
			if s := f.Records[0].AuthResults.SPF; len(s) != 1 || s[0].Result != "fail" || s[0].Scope != "" {
				t.Errorf("spf %+v", s)
			}
		},
	},
	{
		// A bare application/gzip body whose gzip stream is followed by CRLF.
		file: "mimecast-weird-gzip.eml", orgName: "Mimecast", email: "no-reply@au-1.mimecastreport.com",
		reportID: "157a5fe30ec76f4bc0d8bccfc96c118a167a1280fee7c7465af5115e73082e5e", domain: "ab.id.au",
		begin: 1693353600, end: 1693439999, p: "reject", sp: "none", pct: 100, ips: []string{"40.93.199.22"},
		counts: []int64{1}, disposition: "none", headerFrom: "ab.id.au",
		check: func(t *testing.T, f *report.Feedback) {
			if d := f.Records[0].AuthResults.DKIM; len(d) != 1 || d[0].Selector != "selector1" || d[0].HumanResult != "" {
				t.Errorf("dkim %+v", d)
			}
		},
	},
	{
		file: "twilight.eml", orgName: "google.com", email: "noreply-dmarc-support@google.com",
		reportID: "1627703331531660819", domain: "twlnet.com", begin: 1549756800, end: 1549843199,
		p: "reject", sp: "reject", pct: 100, ips: []string{"87.106.127.28"}, counts: []int64{1},
		disposition: "none", headerFrom: "twlnet.com",
		check: func(t *testing.T, f *report.Feedback) {
			if f.Policy.ADKIM != "s" || f.Policy.ASPF != "s" {
				t.Errorf("policy %+v", f.Policy)
			}
			if d := f.Records[0].AuthResults.DKIM; len(d) != 1 || d[0] != (report.DKIMAuthResult{Domain: "twlnet.com", Selector: "201810", Result: "pass"}) {
				t.Errorf("dkim %+v", d)
			}
		},
		filenameWant: "google.com!twlnet.com!1549756800!1549843199!1627703331531660819.xml.gz",
	},
}

func parseSample(t *testing.T, path string) (*report.Feedback, error) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if strings.HasSuffix(path, ".eml") {
		return report.ParseMessage(fh)
	}
	return report.Parse(fh)
}

func TestSamples(t *testing.T) {
	dir := samplesDir()
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Skipf("samples not available (%v); set MAILPOLICY_SHARED", err)
	}
	listed := map[string]bool{}
	for _, s := range samples {
		listed[s.file] = true
	}
	for _, n := range names {
		if !strings.HasSuffix(n.Name(), ".txt") && !listed[n.Name()] {
			t.Errorf("sample %s has no expectations", n.Name())
		}
	}
	for _, s := range samples {
		t.Run(s.file, func(t *testing.T) {
			f, err := parseSample(t, filepath.Join(dir, s.file))
			if s.invalid {
				if err == nil || !strings.Contains(err.Error(), s.wantErr) {
					t.Fatalf("invalid sample: error %v, want %q (%+v)", err, s.wantErr, f)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			md := f.Metadata
			if md.OrgName != s.orgName || md.Email != s.email || md.ReportID != s.reportID ||
				md.DateRange.Begin != s.begin || md.DateRange.End != s.end {
				t.Errorf("metadata %+v", md)
			}
			p := f.Policy
			pct := -1
			if p.Pct != nil {
				pct = *p.Pct
			}
			if p.Domain != s.domain || p.P != s.p || p.SP != s.sp || pct != s.pct {
				t.Errorf("policy_published %+v (pct %d)", p, pct)
			}
			var ips []string
			var counts []int64
			for _, r := range f.Records {
				ips = append(ips, r.Row.SourceIP)
				counts = append(counts, r.Row.Count)
			}
			if !reflect.DeepEqual(ips, s.ips) || !reflect.DeepEqual(counts, s.counts) {
				t.Errorf("records %v %v, want %v %v", ips, counts, s.ips, s.counts)
			}
			if len(f.Records) > 0 {
				r := f.Records[0]
				if r.Row.PolicyEvaluated.Disposition != s.disposition || r.Identifiers.HeaderFrom != s.headerFrom {
					t.Errorf("first record %+v", r)
				}
			}
			if s.check != nil {
				s.check(t, f)
			}
			if s.filenameWant != "" && f.Filename() != s.filenameWant {
				t.Errorf("Filename %q, want %q", f.Filename(), s.filenameWant)
			}
			roundTrip(t, f)
		})
	}
}

// roundTrip checks that Marshal and WriteGzip output parses back to the
// same report.
func roundTrip(t *testing.T, f *report.Feedback) {
	t.Helper()
	data, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := report.Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("re-parse: %v\n%s", err, data)
	}
	if !reflect.DeepEqual(back, f) {
		t.Errorf("XML round trip changed the report:\n%+v\nwant\n%+v\n%s", back, f, data)
	}
	var gz bytes.Buffer
	if err := f.WriteGzip(&gz); err != nil {
		t.Fatal(err)
	}
	back, err = report.Parse(&gz)
	if err != nil {
		t.Fatalf("re-parse gzip: %v", err)
	}
	if !reflect.DeepEqual(back, f) {
		t.Errorf("gzip round trip changed the report")
	}
}
