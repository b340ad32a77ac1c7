package reports

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/dmarc/report"
)

var (
	mar1 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	mar2 = mar1.Add(day)
	mar3 = mar2.Add(day)
)

// dmarcZone: ext.test accepts b.test's reports; unverified.test
// accepts nobody's.
var dmarcZone = []string{
	`b.test._report._dmarc.ext.test. TXT "v=DMARC1"`,
	`unverified.test. TXT "v=spf1 -all"`,
}

type dmarcEnv struct {
	t       *testing.T
	dir     string
	history *FileHistory
	box     *inbox
	clock   *fakeClock
	r       *Scheduler
}

func newDMARCEnv(t *testing.T, now time.Time) *dmarcEnv {
	t.Helper()
	dir := t.TempDir()
	h, err := OpenFileHistory(filepath.Join(dir, "history"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	h.Logger = testLog(t)
	res, _ := dnsFor(t, dmarcZone...)
	e := &dmarcEnv{t: t, dir: dir, history: h, box: &inbox{}, clock: newFakeClock(now)}
	e.r = e.scheduler(res)
	return e
}

// scheduler is a Scheduler over the env's history, state, inbox and
// clock, as a restarted MTA would build it.
func (e *dmarcEnv) scheduler(res Resolver) *Scheduler {
	return &Scheduler{
		Inject: e.box.inject, StateFile: filepath.Join(e.dir, "db", "reports"), Resolver: res,
		Clock: e.clock, Logger: testLog(e.t), History: e.history, MaxDelay: -1,
		Reporter: report.Reporter{OrgName: "Example Mail", Email: "dmarc-reports@example.test"},
	}
}

func (e *dmarcEnv) add(es ...dmarc.HistoryEntry) { writeHistory(e.t, e.history, es...) }

// feedback parses a queued report mail.
func feedback(t *testing.T, m sent) *report.Feedback {
	t.Helper()
	f, err := report.ParseMessage(bytes.NewReader(m.msg))
	if err != nil {
		t.Fatalf("report mail to %v does not parse: %v\n%s", m.to, err, m.msg)
	}
	return f
}

func rowCount(f *report.Feedback) (n int64) {
	for _, r := range f.Records {
		n += r.Row.Count
	}
	return n
}

func recipients(ms []sent) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.to...)
	}
	slices.Sort(out)
	return out
}

// One report per policy domain and rua destination, for the interval
// just ended: same-organization and verified external destinations get
// it; an external one without the _report._dmarc record, a non-mailto
// one and one whose size limit the report exceeds do not.
func TestDMARCReportsPerDestination(t *testing.T) {
	e := newDMARCEnv(t, mar2.Add(3*time.Minute))
	e.add(
		entry("a.test", mar1.Add(-time.Second), "192.0.2.9", "mailto:dmarc@a.test"), // the day before
		entry("a.test", mar1, "192.0.2.1", "mailto:dmarc@a.test"),
		entry("a.test", mar1.Add(time.Hour), "192.0.2.1", "mailto:dmarc@a.test"),
		entry("A.test", mar1.Add(2*time.Hour), "192.0.2.2", "mailto:dmarc@a.test"),
		entry("b.test", mar1.Add(3*time.Hour), "192.0.2.3", "mailto:agg@ext.test!10m"),
		entry("c.test", mar1.Add(4*time.Hour), "192.0.2.4", "mailto:agg@unverified.test"),
		entry("d.test", mar1.Add(5*time.Hour), "192.0.2.5", "https://r.d.test/up", "mailto:small@d.test!100", "mailto:ok@d.test"),
		entry("e.test", mar1.Add(6*time.Hour), "192.0.2.6"),       // no rua
		entry("a.test", mar2, "192.0.2.7", "mailto:dmarc@a.test"), // today
	)
	if err := e.r.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := e.box.all()
	if want := []string{"agg@ext.test", "dmarc@a.test", "ok@d.test"}; !slices.Equal(recipients(got), want) {
		t.Fatalf("sent to %v, want %v", recipients(got), want)
	}
	for _, m := range got {
		if m.from != "dmarc-reports@example.test" {
			t.Errorf("envelope sender %q", m.from)
		}
		f := feedback(t, m)
		md := f.Metadata
		if md.OrgName != "Example Mail" || md.Email != "dmarc-reports@example.test" || md.DateRange.Begin != mar1.Unix() || md.DateRange.End != mar2.Unix()-1 {
			t.Errorf("metadata %+v", md)
		}
		want := map[string]int64{"dmarc@a.test": 3, "agg@ext.test": 1, "ok@d.test": 1}[m.to[0]]
		if n := rowCount(f); n != want {
			t.Errorf("%s: %d messages in the report, want %d", m.to[0], n, want)
		}
		if wantDomain := map[string]string{"dmarc@a.test": "a.test", "agg@ext.test": "b.test", "ok@d.test": "d.test"}[m.to[0]]; f.Policy.Domain != wantDomain {
			t.Errorf("%s got the report of %s", m.to[0], f.Policy.Domain)
		}
		if !bytes.Contains(m.msg, []byte("Subject: Report Domain: "+f.Policy.Domain)) {
			t.Errorf("subject of %s:\n%s", m.to[0], m.msg)
		}
	}
	if f := feedback(t, e.box.to("dmarc@a.test")[0]); len(f.Records) != 2 || f.Records[0].Row.SourceIP != "192.0.2.1" || f.Records[0].Row.Count != 2 {
		t.Errorf("a.test rows %+v", f.Records)
	}
}

