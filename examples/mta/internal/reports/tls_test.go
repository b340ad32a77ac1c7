package reports

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailpolicy/mailpolicy/tlsrpt"
)

// postSink is an HTTPS rua endpoint on loopback; status, when set,
// answers each POST (0: 200).
type postSink struct {
	srv    *httptest.Server
	mu     sync.Mutex
	posts  []*tlsrpt.Report
	status func(n int) int
	n      int
}

func newPostSink(t *testing.T) *postSink {
	p := &postSink{}
	p.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.n++
		if p.status != nil {
			if code := p.status(p.n); code != 0 && code != http.StatusOK {
				w.WriteHeader(code)
				return
			}
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/tlsrpt+gzip" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		rep, err := tlsrpt.Parse(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		p.posts = append(p.posts, rep)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *postSink) received() []*tlsrpt.Report {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.posts)
}

// tlsReportOf parses the TLS report of a queued mail.
func tlsReportOf(t *testing.T, m sent) *tlsrpt.Report {
	t.Helper()
	rep, err := tlsrpt.ParseMessage(bytes.NewReader(m.msg))
	if err != nil {
		t.Fatalf("no TLS report in the mail to %v (%v):\n%s", m.to, err, m.msg)
	}
	return rep
}

type tlsEnv struct {
	dir   string
	rec   *tlsrpt.Recorder
	box   *inbox
	clock *fakeClock
	sink  *postSink
	zone  interface{ SetRcode(string, uint16, int) }
	res   Resolver
	t     *testing.T
}

var stsPolicy = tlsrpt.Policy{Type: tlsrpt.PolicySTS, Domain: "a.test",
	Strings: []string{"version: STSv1", "mode: enforce", "mx: mx.a.test", "max_age: 86400"}, MXHosts: []string{"mx.a.test"}}

// newTLSEnv records on mar1: a.test (STS) 3 successes and 2 equal
// failures, b.test (no policy) 1 success, c.test (no TLSRPT record) 1.
// a.test reports to a mailbox and the HTTPS sink, b.test to a mailbox.
func newTLSEnv(t *testing.T) *tlsEnv {
	t.Helper()
	recAt := mar1.Add(10 * time.Hour)
	e := &tlsEnv{dir: t.TempDir(), box: &inbox{}, clock: newFakeClock(mar2.Add(5 * time.Minute)), sink: newPostSink(t), t: t}
	e.rec = tlsrpt.NewRecorder(tlsrpt.WithClock(func() time.Time { return recAt }), tlsrpt.WithInstanceID("test"))
	for range 3 {
		e.rec.Success(stsPolicy)
	}
	f := tlsrpt.Failure{Result: tlsrpt.ResultCertificateExpired, SendingMTAIP: netip.MustParseAddr("192.0.2.1"),
		ReceivingMXHostname: "mx.a.test", ReceivingIP: netip.MustParseAddr("192.0.2.25")}
	e.rec.Failure(stsPolicy, f)
	e.rec.Failure(stsPolicy, f)
	e.rec.Success(tlsrpt.Policy{Type: tlsrpt.PolicyNone, Domain: "b.test"})
	e.rec.Success(tlsrpt.Policy{Type: tlsrpt.PolicyNone, Domain: "c.test"})
	res, z := dnsFor(t,
		`_smtp._tls.a.test. TXT "v=TLSRPTv1; rua=mailto:tls@a.test,`+e.sink.srv.URL+`/tlsrpt"`,
		`_smtp._tls.b.test. TXT "v=TLSRPTv1;rua=mailto:tls-reports@b.test"`,
	)
	e.res, e.zone = res, z
	return e
}

func (e *tlsEnv) scheduler() *Scheduler {
	return &Scheduler{Inject: e.box.inject, StateFile: filepath.Join(e.dir, "db", "reports"), Resolver: e.res,
		HTTP: e.sink.srv.Client(), Clock: e.clock, Logger: testLog(e.t), MaxDelay: -1,
		TLS: e.rec, TLSOrg: tlsrpt.Organization{Name: "Example Mail", Contact: "tlsrpt@example.test"}}
}

// The day's reports go to each policy domain's rua, by mail and by
// POST, with what was recorded; then the day is forgotten and a
// restart sends nothing again.
func TestTLSReportsSent(t *testing.T) {
	e := newTLSEnv(t)
	if err := e.scheduler().RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := e.box.all()
	if r := recipients(got); !slices.Equal(r, []string{"tls-reports@b.test", "tls@a.test"}) {
		t.Fatalf("mailed to %v", r)
	}
	a := tlsReportOf(t, e.box.to("tls@a.test")[0])
	check := func(rep *tlsrpt.Report) {
		t.Helper()
		if rep.OrganizationName != "Example Mail" || rep.ContactInfo != "tlsrpt@example.test" || !rep.DateRange.Start.Equal(mar1) ||
			len(rep.Policies) != 1 || rep.PolicyDomain() != "a.test" {
			t.Fatalf("report %+v", rep)
		}
		p := rep.Policies[0]
		if p.Policy.Type != tlsrpt.PolicySTS || !slices.Equal(p.Policy.MXHosts, []string{"mx.a.test"}) ||
			p.Summary.TotalSuccessfulSessionCount != 3 || p.Summary.TotalFailureSessionCount != 2 ||
			len(p.FailureDetails) != 1 || p.FailureDetails[0].ResultType != tlsrpt.ResultCertificateExpired ||
			p.FailureDetails[0].FailedSessionCount != 2 || p.FailureDetails[0].ReceivingIP != "192.0.2.25" {
			t.Fatalf("policy %+v", p)
		}
	}
	check(a)
	if e.box.to("tls@a.test")[0].from != "tlsrpt@example.test" {
		t.Fatalf("envelope sender %q", e.box.to("tls@a.test")[0].from)
	}
	posts := e.sink.received()
	if len(posts) != 1 {
		t.Fatalf("%d POSTs", len(posts))
	}
	check(posts[0])
	if posts[0].ReportID != a.ReportID {
		t.Fatalf("POST report-id %q, mail %q", posts[0].ReportID, a.ReportID)
	}
	if b := tlsReportOf(t, e.box.to("tls-reports@b.test")[0]); b.Policies[0].Summary.TotalSuccessfulSessionCount != 1 {
		t.Fatalf("b.test %+v", b.Policies)
	}
	if left := e.rec.Reports(mar1, mar2, tlsrpt.Organization{Contact: "x@example.test"}); len(left) != 0 {
		t.Fatalf("%d reports of the day still recorded", len(left))
	}
	// A restart the same day, and the next day with nothing recorded.
	if err := e.scheduler().RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.clock.set(mar3.Add(time.Minute))
	if err := e.scheduler().RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, p := len(e.box.all()), len(e.sink.received()); n != 2 || p != 1 {
		t.Fatalf("after restarts: %d mails, %d POSTs", n, p)
	}
}

// A POST that fails waits in the state and goes at a later run, also
// after a restart; the mails are not sent again.
func TestTLSPostRetried(t *testing.T) {
	e := newTLSEnv(t)
	e.sink.status = func(n int) int {
		if n == 1 {
			return http.StatusServiceUnavailable
		}
		return 0
	}
	s := e.scheduler()
	if err := s.RunOnce(context.Background()); err != nil {
		t.Fatal(err) // the day is done: the POST waits in the state
	}
	if len(e.sink.received()) != 0 {
		t.Fatal("posted on a 503")
	}
	if next := s.next(e.clock.Now(), false); !next.Equal(e.clock.Now().Add(DefaultRetry)) {
		t.Fatalf("next run at %v with a POST waiting", next)
	}
	e.clock.set(mar2.Add(time.Hour + 5*time.Minute))
	if err := e.scheduler().RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	posts := e.sink.received()
	if len(posts) != 1 || posts[0].PolicyDomain() != "a.test" || posts[0].Policies[0].Summary.TotalFailureSessionCount != 2 {
		t.Fatalf("retried POSTs %+v", posts)
	}
	if n := len(e.box.all()); n != 2 {
		t.Fatalf("%d mails", n)
	}
	st, _ := loadState(s.StateFile)
	if len(st.Posts) != 0 {
		t.Fatalf("posts still waiting: %+v", st.Posts)
	}
}

// A POST that keeps failing is given up after GiveUp.
func TestTLSPostGivenUp(t *testing.T) {
	e := newTLSEnv(t)
	e.sink.status = func(int) int { return http.StatusInternalServerError }
	if err := e.scheduler().RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.clock.set(mar2.Add(2 * time.Hour))
	if err := e.scheduler().RunOnce(context.Background()); err == nil {
		t.Fatal("no error with a POST still waiting")
	}
	e.clock.set(mar3.Add(time.Hour))
	e.scheduler().RunOnce(context.Background())
	st, _ := loadState(filepath.Join(e.dir, "db", "reports"))
	if len(st.Posts) != 0 {
		t.Fatalf("posts still waiting after GiveUp: %+v", st.Posts)
	}
}

// A DNS failure looking up a TLSRPT record is retried: the day stays
// open and is not forgotten.
func TestTLSLookupTemporaryFailure(t *testing.T) {
	e := newTLSEnv(t)
	e.zone.SetRcode("_smtp._tls.b.test", dns.TypeTXT, dns.RcodeServerFailure)
	if err := e.scheduler().RunOnce(context.Background()); err == nil {
		t.Fatal("no error on SERVFAIL")
	}
	if r := recipients(e.box.all()); !slices.Equal(r, []string{"tls@a.test"}) {
		t.Fatalf("mailed to %v", r)
	}
	if left := e.rec.Reports(mar1, mar2, tlsrpt.Organization{Contact: "x@example.test"}); len(left) != 3 {
		t.Fatalf("%d reports left recorded, want the day kept", len(left))
	}
	e.zone.SetRcode("_smtp._tls.b.test", dns.TypeTXT, dns.RcodeSuccess)
	e.clock.set(mar2.Add(time.Hour))
	if err := e.scheduler().RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := recipients(e.box.all()); !slices.Equal(r, []string{"tls-reports@b.test", "tls@a.test"}) {
		t.Fatalf("after the retry mailed to %v", r)
	}
	if n := len(e.sink.received()); n != 1 {
		t.Fatalf("%d POSTs", n)
	}
}
