package mta

import (
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/metrics"
)

// sample is the value of the series name{labels} (labels as k=v
// pairs), -1 when there is none.
func sample(t *testing.T, m *metrics.Metrics, name string, labels ...string) float64 {
	t.Helper()
	fams, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, s := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range s.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for _, kv := range labels {
				k, v, _ := strings.Cut(kv, "=")
				if have[k] != v {
					continue next
				}
			}
			switch {
			case s.Counter != nil:
				return s.Counter.GetValue()
			case s.Gauge != nil:
				return s.Gauge.GetValue()
			}
		}
	}
	return -1
}

// The server's parts record what they do: sessions, messages by
// outcome and reason, engine results, deliveries, the queue, DNS.
func TestMetricsRecorded(t *testing.T) {
	m := metrics.New()
	spool := t.TempDir()
	ts := start(t, func(c *Config) {
		c.Metrics = m
		c.Spool = spool
		c.DMARCEnforce = true
		c.RetryInterval = time.Hour
	})
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	if code, _ := c.send("alice@sender.test", []string{"bob@example.com"}, signed(t, plainMsg)); code != 250 {
		t.Fatal(code)
	}
	// DMARC p=reject with SPF fail and no signature: refused.
	if code, _ := c.send("x@fail.test", []string{"bob@example.com"}, "From: x@sender.test\nSubject: s\n\nx\n"); code != 550 {
		t.Fatal(code)
	}
	c.ok("QUIT", 221)
	waitFor(t, 5*time.Second, "session closed", func() bool {
		return sample(t, m, "mta_sessions_active", "listener=smtp") == 0
	})
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"mta_connections_total", []string{"listener=smtp"}, 1},
		{"mta_messages_total", []string{"outcome=accepted", "reason=none"}, 1},
		{"mta_messages_total", []string{"outcome=refused", "reason=dmarc"}, 1},
		{"mta_engine_results_total", []string{"engine=spf", "result=pass"}, 1},
		{"mta_engine_results_total", []string{"engine=dkim", "result=pass"}, 1},
		{"mta_engine_results_total", []string{"engine=dmarc", "result=reject"}, 1},
		{"mta_deliveries_total", []string{"transport=maildir", "outcome=delivered"}, 1},
		{"mta_queue_messages", nil, 0},
	} {
		if got := sample(t, m, tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	if q := sample(t, m, "mta_dns_queries_total"); q <= 0 {
		t.Errorf("DNS queries %v", q)
	}
}
