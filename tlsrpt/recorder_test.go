package tlsrpt

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct{ t atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.set(t)
	return c
}
func (c *clock) set(t time.Time) { c.t.Store(t.UnixNano()) }
func (c *clock) now() time.Time  { return time.Unix(0, c.t.Load()) }
func day(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

var (
	stsPolicy = Policy{
		Type:    PolicySTS,
		Domain:  "example.net",
		Strings: []string{"version: STSv1", "mode: enforce", "mx: *.mx.example.net", "max_age: 86400"},
		MXHosts: []string{"*.mx.example.net"},
	}
	tlsaPolicy = Policy{
		Type:    PolicyTLSA,
		Domain:  "mx1.example.org",
		Strings: []string{"3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	}
	expired = Failure{
		Result:              ResultCertificateExpired,
		SendingMTAIP:        netip.MustParseAddr("2001:db8::25"),
		ReceivingMXHostname: "a.mx.example.net",
		ReceivingIP:         netip.MustParseAddr("192.0.2.10"),
		FailureReasonCode:   "x509: certificate has expired",
	}
)

func oneReport(t *testing.T, r *Recorder, begin, end time.Time, domain string) *Report {
	t.Helper()
	for _, rep := range r.Reports(begin, end, Organization{Name: "Test", Contact: "postmaster@sender.example"}) {
		if rep.PolicyDomain() == domain {
			return rep
		}
	}
	t.Fatalf("no report for %s in [%v, %v)", domain, begin, end)
	return nil
}

func TestRecorderCounts(t *testing.T) {
	c := newClock(day(2026, 3, 14).Add(9 * time.Hour))
	r := NewRecorder(WithClock(c.now))
	for range 5 {
		r.Success(stsPolicy)
	}
	r.Failure(stsPolicy, expired)
	r.Failure(stsPolicy, expired)
	other := expired
	other.ReceivingMXHostname = "b.mx.example.net"
	other.ReceivingIP = netip.MustParseAddr("192.0.2.11")
	r.Failure(stsPolicy, other)
	// The same domain in another case and with a dot is the same policy.
	upper := stsPolicy
	upper.Domain = "EXAMPLE.net."
	r.Success(upper)
	// A different policy for the same domain is another policies[] entry.
	testing2 := stsPolicy
	testing2.Strings = []string{"version: STSv1", "mode: testing", "mx: *.mx.example.net", "max_age: 86400"}
	r.Failure(testing2, Failure{Result: ResultSTARTTLSNotSupported, ReceivingMXHostname: "a.mx.example.net"})
	r.Success(tlsaPolicy)

	rep := oneReport(t, r, day(2026, 3, 14), day(2026, 3, 15), "example.net")
	if len(rep.Policies) != 2 {
		t.Fatalf("policies: %+v", rep.Policies)
	}
	// Sorted by the policy strings: "mode: enforce" < "mode: testing".
	enf, tst := rep.Policies[0], rep.Policies[1]
	if enf.Summary != (Summary{6, 3}) || tst.Summary != (Summary{0, 1}) {
		t.Errorf("summaries %+v %+v", enf.Summary, tst.Summary)
	}
	if len(enf.FailureDetails) != 2 {
		t.Fatalf("failure details %+v", enf.FailureDetails)
	}
	want := FailureDetail{
		ResultType:          ResultCertificateExpired,
		SendingMTAIP:        "2001:db8::25",
		ReceivingMXHostname: "a.mx.example.net",
		ReceivingIP:         "192.0.2.10",
		FailedSessionCount:  2,
		FailureReasonCode:   "x509: certificate has expired",
	}
	if enf.FailureDetails[0] != want {
		t.Errorf("detail 0 = %+v, want %+v", enf.FailureDetails[0], want)
	}
	if d := enf.FailureDetails[1]; d.ReceivingMXHostname != "b.mx.example.net" || d.FailedSessionCount != 1 {
		t.Errorf("detail 1 = %+v", d)
	}
	if enf.Policy.Domain != "example.net" || enf.Policy.MXHosts[0] != "*.mx.example.net" {
		t.Errorf("policy %+v", enf.Policy)
	}
	if tlsa := oneReport(t, r, day(2026, 3, 14), day(2026, 3, 15), "mx1.example.org"); tlsa.Policies[0].Summary != (Summary{1, 0}) {
		t.Errorf("tlsa report %+v", tlsa.Policies)
	}
}

func TestRecorderDays(t *testing.T) {
	c := newClock(day(2026, 3, 14).Add(23*time.Hour + 59*time.Minute))
	r := NewRecorder(WithClock(c.now))
	r.Success(stsPolicy)
	// Another zone's midnight is not the UTC day's.
	c.set(time.Date(2026, 3, 15, 0, 30, 0, 0, time.FixedZone("CET", 3600)))
	r.Success(stsPolicy) // 23:30 UTC on the 14th
	c.set(day(2026, 3, 15))
	r.Success(stsPolicy)
	r.Failure(stsPolicy, expired)

	if got := oneReport(t, r, day(2026, 3, 14), day(2026, 3, 15), "example.net").Policies[0].Summary; got != (Summary{2, 0}) {
		t.Errorf("the 14th: %+v", got)
	}
	if got := oneReport(t, r, day(2026, 3, 15), day(2026, 3, 16), "example.net").Policies[0].Summary; got != (Summary{1, 1}) {
		t.Errorf("the 15th: %+v", got)
	}
	// A range of two days merges them into one policy entry.
	two := oneReport(t, r, day(2026, 3, 14), day(2026, 3, 16), "example.net")
	if len(two.Policies) != 1 || two.Policies[0].Summary != (Summary{3, 1}) {
		t.Errorf("both days: %+v", two.Policies)
	}
	if reps := r.Reports(day(2026, 3, 16), day(2026, 3, 17), Organization{}); len(reps) != 0 {
		t.Errorf("the 16th: %d reports", len(reps))
	}

	// Forget at the end of the 14th drops it and keeps the 15th.
	r.Forget(day(2026, 3, 15))
	if reps := r.Reports(day(2026, 3, 14), day(2026, 3, 15), Organization{}); len(reps) != 0 {
		t.Errorf("the 14th after Forget: %d reports", len(reps))
	}
	if got := oneReport(t, r, day(2026, 3, 15), day(2026, 3, 16), "example.net").Policies[0].Summary; got != (Summary{1, 1}) {
		t.Errorf("the 15th after Forget: %+v", got)
	}
	// Before the 15th has ended it stays.
	r.Forget(day(2026, 3, 15).Add(23 * time.Hour))
	if len(r.Reports(day(2026, 3, 15), day(2026, 3, 16), Organization{})) != 1 {
		t.Error("Forget dropped a day that had not ended")
	}
	r.Forget(day(2026, 3, 16))
	if len(r.Reports(day(2000, 1, 1), day(2100, 1, 1), Organization{})) != 0 {
		t.Error("Forget left counts")
	}
}

func TestRecorderCopiesPolicy(t *testing.T) {
	r := NewRecorder(WithClock(newClock(day(2026, 3, 14)).now))
	p := stsPolicy
	p.Strings = append([]string(nil), stsPolicy.Strings...)
	r.Success(p)
	p.Strings[1] = "mode: none" // the caller reuses its slice
	rep := oneReport(t, r, day(2026, 3, 14), day(2026, 3, 15), "example.net")
	if rep.Policies[0].Policy.Strings[1] != "mode: enforce" {
		t.Errorf("the Recorder kept the caller's slice: %q", rep.Policies[0].Policy.Strings)
	}
	rep.Policies[0].Policy.Strings[1] = "changed"
	again := oneReport(t, r, day(2026, 3, 14), day(2026, 3, 15), "example.net")
	if again.Policies[0].Policy.Strings[1] != "mode: enforce" {
		t.Error("a report shares its slices with the Recorder")
	}
}

func TestRecorderMaxFailureDetails(t *testing.T) {
	r := NewRecorder(WithClock(newClock(day(2026, 3, 14)).now), WithMaxFailureDetails(3))
	for i := range 10 {
		f := expired
		f.ReceivingMXHelo = fmt.Sprintf("helo%d.example.net", i) // a hostile MX varies its EHLO name
		r.Failure(stsPolicy, f)
	}
	f := expired
	f.ReceivingMXHelo = "helo0.example.net" // a kept detail still counts
	r.Failure(stsPolicy, f)
	pr := oneReport(t, r, day(2026, 3, 14), day(2026, 3, 15), "example.net").Policies[0]
	if pr.Summary.TotalFailureSessionCount != 11 || len(pr.FailureDetails) != 3 {
		t.Fatalf("summary %+v, %d details", pr.Summary, len(pr.FailureDetails))
	}
	var sum int64
	for _, d := range pr.FailureDetails {
		sum += d.FailedSessionCount
	}
	if sum != 4 {
		t.Errorf("details count %d sessions, want 4", sum)
	}

	long := expired
	long.AdditionalInfo = strings.Repeat("é", 2000)
	r.Failure(tlsaPolicy, long)
	d := oneReport(t, r, day(2026, 3, 14), day(2026, 3, 15), "mx1.example.org").Policies[0].FailureDetails[0]
	if len(d.AdditionalInformation) > maxDetailField || !strings.HasPrefix(long.AdditionalInfo, d.AdditionalInformation) || len(d.AdditionalInformation)%2 != 0 {
		t.Errorf("additional-information of %d bytes, not cut on a rune boundary", len(d.AdditionalInformation))
	}
}

func TestRecorderConcurrent(t *testing.T) {
	c := newClock(day(2026, 3, 14).Add(12 * time.Hour))
	r := NewRecorder(WithClock(c.now))
	const workers, per = 8, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := stsPolicy
			p.Domain = fmt.Sprintf("d%d.example", w%3)
			for i := range per {
				if i%5 == 0 {
					r.Failure(p, expired)
				} else {
					r.Success(p)
				}
				if i%100 == 0 { // reports are built while sessions are counted
					r.Reports(day(2026, 3, 14), day(2026, 3, 15), Organization{})
				}
			}
		}()
	}
	wg.Wait()
	var ok, failed int64
	for _, rep := range r.Reports(day(2026, 3, 14), day(2026, 3, 15), Organization{}) {
		for _, pr := range rep.Policies {
			ok += pr.Summary.TotalSuccessfulSessionCount
			failed += pr.Summary.TotalFailureSessionCount
			if len(pr.FailureDetails) != 1 || pr.FailureDetails[0].FailedSessionCount != pr.Summary.TotalFailureSessionCount {
				t.Errorf("%s: %+v", pr.Policy.Domain, pr.FailureDetails)
			}
		}
	}
	if ok != workers*per*4/5 || failed != workers*per/5 {
		t.Errorf("counted %d successes and %d failures, want %d and %d", ok, failed, workers*per*4/5, workers*per/5)
	}
}
