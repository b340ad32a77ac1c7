package dmarc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/mailpolicy/mailpolicy/spf"

	"github.com/mailpolicy/mailpolicy/dkim"
)

func suitePath(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "suites", "dmarc")
	if d := os.Getenv("MAILPOLICY_SHARED"); d != "" {
		dir = filepath.Join(d, "suites", "dmarc")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("suite file not available (%v); set MAILPOLICY_SHARED", err)
	}
	return p
}

// moxRecord is mox's dmarc.Record as the vectors serialise it.
type moxRecord struct {
	Version                    string
	Policy                     string
	SubdomainPolicy            string
	AggregateReportAddresses   []moxURI
	FailureReportAddresses     []moxURI
	ADKIM, ASPF                string
	AggregateReportingInterval int
	FailureReportingOptions    []string
	ReportingFormat            []string
	Percentage                 int
}

type moxURI struct {
	Address string
	MaxSize uint64
	Unit    string
}

type moxVectors struct {
	Parse []struct {
		Input    string
		Valid    bool
		Expected *moxRecord
	}
	Lookup struct {
		Cases []struct {
			Domain               string
			ExpectedStatus       string     `json:"expected_status"`
			ExpectedPolicyDomain string     `json:"expected_policy_domain"`
			ExpectedRecord       *moxRecord `json:"expected_record"`
			ExpectedError        string     `json:"expected_error"`
		}
		DNSServfail []string            `json:"dns_servfail"`
		DNSTXT      map[string][]string `json:"dns_txt"`
	}
	Verify struct {
		Cases []struct {
			FromDomain  string `json:"from_domain"`
			DKIMResults []struct {
				Status string
				D      string
			} `json:"dkim_results"`
			SPFResult            string     `json:"spf_result"`
			SPFIdentityDomain    string     `json:"spf_identity_domain"`
			ExpectedUseResult    bool       `json:"expected_use_result"`
			ExpectedReject       bool       `json:"expected_reject"`
			ExpectedStatus       string     `json:"expected_status"`
			ExpectedAlignedSPF   bool       `json:"expected_aligned_spf_pass"`
			ExpectedAlignedDKIM  bool       `json:"expected_aligned_dkim_pass"`
			ExpectedPolicyDomain string     `json:"expected_policy_domain"`
			ExpectedRecord       *moxRecord `json:"expected_record"`
			ExpectedError        string     `json:"expected_error"`
		}
		DNSServfail []string            `json:"dns_servfail"`
		DNSTXT      map[string][]string `json:"dns_txt"`
	}
}

