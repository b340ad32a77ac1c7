package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailpolicy/mailpolicy/resolver"
)

// SetQueueFunc installs the function read at each scrape for
// mta_queue_messages and mta_queue_oldest_age_seconds. It runs on the
// scrape's goroutine while the scrape waits, so it must be cheap and must
// not block (read counters kept up to date by the queue runner; do not
// walk the spool). nil removes it, and the two series disappear.
func (m *Metrics) SetQueueFunc(f func() (messages int, oldest time.Duration)) {
	if m == nil {
		return
	}
	if f == nil {
		m.queue.Store(nil)
		return
	}
	m.queue.Store(&f)
}

// SetDNSFunc installs the function read at each scrape for the mta_dns_*
// series, normally the Stats method of the MTA's resolver.Resolver. The
// same contract as SetQueueFunc applies: cheap, never blocking.
func (m *Metrics) SetDNSFunc(f func() resolver.Stats) {
	if m == nil {
		return
	}
	if f == nil {
		m.dns.Store(nil)
		return
	}
	m.dns.Store(&f)
}

var (
	descQueueMessages = prometheus.NewDesc("mta_queue_messages",
		"Messages in the queue now.", nil, nil)
	descQueueOldest = prometheus.NewDesc("mta_queue_oldest_age_seconds",
		"Age of the oldest message in the queue, 0 when it is empty.", nil, nil)
	descDNSQueries = prometheus.NewDesc("mta_dns_queries_total",
		"DNS lookups sent to the servers.", nil, nil)
	descDNSHits = prometheus.NewDesc("mta_dns_cache_hits_total",
		"DNS queries answered from the resolver's cache.", nil, nil)
	descDNSMisses = prometheus.NewDesc("mta_dns_cache_misses_total",
		"DNS queries the resolver's cache had to send.", nil, nil)
	descDNSCollapsed = prometheus.NewDesc("mta_dns_collapsed_total",
		"DNS queries that waited for an identical one already in flight.", nil, nil)
	descDNSEntries = prometheus.NewDesc("mta_dns_cache_entries",
		"Answers held in the resolver's cache now.", nil, nil)
)

// callbackCollector turns the installed callbacks into series at scrape
// time. One collector rather than a GaugeFunc per series, so that each
// callback runs once per scrape and its values are from one moment.
type callbackCollector struct{ m *Metrics }

func (c callbackCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descQueueMessages, descQueueOldest,
		descDNSQueries, descDNSHits, descDNSMisses, descDNSCollapsed, descDNSEntries} {
		ch <- d
	}
}

func (c callbackCollector) Collect(ch chan<- prometheus.Metric) {
	if f := c.m.queue.Load(); f != nil {
		if n, oldest, ok := callQueue(*f); ok {
			ch <- prometheus.MustNewConstMetric(descQueueMessages, prometheus.GaugeValue, float64(n))
			ch <- prometheus.MustNewConstMetric(descQueueOldest, prometheus.GaugeValue, max(oldest, 0).Seconds())
		}
	}
	if f := c.m.dns.Load(); f != nil {
		if s, ok := callDNS(*f); ok {
			ch <- prometheus.MustNewConstMetric(descDNSQueries, prometheus.CounterValue, float64(s.Queries))
			ch <- prometheus.MustNewConstMetric(descDNSHits, prometheus.CounterValue, float64(s.CacheHits))
			ch <- prometheus.MustNewConstMetric(descDNSMisses, prometheus.CounterValue, float64(s.CacheMisses))
			ch <- prometheus.MustNewConstMetric(descDNSCollapsed, prometheus.CounterValue, float64(s.Collapsed))
			ch <- prometheus.MustNewConstMetric(descDNSEntries, prometheus.GaugeValue, float64(s.CacheEntries))
		}
	}
}

// The registry runs Collect on a goroutine of its own, where a panic
// would take the whole MTA down; a panicking callback costs its series
// in that scrape instead.

func callQueue(f func() (int, time.Duration)) (n int, oldest time.Duration, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	n, oldest = f()
	return n, oldest, true
}

func callDNS(f func() resolver.Stats) (s resolver.Stats, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return f(), true
}
