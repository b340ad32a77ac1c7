package tlsrpt

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var testOrg = Organization{Name: "Sender Mail", Contact: "tlsrpt-admin@sender.example", Domain: "mx.sender.example"}

func sampleRecorder(t *testing.T, opts ...Option) *Recorder {
	t.Helper()
	c := newClock(day(2026, 3, 14).Add(10 * time.Hour))
	r := NewRecorder(append([]Option{WithClock(c.now)}, opts...)...)
	r.Success(stsPolicy)
	r.Success(stsPolicy)
	f := expired
	f.AdditionalInfo = "https://sender.example/info?id=1&x=<2>"
	r.Failure(stsPolicy, f)
	r.Success(Policy{Type: PolicyNone, Domain: "plain.example"})
	return r
}

func TestReportJSON(t *testing.T) {
	r := sampleRecorder(t)
	reps := r.Reports(day(2026, 3, 14), day(2026, 3, 15), testOrg)
	if len(reps) != 2 || reps[0].PolicyDomain() != "example.net" || reps[1].PolicyDomain() != "plain.example" {
		t.Fatalf("reports %v", reps)
	}
	var buf bytes.Buffer
	if err := reps[0].WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "id=1&x=<2>") {
		t.Errorf("HTML-escaped JSON: %s", buf.String())
	}
	// The names of RFC 8460 §4.4, read back generically.
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	keys := func(m any) []string {
		var ks []string
		for k := range m.(map[string]any) {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	if got, want := keys(doc), []string{"contact-info", "date-range", "organization-name", "policies", "report-id"}; !slices.Equal(got, want) {
		t.Errorf("top-level keys %q, want %q", got, want)
	}
	dr := doc["date-range"].(map[string]any)
	if dr["start-datetime"] != "2026-03-14T00:00:00Z" || dr["end-datetime"] != "2026-03-14T23:59:59Z" {
		t.Errorf("date-range %v", dr)
	}
	if doc["organization-name"] != "Sender Mail" || doc["contact-info"] != "tlsrpt-admin@sender.example" {
		t.Errorf("organization %v %v", doc["organization-name"], doc["contact-info"])
	}
	pol := doc["policies"].([]any)[0].(map[string]any)
	if got, want := keys(pol), []string{"failure-details", "policy", "summary"}; !slices.Equal(got, want) {
		t.Errorf("policies[0] keys %q, want %q", got, want)
	}
	if got, want := keys(pol["policy"]), []string{"mx-host", "policy-domain", "policy-string", "policy-type"}; !slices.Equal(got, want) {
		t.Errorf("policy keys %q, want %q", got, want)
	}
	if got, want := keys(pol["summary"]), []string{"total-failure-session-count", "total-successful-session-count"}; !slices.Equal(got, want) {
		t.Errorf("summary keys %q", got)
	}
	fd := pol["failure-details"].([]any)[0]
	if got, want := keys(fd), []string{"additional-information", "failed-session-count", "failure-reason-code", "receiving-ip", "receiving-mx-hostname", "result-type", "sending-mta-ip"}; !slices.Equal(got, want) {
		t.Errorf("failure-details keys %q, want %q", got, want)
	}
	if pol["policy"].(map[string]any)["policy-type"] != "sts" || fd.(map[string]any)["result-type"] != "certificate-expired" {
		t.Errorf("policy %v, failure %v", pol["policy"], fd)
	}

	// A policy without failures has no failure-details, and an empty
	// report has policies [] rather than null.
	buf.Reset()
	reps[1].WriteJSON(&buf)
	if strings.Contains(buf.String(), "failure-details") || !strings.Contains(buf.String(), `"policy-type":"no-policy-found"`) {
		t.Errorf("no-policy-found report %s", buf.String())
	}
	buf.Reset()
	(&Report{}).WriteJSON(&buf)
	if !strings.Contains(buf.String(), `"policies":[]`) {
		t.Errorf("empty report %s", buf.String())
	}
}

func TestReportGzipRoundTrip(t *testing.T) {
	rep := sampleRecorder(t).Reports(day(2026, 3, 14), day(2026, 3, 15), testOrg)[0]
	var buf bytes.Buffer
	if err := rep.WriteGzip(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := gzip.NewReader(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	got, err := Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := *rep
	want.Submitter = "" // not in the JSON
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, &want)
	}
}

func TestReportID(t *testing.T) {
	a := sampleRecorder(t, WithInstanceID("node-a"))
	b := sampleRecorder(t, WithInstanceID("node-b"))
	rng := func(r *Recorder, org Organization) []*Report {
		return r.Reports(day(2026, 3, 14), day(2026, 3, 15), org)
	}
	ra := rng(a, testOrg)
	re := regexp.MustCompile(`^20260314\.[0-9a-f]{16}@mx\.sender\.example$`)
	for _, rep := range ra {
		if !re.MatchString(rep.ReportID) {
			t.Errorf("report-id %q", rep.ReportID)
		}
	}
	if ra[0].ReportID == ra[1].ReportID {
		t.Error("two domains share a report-id")
	}
	if again := rng(a, testOrg); again[0].ReportID != ra[0].ReportID {
		t.Error("the same range asked again gives another report-id")
	}
	if rb := rng(b, testOrg); rb[0].ReportID == ra[0].ReportID {
		t.Error("two instances give one report-id")
	}
	if other := a.Reports(day(2026, 3, 14), day(2026, 3, 16), testOrg); other[0].ReportID == ra[0].ReportID {
		t.Error("two ranges give one report-id")
	}
	// Without Organization.Domain the submitter is the contact's domain.
	for _, c := range []struct {
		org  Organization
		want string
	}{
		{Organization{Contact: "Postmaster <postmaster@Contact.Example>"}, "contact.example"},
		{Organization{Contact: "mailto:x@y.example"}, "y.example"},
		{Organization{Contact: "https://web.example/tlsrpt"}, "web.example"},
		{Organization{Contact: "call us"}, ""},
	} {
		rep := rng(a, c.org)[0]
		if rep.Submitter != c.want {
			t.Errorf("contact %q: submitter %q, want %q", c.org.Contact, rep.Submitter, c.want)
		}
		if want := c.want; want != "" && !strings.HasSuffix(rep.ReportID, "@"+want) || want == "" && !strings.HasSuffix(rep.ReportID, "@localhost") {
			t.Errorf("contact %q: report-id %q", c.org.Contact, rep.ReportID)
		}
	}
}

func TestFilename(t *testing.T) {
	rep := sampleRecorder(t).Reports(day(2026, 3, 14), day(2026, 3, 15), testOrg)[0]
	begin, end := day(2026, 3, 14).Unix(), day(2026, 3, 15).Unix()-1
	left, _, _ := strings.Cut(rep.ReportID, "@")
	want := fmt.Sprintf("mx.sender.example!example.net!%d!%d!%s.json.gz", begin, end, strings.ReplaceAll(left, ".", ""))
	if got := rep.Filename(); got != want {
		t.Errorf("Filename() = %q, want %q", got, want)
	}
	hostile := &Report{Submitter: "a\"b/c", ReportID: "-.-@x", Policies: []PolicyResult{{Policy: Policy{Domain: "x\r\ny"}}}}
	if got := hostile.Filename(); got != "a_b_c!x__y!-62135596800!-62135596800.json.gz" {
		t.Errorf("hostile Filename() = %q", got)
	}
}