func loadMox(t *testing.T) *moxVectors {
	t.Helper()
	b, err := os.ReadFile(suitePath(t, "mox-dmarc-vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v moxVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

func toMox(r *Record) moxRecord {
	uris := func(us []URI) []moxURI {
		var out []moxURI
		for _, u := range us {
			unit := ""
			if u.Unit != 0 {
				unit = string(u.Unit)
			}
			out = append(out, moxURI{u.Address, u.MaxSize, unit})
		}
		return out
	}
	return moxRecord{
		Version: "DMARC1", Policy: string(r.Policy), SubdomainPolicy: string(r.SubdomainPolicy),
		AggregateReportAddresses: uris(r.RUA), FailureReportAddresses: uris(r.RUF),
		ADKIM: string(rune(r.ADKIM)), ASPF: string(rune(r.ASPF)),
		AggregateReportingInterval: int(r.Interval), FailureReportingOptions: r.FailureOptions,
		ReportingFormat: r.ReportFormats, Percentage: r.Percent,
	}
}

func sameRecord(a, b moxRecord) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func TestMoxParseVectors(t *testing.T) {
	v := loadMox(t)
	if len(v.Parse) != 41 {
		t.Fatalf("%d parse vectors, want 41", len(v.Parse))
	}
	for _, c := range v.Parse {
		r, err := ParseRecord(c.Input)
		if !c.Valid {
			if err == nil {
				t.Errorf("ParseRecord(%q) accepted, want error", c.Input)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseRecord(%q): %v", c.Input, err)
			continue
		}
		if got := toMox(r); !sameRecord(got, *c.Expected) {
			t.Errorf("ParseRecord(%q)\n got  %+v\n want %+v", c.Input, got, *c.Expected)
		}
	}
}

// The official PSL test vectors, through both the x/net/publicsuffix
// default and a list loaded from the suite's public_suffix_list.dat.
func TestPSLVectors(t *testing.T) {
	psl, err := LoadPSL(suitePath(t, "public_suffix_list.dat"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(suitePath(t, "psl-tests.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	var def config
	def.init(nil)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		in, want, _ := strings.Cut(line, " ")
		if in == "null" {
			in = ""
		}
		if want == "null" {
			want = ""
		}
		n++
		got, _ := psl.OrgDomain(in)
		if got != want {
			t.Errorf("PSL file: OrgDomain(%q) = %q, want %q", in, got, want)
		}
		got, _ = def.orgDomain(in)
		if got != want {
			t.Errorf("x/net/publicsuffix: OrgDomain(%q) = %q, want %q", in, got, want)
		}
	}
	if n < 70 {
		t.Fatalf("only %d PSL vectors read", n)
	}
	t.Logf("%d PSL vectors", n)
}

func moxZone(t *testing.T, txt map[string][]string, servfail []string) *resolvertest.Server {
	t.Helper()
	z := resolvertest.NewZone()
	for name, recs := range txt {
		for _, r := range recs {
			z.MustAdd(t, fmt.Sprintf("%s 300 IN TXT %q", name, r))
		}
	}
	for _, sf := range servfail {
		typ, name, _ := strings.Cut(sf, " ")
		z.SetRcode(name, dns.StringToType[strings.ToUpper(typ)], dns.RcodeServerFailure)
	}
	return resolvertest.Start(t, z)
}

// rfc9989Lookup: where RFC 9989 reads mox's lookup vectors otherwise
// than RFC 7489 (the record it finds there).
var rfc9989Lookup = map[string]string{
	// §4.8: "bogus" is no tag=value and is ignored, not an error.
	"malformed.example": "v=DMARC1; p=none; bogus;",
}

func TestMoxLookupVectors(t *testing.T) {
	for _, m := range []Mode{ModeRFC7489, ModeRFC9989} {
		t.Run(m.String(), func(t *testing.T) { moxLookupVectors(t, m) })
	}
}

func moxLookupVectors(t *testing.T, m Mode) {
	v := loadMox(t)
	srv := moxZone(t, v.Lookup.DNSTXT, v.Lookup.DNSServfail)
	for _, c := range v.Lookup.Cases {
		o := Evaluate(context.Background(), Input{HeaderFrom: []string{"a@" + c.Domain}},
			WithResolver(nsResolver(t, srv.Addr, time.Second)), WithAuthservID("mx.test"), WithMode(m))
		if txt, ok := rfc9989Lookup[c.Domain]; ok && m == ModeRFC9989 {
			want, err := ParseRecordRFC9989(txt)
			if err != nil || o.Record == nil || o.Record.Policy != want.Policy || o.UsedDomain != c.Domain {
				t.Errorf("%s: record %+v (%v), want %+v", c.Domain, o.Record, o.Err, want)
			}
			continue
		}
		if o.UsedDomain != c.ExpectedPolicyDomain {
			t.Errorf("%s: used domain %q, want %q", c.Domain, o.UsedDomain, c.ExpectedPolicyDomain)
		}
		switch {
		case c.ExpectedRecord != nil:
			if o.Record == nil || !sameRecord(toMox(o.Record), *c.ExpectedRecord) {
				t.Errorf("%s: record %+v, want %+v", c.Domain, o.Record, c.ExpectedRecord)
			}
		case c.ExpectedStatus == "temperror":
			if o.Status != StatusTempError {
				t.Errorf("%s: status %s, want temperror", c.Domain, o.Status)
			}
		default:
			if o.Status != StatusNoRecord || o.Record != nil {
				t.Errorf("%s: status %s record %v, want norecord", c.Domain, o.Status, o.Record)
			}
			if (c.ExpectedError != "") != (o.Err != nil) && c.ExpectedStatus != "none" {
				t.Errorf("%s: err %v, want %q", c.Domain, o.Err, c.ExpectedError)
			}
		}
	}
}

func TestMoxVerifyVectors(t *testing.T) {
	for _, m := range []Mode{ModeRFC7489, ModeRFC9989} {
		t.Run(m.String(), func(t *testing.T) { moxVerifyVectors(t, m) })
	}
}

func moxVerifyVectors(t *testing.T, m Mode) {
	v := loadMox(t)
	srv := moxZone(t, v.Verify.DNSTXT, v.Verify.DNSServfail)
	for i, c := range v.Verify.Cases {
		in := Input{HeaderFrom: []string{"From: <a@" + c.FromDomain + ">"}, SPFDomain: c.SPFIdentityDomain}
		in.HeaderFrom = []string{"<a@" + c.FromDomain + ">"}
		r, err := spf.ParseResult(c.SPFResult)
		if err != nil {
			t.Fatal(err)
		}
		in.SPF = r
		for _, d := range c.DKIMResults {
			res := dkim.Result{Domain: d.D, Status: vectorDKIMStatus[d.Status]}
			if d.Status == "temperror" {
				res.Status, res.Reason, res.Temporary = dkim.StatusInvalid, dkim.ReasonPubkeyUnavailable, true
			}
			in.DKIM = append(in.DKIM, res)
		}
		// pct sampling: the message is left out whenever pct < 100
		// would exclude any message, as mox's test does with pct=0.
		o := Evaluate(context.Background(), in, WithResolver(nsResolver(t, srv.Addr, time.Second)),
			WithRand(func() int { return 99 }), WithMode(m))
		name := fmt.Sprintf("case %d %s spf=%s dkim=%v", i, c.FromDomain, c.SPFResult, c.DKIMResults)
		if m == ModeRFC9989 && c.FromDomain == "malformed.example" {
			// §4.8: the record "v=DMARC1; p=none; bogus" is usable
			// (the part that is no tag is ignored): a failure under
			// p=none, where RFC 7489 has no record.
			if o.Status != StatusNone || o.Record == nil || !o.Sampled {
				t.Errorf("%s: status %s record %v, want none under p=none", name, o.Status, o.Record)
			}
			continue
		}
		// pct=0 (test.example): RFC 7489 leaves the message out of the
		// sample, RFC 9989 reads it as t=y (Appendix A.6); both apply
		// the next weaker policy, so the vectors hold for both.
		if o.AlignedSPF != c.ExpectedAlignedSPF || o.AlignedDKIM != c.ExpectedAlignedDKIM {
			t.Errorf("%s: aligned spf=%v dkim=%v, want %v %v", name, o.AlignedSPF, o.AlignedDKIM, c.ExpectedAlignedSPF, c.ExpectedAlignedDKIM)
		}
		if o.UsedDomain != c.ExpectedPolicyDomain {
			t.Errorf("%s: used domain %q, want %q", name, o.UsedDomain, c.ExpectedPolicyDomain)
		}
		var want Status
		switch c.ExpectedStatus {
		case "pass":
			want = StatusAccept
		case "temperror":
			want = StatusTempError
		case "none", "permerror":
			want = StatusNoRecord
		case "fail":
			switch {
			case c.ExpectedReject && c.ExpectedUseResult:
				want = StatusReject
			case c.ExpectedReject:
				want = StatusQuarantine // left out by pct: one step weaker
			default:
				want = Status(c.ExpectedRecord.SubdomainPolicy)
				if c.FromDomain == c.ExpectedPolicyDomain || want == "" {
					want = Status(c.ExpectedRecord.Policy)
				}
			}
		}
		if o.Status != want {
			t.Errorf("%s: status %s, want %s (err %v)", name, o.Status, want, o.Err)
		}
		if o.Record != nil && want != StatusNoRecord {
			use := o.Sampled
			if use != c.ExpectedUseResult {
				t.Errorf("%s: sampled %v, want use_result %v", name, use, c.ExpectedUseResult)
			}
		}
	}
}

// vectorDKIMStatus reads the vectors' DKIM status words (an unknown
// word is none).
var vectorDKIMStatus = map[string]dkim.Status{
	"pass": dkim.StatusPass, "fail": dkim.StatusFail, "invalid": dkim.StatusInvalid, "none": dkim.StatusNone,
}

// rfc9989Parse: how RFC 9989 reads mox's must-fail parse vectors; every
// other one (and every valid one, as mox expects it) parses.
var rfc9989Parse = map[string]error{
	// §4.7 v: absent, not first, or not exactly "DMARC1": ignored.
	"": ErrNotDMARC, "v=": ErrNotDMARC, "v=DMARC12": ErrNotDMARC,
	"v=dmarc1; p=none": ErrNotDMARC, "v=DMARC1 p=none": ErrNotDMARC,
	// §4.10.1: an invalid p= or sp= without a valid rua=.
	"v=DMARC1; sp=invalid": errUnusable, "v=DMARC1; p=badvalue": errUnusable, "v=DMARC1; sp=bad": errUnusable,
	// RFC 6376 §3.2 (the tag-list syntax of §4.7): a repeated tag.
	"v=DMARC1; p=none; p=none": errUnusable, "v=DMARC1; p=none; p=reject": errUnusable,
}

var errUnusable = errors.New("unusable record")

// rfc9989Expected is mox's expected record as RFC 9989 reads the text:
// fo=0:1:d:s breaks §4.8's dmarc-fo ("0" and "1" are exclusive), so fo=
// is ignored and keeps its default.
func rfc9989Expected(txt string, r moxRecord) moxRecord {
	if strings.Contains(txt, "FO = 0:1:d:s") {
		r.FailureReportingOptions = []string{"0"}
	}
	return r
}

func TestMoxParseVectorsRFC9989(t *testing.T) {
	v := loadMox(t)
	parsed := 0
	for _, c := range v.Parse {
		r, err := ParseRecordRFC9989(c.Input)
		want, listed := rfc9989Parse[c.Input]
		var re *RecordError
		switch {
		case want == ErrNotDMARC:
			if !errors.Is(err, ErrNotDMARC) {
				t.Errorf("%q: %v, want ErrNotDMARC", c.Input, err)
			}
		case want == errUnusable:
			if !errors.As(err, &re) {
				t.Errorf("%q: %v, want a *RecordError", c.Input, err)
			}
		case err != nil:
			t.Errorf("%q: %v; RFC 9989 §4.7/§4.8 ignore what is wrong in it", c.Input, err)
		case c.Valid && !sameRecord(toMox(r), rfc9989Expected(c.Input, *c.Expected)):
			t.Errorf("%q\n got  %+v\n want %+v", c.Input, toMox(r), *c.Expected)
		case !listed:
			parsed++
		}
	}
	// 41 vectors: 6 valid, 5 not DMARC, 5 unusable, 25 invalid under
	// RFC 7489 that RFC 9989 reads with defaults.
	if parsed != 31 {
		t.Errorf("%d vectors parse under RFC 9989, want 31", parsed)
	}
	r, _ := ParseRecordRFC9989("v=DMARC1; sp=reject; p=reject")
	if r == nil || r.Policy != PolicyReject || r.SubdomainPolicy != PolicyReject {
		t.Errorf("p after sp: %+v", r)
	}
}

// The PSL test vectors through the RFC 9989 tree walk: with every
// public suffix the vectors rely on publishing "psd=y" (what §5.2 asks
// of a PSO), the walk's organizational domain is the PSL's registrable
// domain. Vectors whose answer is "no registrable domain" do not apply
// (the walk always names one), nor do names that are no From domain.
func TestPSLVectorsTreeWalk(t *testing.T) {
	f, err := os.Open(suitePath(t, "psl-tests.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type vec struct{ in, want string }
	var vecs []vec
	suffixes := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		in, want, _ := strings.Cut(line, " ")
		if in == "null" || want == "null" || !plausibleDomain(strings.ToLower(in)) {
			continue
		}
		w, ok := aLabelDomain(want)
		if !ok {
			t.Fatalf("vector %q", line)
		}
		vecs = append(vecs, vec{in, w})
		suffixes[w[strings.IndexByte(w, '.')+1:]] = true
	}
	z := resolvertest.NewZone()
	for s := range suffixes {
		z.MustAdd(t, fmt.Sprintf("_dmarc.%s. 300 IN TXT %q", s, "v=DMARC1; p=reject; psd=y"))
	}
	srv := resolvertest.Start(t, z)
	res := nsResolver(t, srv.Addr, time.Second)
	for _, v := range vecs {
		o := Evaluate(context.Background(), Input{HeaderFrom: []string{"a@" + v.in}}, WithResolver(res), WithMode(ModeRFC9989))
		if o.OrgDomain != v.want {
			t.Errorf("tree walk: OrgDomain(%q) = %q, want %q (status %s, %v)", v.in, o.OrgDomain, v.want, o.Status, o.Err)
		}
	}
	if len(vecs) < 40 {
		t.Fatalf("only %d PSL vectors apply", len(vecs))
	}
	t.Logf("%d PSL vectors, %d suffixes publishing psd=y", len(vecs), len(suffixes))
}
