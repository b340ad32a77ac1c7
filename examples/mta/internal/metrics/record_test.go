package metrics_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/metrics"
)

func TestEachMethodMovesItsSeries(t *testing.T) {
	m := metrics.New()
	m.ConnectionOpened("smtp")
	m.ConnectionOpened("smtp")
	m.ConnectionOpened("submission")
	m.ConnectionClosed("smtp")
	m.ConnectionRefused("too_many")
	m.Message("accepted", "")
	m.Message("refused", "rbl")
	m.Message("refused", "rbl")
	m.Message("deferred", "greylist")
	m.EngineResult("spf", "pass")
	m.EngineResult("dmarc", "fail")
	m.EngineResult("dmarc", "fail")
	m.Delivery("maildir", "delivered")
	m.Delivery("smtp", "deferred")
	m.AuthAttempt("PLAIN", "success")
	m.AuthAttempt("login", "failure")
	m.BytesReceived(1000)
	m.BytesReceived(24)

	f := scrape(t, m)
	cases := []struct {
		name string
		kv   []string
		want float64
	}{
		{"mta_connections_total", []string{"listener", "smtp"}, 2},
		{"mta_connections_total", []string{"listener", "submission"}, 1},
		{"mta_sessions_active", []string{"listener", "smtp"}, 1},
		{"mta_sessions_active", []string{"listener", "submission"}, 1},
		{"mta_connections_refused_total", []string{"reason", "too_many"}, 1},
		{"mta_messages_total", []string{"outcome", "accepted", "reason", "none"}, 1},
		{"mta_messages_total", []string{"outcome", "refused", "reason", "rbl"}, 2},
		{"mta_messages_total", []string{"outcome", "deferred", "reason", "greylist"}, 1},
		{"mta_engine_results_total", []string{"engine", "spf", "result", "pass"}, 1},
		{"mta_engine_results_total", []string{"engine", "dmarc", "result", "fail"}, 2},
		{"mta_deliveries_total", []string{"transport", "maildir", "outcome", "delivered"}, 1},
		{"mta_deliveries_total", []string{"transport", "smtp", "outcome", "deferred"}, 1},
		{"mta_auth_attempts_total", []string{"mechanism", "plain", "result", "success"}, 1},
		{"mta_auth_attempts_total", []string{"mechanism", "login", "result", "failure"}, 1},
		{"mta_received_bytes_total", nil, 1024},
	}
	for _, c := range cases {
		if got := f.mustValue(t, c.name, c.kv...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.kv, got, c.want)
		}
	}
	if n := f.count("mta_messages_total"); n != 3 {
		t.Errorf("mta_messages_total has %d series, want 3: %s", n, f.dump("mta_messages_total"))
	}
	// The standard collectors are on the registry too.
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if _, ok := f[name]; !ok {
			t.Errorf("%s missing from the exposition", name)
		}
	}
}

func TestSessionsGaugeReturnsToZero(t *testing.T) {
	m := metrics.New()
	for range 5 {
		m.ConnectionOpened("smtps")
	}
	for range 5 {
		m.ConnectionClosed("SMTPS") // the same listener after sanitizing
	}
	f := scrape(t, m)
	if got := f.mustValue(t, "mta_sessions_active", "listener", "smtps"); got != 0 {
		t.Errorf("sessions active = %v after 5 opens and 5 closes", got)
	}
	if got := f.mustValue(t, "mta_connections_total", "listener", "smtps"); got != 5 {
		t.Errorf("connections = %v, want 5", got)
	}
}

func TestOutcomesOutsideAllowListAreOther(t *testing.T) {
	m := metrics.New()
	m.Message("quarantined", "x")
	m.Delivery("smtp", "exploded")
	m.AuthAttempt("X-EVIL-MECH", "failure")
	f := scrape(t, m)
	f.mustValue(t, "mta_messages_total", "outcome", "other", "reason", "x")
	f.mustValue(t, "mta_deliveries_total", "transport", "smtp", "outcome", "other")
	f.mustValue(t, "mta_auth_attempts_total", "mechanism", "other", "result", "failure")
}

func TestBytesReceivedIgnoresNonPositive(t *testing.T) {
	m := metrics.New()
	m.BytesReceived(10)
	m.BytesReceived(-5) // would panic inside prometheus if passed on
	m.BytesReceived(0)
	if got := scrape(t, m).mustValue(t, "mta_received_bytes_total"); got != 10 {
		t.Errorf("bytes = %v, want 10", got)
	}
}

func TestNilMetricsIsANoOp(t *testing.T) {
	var m *metrics.Metrics
	m.ConnectionOpened("smtp")
	m.ConnectionClosed("smtp")
	m.ConnectionRefused("x")
	m.Message("accepted", "")
	m.EngineResult("spf", "pass")
	m.Delivery("smtp", "delivered")
	m.AuthAttempt("plain", "success")
	m.BytesReceived(1)
	m.SetQueueFunc(func() (int, time.Duration) { return 1, 0 })
	m.SetDNSFunc(nil)
	if err := m.Register(prometheus.NewCounter(prometheus.CounterOpts{Name: "x_total", Help: "x"})); err != nil {
		t.Errorf("Register on nil: %v", err)
	}
	if m.Gatherer() != nil {
		t.Error("Gatherer on nil is not nil")
	}

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Handler answered %d, want 404", rec.Code)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Serve(t.Context(), ln); !errors.Is(err, metrics.ErrNilMetrics) {
		t.Errorf("nil Serve = %v, want ErrNilMetrics", err)
	}
	if _, err := ln.Accept(); err == nil {
		t.Error("nil Serve left the listener open")
	}
}

func TestRegisterAddsToTheExposition(t *testing.T) {
	m := metrics.New()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "mta_tls_handshakes_total", Help: "test"})
	if err := m.Register(c); err != nil {
		t.Fatal(err)
	}
	c.Add(3)
	if got := scrape(t, m).mustValue(t, "mta_tls_handshakes_total"); got != 3 {
		t.Errorf("registered counter = %v, want 3", got)
	}
	if err := m.Register(c); err == nil {
		t.Error("registering the same collector twice succeeded")
	}
}

func TestSeriesPassLint(t *testing.T) {
	m := metrics.New()
	m.ConnectionOpened("smtp")
	m.ConnectionRefused("x")
	m.Message("accepted", "")
	m.EngineResult("spf", "pass")
	m.Delivery("smtp", "delivered")
	m.AuthAttempt("plain", "success")
	m.SetQueueFunc(func() (int, time.Duration) { return 0, 0 })
	m.SetDNSFunc(fixedDNS)
	problems, err := testutil.GatherAndLint(m.Gatherer())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "mta_") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}

func TestHandlerServesTextFormat(t *testing.T) {
	m := metrics.New()
	m.Message("refused", "spf_fail")
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "# TYPE mta_messages_total counter") {
		t.Errorf("exposition lacks the TYPE line:\n%s", body)
	}
}