// A restart neither repeats the interval reported nor loses the next
// one; the history file keeps only what is not reported.
func TestDMARCRestartNoRepeatNoLoss(t *testing.T) {
	e := newDMARCEnv(t, mar2.Add(3*time.Minute))
	e.add(entry("a.test", mar1.Add(time.Hour), "192.0.2.1", "mailto:dmarc@a.test"),
		entry("a.test", mar2.Add(time.Minute), "192.0.2.2", "mailto:dmarc@a.test"))
	if err := e.r.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(e.box.all()); n != 1 {
		t.Fatalf("%d reports", n)
	}
	b, _ := os.ReadFile(filepath.Join(e.dir, "history"))
	if strings.Contains(string(b), "192.0.2.1") || !strings.Contains(string(b), "192.0.2.2") {
		t.Fatalf("history after the report:\n%s", b)
	}
	// Restarted the same day: nothing again.
	res, _ := dnsFor(t, dmarcZone...)
	if err := e.scheduler(res).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(e.box.all()); n != 1 {
		t.Fatalf("%d reports after a restart the same day", n)
	}
	// Down over the next midnight and a day more: both days come.
	e.add(entry("a.test", mar3.Add(time.Minute), "192.0.2.3", "mailto:dmarc@a.test"))
	e.clock.set(mar3.Add(day + time.Hour))
	if err := e.scheduler(res).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := e.box.all()
	if len(got) != 3 {
		t.Fatalf("%d reports after two more days", len(got))
	}
	f2, f3 := feedback(t, got[1]), feedback(t, got[2])
	if f2.Metadata.DateRange.Begin != mar2.Unix() || f2.Records[0].Row.SourceIP != "192.0.2.2" ||
		f3.Metadata.DateRange.Begin != mar3.Unix() || f3.Records[0].Row.SourceIP != "192.0.2.3" {
		t.Fatalf("reports %+v %+v", f2.Metadata, f3.Metadata)
	}
}

// A destination the queue refused is retried, and only it: the others
// of the interval are not sent twice.
func TestDMARCRetryOnlyWhatFailed(t *testing.T) {
	e := newDMARCEnv(t, mar2.Add(3*time.Minute))
	e.add(entry("a.test", mar1.Add(time.Hour), "192.0.2.1", "mailto:one@a.test", "mailto:two@a.test"),
		entry("b.test", mar1.Add(time.Hour), "192.0.2.2", "mailto:agg@ext.test"))
	e.box.fail = func(to string) bool { return to == "two@a.test" }
	if err := e.r.RunOnce(context.Background()); err == nil {
		t.Fatal("no error with a destination not queued")
	}
	if got := recipients(e.box.all()); !slices.Equal(got, []string{"agg@ext.test", "one@a.test"}) {
		t.Fatalf("first run sent to %v", got)
	}
	// The history is not trimmed while the interval is open.
	if es, _ := e.history.Entries(context.Background(), mar1, mar2); len(es) != 2 {
		t.Fatalf("history lost entries: %d", len(es))
	}
	e.box.fail = nil
	e.clock.set(mar2.Add(time.Hour))
	res, _ := dnsFor(t, dmarcZone...)
	if err := e.scheduler(res).RunOnce(context.Background()); err != nil { // after a restart, too
		t.Fatal(err)
	}
	if got := recipients(e.box.all()); !slices.Equal(got, []string{"agg@ext.test", "one@a.test", "two@a.test"}) {
		t.Fatalf("after the retry sent to %v", got)
	}
	if es, _ := e.history.Entries(context.Background(), mar1, mar2); len(es) != 0 {
		t.Fatalf("history not trimmed: %d", len(es))
	}
}

