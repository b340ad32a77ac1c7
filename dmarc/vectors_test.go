package dmarc

import (
	"bufio"
	"context"
	"encoding/json"
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

func TestMoxLookupVectors(t *testing.T) {
	v := loadMox(t)
	srv := moxZone(t, v.Lookup.DNSTXT, v.Lookup.DNSServfail)
	for _, c := range v.Lookup.Cases {
		o := Evaluate(context.Background(), Input{HeaderFrom: []string{"a@" + c.Domain}},
			WithResolver(nsResolver(t, srv.Addr, time.Second)), WithAuthservID("mx.test"))
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
			WithRand(func() int { return 99 }))
		name := fmt.Sprintf("case %d %s spf=%s dkim=%v", i, c.FromDomain, c.SPFResult, c.DKIMResults)
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
