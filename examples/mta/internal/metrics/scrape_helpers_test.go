package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/metrics"
)

type families map[string]*dto.MetricFamily

// scrape fetches the exposition over real HTTP and parses it, as
// Prometheus would.
func scrape(t *testing.T, m *metrics.Metrics) families {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	return scrapeURL(t, srv.Client(), srv.URL+"/metrics")
}

func scrapeURL(t *testing.T, c *http.Client, url string) families {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse exposition: %v", err)
	}
	return fams
}

// value returns the value of the series of name whose labels are exactly
// kv (pairs), and whether it exists.
func (f families) value(name string, kv ...string) (float64, bool) {
	fam, ok := f[name]
	if !ok {
		return 0, false
	}
	want := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		want[kv[i]] = kv[i+1]
	}
	for _, m := range fam.Metric {
		if len(m.Label) != len(want) {
			continue
		}
		match := true
		for _, l := range m.Label {
			if want[l.GetName()] != l.GetValue() {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

func (f families) mustValue(t *testing.T, name string, kv ...string) float64 {
	t.Helper()
	v, ok := f.value(name, kv...)
	if !ok {
		t.Fatalf("no series %s%v; have %s", name, kv, f.dump(name))
	}
	return v
}

func (f families) count(name string) int {
	if fam, ok := f[name]; ok {
		return len(fam.Metric)
	}
	return 0
}

// labelValues lists the values label takes across the series of name.
func (f families) labelValues(name, label string) []string {
	seen := map[string]bool{}
	if fam, ok := f[name]; ok {
		for _, m := range fam.Metric {
			for _, l := range m.Label {
				if l.GetName() == label {
					seen[l.GetValue()] = true
				}
			}
		}
	}
	var out []string
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

func (f families) dump(name string) string {
	fam, ok := f[name]
	if !ok {
		return "(absent)"
	}
	var b strings.Builder
	for _, m := range fam.Metric {
		b.WriteString(m.String())
		b.WriteString("; ")
	}
	return b.String()
}
