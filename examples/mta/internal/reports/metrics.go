package reports

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/metrics"
)

// counters are the reports' series, registered once per Metrics.
type counters struct {
	sent     *prometheus.CounterVec // kind, outcome: queued, posted, failed
	received *prometheus.CounterVec // kind, outcome: stored, duplicate, unparsed
}

var registered sync.Map // *metrics.Metrics → *counters

func countersOf(m *metrics.Metrics) *counters {
	if m == nil {
		return nil
	}
	if c, ok := registered.Load(m); ok {
		return c.(*counters)
	}
	c := &counters{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mta_reports_sent_total",
			Help: "DMARC aggregate and TLS reports sent, by kind (dmarc, tls) and outcome (queued, posted, failed).",
		}, []string{"kind", "outcome"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mta_reports_received_total",
			Help: "Reports received at report_inbox, by kind (dmarc, tls, none) and outcome (stored, duplicate, unparsed).",
		}, []string{"kind", "outcome"}),
	}
	if actual, loaded := registered.LoadOrStore(m, c); loaded {
		return actual.(*counters)
	}
	m.Register(c.sent)
	m.Register(c.received)
	return c
}

func (s *Scheduler) count(kind, outcome string) {
	if c := countersOf(s.Metrics); c != nil {
		c.sent.WithLabelValues(kind, outcome).Inc()
	}
}
