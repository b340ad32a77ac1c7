package metrics

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mailpolicy/mailpolicy/resolver"
)

// Metrics holds the MTA's series and the registry they are exposed from.
// A nil *Metrics is valid and records nothing, so code that runs with
// metrics off needs no checks. All methods are safe for concurrent use.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	connections *prometheus.CounterVec
	sessions    *prometheus.GaugeVec
	refused     *prometheus.CounterVec
	messages    *prometheus.CounterVec
	engines     *prometheus.CounterVec
	deliveries  *prometheus.CounterVec
	auth        *prometheus.CounterVec
	bytes       prometheus.Counter

	listener      *label
	refusedReason *label
	msgOutcome    *label
	msgReason     *label
	engine        *label
	engineResult  *label
	transport     *label
	delivOutcome  *label
	authMech      *label
	authResult    *label

	queue atomic.Pointer[func() (int, time.Duration)]
	dns   atomic.Pointer[func() resolver.Stats]
}

// Caps on distinct values for the labels without an allow-list; doc.go
// lists them for operators, who see "other" once one is reached.
const (
	capListener  = 16
	capReason    = 50
	capEngine    = 16
	capResult    = 16
	capTransport = 8
)

// saslMechanisms is the allow-list for AUTH: the mechanism name is what
// the client typed, so a cap alone would let one client fill it with junk
// before a real mechanism was ever seen.
var saslMechanisms = []string{
	"plain", "login", "cram-md5", "digest-md5", "scram-sha-1", "scram-sha-1-plus",
	"scram-sha-256", "scram-sha-256-plus", "xoauth2", "oauthbearer", "external",
	"anonymous", "gssapi", "ntlm",
}

// New returns Metrics with a registry of its own (never the process-wide
// default, so two instances in one test binary do not collide), holding
// the MTA's series plus the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg:           prometheus.NewRegistry(),
		listener:      capped(capListener),
		refusedReason: capped(capReason),
		msgOutcome:    allowList("accepted", "refused", "deferred"),
		msgReason:     capped(capReason),
		engine:        capped(capEngine),
		engineResult:  capped(capResult),
		transport:     capped(capTransport),
		delivOutcome:  allowList("delivered", "deferred", "failed", "bounced"),
		authMech:      allowList(saslMechanisms...),
		authResult:    capped(capResult),
	}
	m.connections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mta_connections_total",
		Help: "SMTP connections accepted, by listener.",
	}, []string{"listener"})
	m.sessions = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "mta_sessions_active",
		Help: "SMTP sessions open now, by listener.",
	}, []string{"listener"})
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mta_connections_refused_total",
		Help: "SMTP connections refused before or at the greeting, by reason.",
	}, []string{"reason"})
	m.messages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mta_messages_total",
		Help: "Messages (or recipients refused before DATA) by outcome and reason.",
	}, []string{"outcome", "reason"})
	m.engines = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mta_engine_results_total",
		Help: "Results of the policy engines (spf, dkim, dmarc, ...), by engine and result.",
	}, []string{"engine", "result"})
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mta_deliveries_total",
		Help: "Delivery attempts by transport and outcome.",
	}, []string{"transport", "outcome"})
	m.auth = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mta_auth_attempts_total",
		Help: "SMTP AUTH attempts by mechanism and result.",
	}, []string{"mechanism", "result"})
	m.bytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "mta_received_bytes_total",
		Help: "Message bytes received in DATA or BDAT.",
	})
	m.reg.MustRegister(
		m.connections, m.sessions, m.refused, m.messages, m.engines,
		m.deliveries, m.auth, m.bytes,
		callbackCollector{m},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		// A broken collector should cost its own series, not the scrape.
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             handlerTimeout,
	})
	return m
}

// Register adds a collector of the caller's to the same registry, for
// series this package does not know about. On a nil *Metrics it does
// nothing and returns nil.
func (m *Metrics) Register(c prometheus.Collector) error {
	if m == nil {
		return nil
	}
	return m.reg.Register(c)
}

// Gatherer is the registry, for tests and for embedding in another
// exposition. It is nil on a nil *Metrics.
func (m *Metrics) Gatherer() prometheus.Gatherer {
	if m == nil {
		return nil
	}
	return m.reg
}
