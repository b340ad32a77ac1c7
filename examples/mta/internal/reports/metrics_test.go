package reports

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/metrics"
)

// counter is the value of a series of name with the labels kind and
// outcome, from the registry as a scrape sees it.
func counter(t *testing.T, m *metrics.Metrics, name, kind, outcome string) float64 {
	t.Helper()
	fams, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range s.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			if l["kind"] == kind && l["outcome"] == outcome {
				return s.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// Reports queued and failed, and reports received, are counted; two
// Schedulers on one Metrics share the series.
func TestMetrics(t *testing.T) {
	m := metrics.New()
	e := newDMARCEnv(t, mar2.Add(3*time.Minute))
	e.r.Metrics = m
	e.add(entry("a.test", mar1.Add(time.Hour), "192.0.2.1", "mailto:one@a.test", "mailto:two@a.test"))
	e.box.fail = func(to string) bool { return to == "two@a.test" }
	e.r.RunOnce(context.Background())
	if q, f := counter(t, m, "mta_reports_sent_total", "dmarc", "queued"), counter(t, m, "mta_reports_sent_total", "dmarc", "failed"); q != 1 || f != 1 {
		t.Fatalf("queued %v failed %v", q, f)
	}
	e2 := newTLSEnv(t)
	s2 := e2.scheduler()
	s2.Metrics = m
	if err := s2.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if q, p := counter(t, m, "mta_reports_sent_total", "tls", "queued"), counter(t, m, "mta_reports_sent_total", "tls", "posted"); q != 2 || p != 1 {
		t.Fatalf("tls queued %v posted %v", q, p)
	}
	r := newReceiver(t)
	r.Metrics = m
	msg := dmarcMail(t, "big.test")
	r.Receive(context.Background(), bytes.NewReader(msg))
	r.Receive(context.Background(), bytes.NewReader(msg))
	r.Receive(context.Background(), bytes.NewReader([]byte("junk")))
	if s, d, u := counter(t, m, "mta_reports_received_total", "dmarc", "stored"), counter(t, m, "mta_reports_received_total", "dmarc", "duplicate"),
		counter(t, m, "mta_reports_received_total", "none", "unparsed"); s != 1 || d != 1 || u != 1 {
		t.Fatalf("received: stored %v duplicate %v unparsed %v", s, d, u)
	}
}