// A DNS failure verifying an external destination is retried; after
// GiveUp past the interval's end the interval is closed without it.
func TestDMARCVerifyTemporaryFailure(t *testing.T) {
	e := newDMARCEnv(t, mar2.Add(3*time.Minute))
	res, z := dnsFor(t, dmarcZone...)
	e.r = e.scheduler(res)
	z.SetRcode("b.test._report._dmarc.ext.test", dns.TypeTXT, dns.RcodeServerFailure)
	e.add(entry("b.test", mar1.Add(time.Hour), "192.0.2.2", "mailto:agg@ext.test"))
	if err := e.r.RunOnce(context.Background()); err == nil {
		t.Fatal("no error on SERVFAIL")
	}
	if n := len(e.box.all()); n != 0 {
		t.Fatalf("%d sent without verification", n)
	}
	e.clock.set(mar3.Add(time.Minute))
	e.r.RunOnce(context.Background())
	st, _ := loadState(e.r.StateFile)
	if !st.DMARCDone.Equal(mar3) {
		t.Fatalf("intervals not closed after giving up: done %v", st.DMARCDone)
	}
}

// The first run ever reports the last complete interval only; after a
// long stop, catching up goes back MaxCatchUp, no further.
func TestDMARCCatchUpBound(t *testing.T) {
	for _, c := range []struct {
		name string
		done time.Time // the state's DMARCDone; zero: no state
		want []time.Time
	}{
		{"first run", time.Time{}, []time.Time{mar1.Add(-day)}},
		{"after five days down", mar1.Add(-5 * day), []time.Time{mar1.Add(-2 * day), mar1.Add(-day)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newDMARCEnv(t, mar1.Add(time.Hour))
			e.r.MaxCatchUp = 2 * day
			if !c.done.IsZero() {
				(&state{DMARCDone: c.done}).save(e.r.StateFile)
			}
			for d := mar1.Add(-5 * day); d.Before(mar1); d = d.Add(day) {
				e.add(entry("a.test", d.Add(time.Hour), "192.0.2.1", "mailto:dmarc@a.test"))
			}
			if err := e.r.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			var begins, want []int64
			for _, m := range e.box.all() {
				begins = append(begins, feedback(t, m).Metadata.DateRange.Begin)
			}
			for _, w := range c.want {
				want = append(want, w.Unix())
			}
			if !slices.Equal(begins, want) {
				t.Fatalf("reported %v, want %v", begins, want)
			}
		})
	}
}

// An hourly interval reports the hour just ended.
func TestDMARCHourly(t *testing.T) {
	e := newDMARCEnv(t, mar1.Add(10*time.Hour+time.Minute))
	e.r.Interval = time.Hour
	e.add(entry("a.test", mar1.Add(9*time.Hour+59*time.Minute), "192.0.2.1", "mailto:dmarc@a.test"),
		entry("a.test", mar1.Add(8*time.Hour+59*time.Minute), "192.0.2.2", "mailto:dmarc@a.test"))
	if err := e.r.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := e.box.all()
	if len(got) != 1 {
		t.Fatalf("%d reports", len(got))
	}
	if f := feedback(t, got[0]); f.Metadata.DateRange.Begin != mar1.Add(9*time.Hour).Unix() || f.Metadata.DateRange.End != mar1.Add(10*time.Hour).Unix()-1 || rowCount(f) != 1 {
		t.Fatalf("report %+v", f.Metadata)
	}
}

// Instances sharing a history report an interval once: the one whose
// Claim holds; a Claim that cannot be decided is retried.
func TestDMARCClaim(t *testing.T) {
	e := newDMARCEnv(t, mar2.Add(3*time.Minute))
	e.add(entry("a.test", mar1.Add(time.Hour), "192.0.2.1", "mailto:dmarc@a.test"))
	var asked []time.Time
	claim := func(ours bool, err error) func(context.Context, time.Time, time.Time) (bool, error) {
		return func(_ context.Context, begin, end time.Time) (bool, error) {
			asked = append(asked, begin, end)
			return ours, err
		}
	}
	e.r.Claim = claim(false, errQueueFull)
	if err := e.r.RunOnce(context.Background()); err == nil || len(e.box.all()) != 0 {
		t.Fatalf("undecided claim: %v, %d sent", err, len(e.box.all()))
	}
	if !slices.Equal(asked, []time.Time{mar1, mar2}) {
		t.Fatalf("claim asked for %v", asked)
	}
	e.r.Claim = claim(false, nil)
	if err := e.r.RunOnce(context.Background()); err != nil || len(e.box.all()) != 0 {
		t.Fatalf("claim of another: %v, %d sent", err, len(e.box.all()))
	}
	if st, _ := loadState(e.r.StateFile); !st.DMARCDone.Equal(mar2) {
		t.Fatalf("interval of another not marked done: %v", st.DMARCDone)
	}
	e2 := newDMARCEnv(t, mar2.Add(3*time.Minute))
	e2.add(entry("a.test", mar1.Add(time.Hour), "192.0.2.1", "mailto:dmarc@a.test"))
	e2.r.Claim = claim(true, nil)
	if err := e2.r.RunOnce(context.Background()); err != nil || len(e2.box.all()) != 1 {
		t.Fatalf("own claim: %v, %d sent", err, len(e2.box.all()))
	}
}
