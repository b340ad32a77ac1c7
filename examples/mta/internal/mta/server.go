package mta

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mailpolicy/mailpolicy/bmi"
	"github.com/mailpolicy/mailpolicy/dcc"
	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/auth"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/checks"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/maildir"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/metrics"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/queue"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/remote"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/retry"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/signing"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/smtpd"
	"github.com/mailpolicy/mailpolicy/hostlist"
	"github.com/mailpolicy/mailpolicy/mtasts"
	"github.com/mailpolicy/mailpolicy/ocsp"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/smtp"
	"github.com/mailpolicy/mailpolicy/srs"
	"github.com/mailpolicy/mailpolicy/tlsrpt"
)

// DefaultDNSCache is the number of DNS answers a Server caches when its
// Config has no Resolver.
const DefaultDNSCache = 10000

// Config is everything a Server needs. Zero values get defaults (the
// smtpd package's for the session limits).
type Config struct {
	Hostname string   // primary host name: banner, Received, authserv-id
	Domains  []string // local domains; everything else is relay
	// Users, when not empty, are the local parts (lower case) that
	// exist in every local domain; others get 550 5.1.1. Empty: any
	// local part is accepted. "postmaster" always exists.
	Users   []string
	Maildir string // root of the Maildir++ delivery directory

	// Resolver answers every DNS query (SPF, DKIM, DMARC, MX, DANE):
	// one per process, so its cache serves all sessions. nil: one on
	// /etc/resolv.conf with a cache of DefaultDNSCache entries.
	Resolver *resolver.Resolver
	// SPFLocalhostPass is libspf2's rule that loopback clients pass.
	SPFLocalhostPass bool

	// PROXY protocol (Exim's hosts_proxy).
	ProxyRequired, ProxyOptional *hostlist.List
	ProxyTimeout                 time.Duration

	Scanner     bmi.Scanner // nil: no bmi scanning
	ScanDeferOK bool
	OptIn       map[string]string // lower-cased recipient → bmi_optin list

	DCC        *dcc.Client // nil: no DCC
	DCCDeferOK bool

	DMARCEnforce bool
	// DMARCMode selects RFC 7489 (the zero value) or RFC 9989 policy
	// discovery and Authentication-Results words.
	DMARCMode dmarc.Mode
	History   HistoryAppender // nil: no history (ratelimit.go)
	// RateLimits are the ratelimit checks at connect, MAIL and RCPT
	// (ratelimit.go); nil: none.
	RateLimits *RateLimits

	Bus     *events.Bus      // nil: no events
	Metrics *metrics.Metrics // nil: none

	// Session limits: smtpd.Config's fields of the same names.
	MaxSize            int64
	MaxRecipients      int
	MaxErrors          int
	ReadTimeout        time.Duration
	MaxSessions        int
	MaxSessionsPerHost int
	DataTimeout        time.Duration
	MaxDataMemory      int64
	MaxHeaderSize      int
	PolicyTimeout      time.Duration

	Logger *slog.Logger // nil: slog.Default()

	// Outbound.

	// RelayFrom are the clients (Exim host list, matched on the IP
	// address) that may send to non-local domains; nil: none (550 5.7.1).
	RelayFrom *hostlist.List
	// Spool is the queue directory. Empty: no outbound delivery at all
	// (relaying and forwarding are then refused).
	Spool string
	// SMTPPort is the port of remote hosts (0: 25).
	SMTPPort int
	// SMTPTimeout bounds connecting and each outbound command (0: 5m).
	SMTPTimeout time.Duration
	// RetryInterval is the first retry delay, doubled per attempt up
	// to an hour (0: 15m); after RetryMaxAge (0: 4 days) deferred
	// recipients fail. DelayWarning (0: off) sends one delay DSN.
	RetryInterval, RetryMaxAge, DelayWarning time.Duration
	// DANE: hosts_try_dane (nil: Exim's default "*") and
	// hosts_require_dane (nil: none).
	DANETry, DANERequire *hostlist.List
	// OCSP is hosts_request_ocsp / hosts_require_ocsp; nil: no checks.
	OCSP *ocsp.Client
	// TLSConfig is the base of the outbound TLS configuration.
	TLSConfig *tls.Config
	// MTASTS is the outbound MTA-STS policy cache (nil: no MTA-STS);
	// TLSReports records every outbound session's TLS outcome for the
	// TLS reports (nil: none). Both are remote.Courier's.
	MTASTS     *mtasts.Cache
	TLSReports *tlsrpt.Recorder
	// DKIMSign signs outbound and relayed mail (bounces too) by its
	// From domain, at each delivery attempt; nil: no signing.
	DKIMSign *signing.Signers
	// MaxDeliveries bounds the deliveries running at once (0: 100,
	// Postfix's default_process_limit), MaxDeliveriesPerDestination
	// those to one domain (0: 20, default_destination_concurrency_limit).
	MaxDeliveries, MaxDeliveriesPerDestination int
	// ConnectionMaxMessages bounds the messages sent on one outbound
	// connection (0: 500, Exim's connection_max_messages), and
	// ConnectionIdleTimeout how long a kept connection waits for the
	// next message (0: 2s, Postfix's smtp_connection_cache_time_limit).
	ConnectionMaxMessages int
	ConnectionIdleTimeout time.Duration

	// Inbound TLS and AUTH: smtpd.Config's fields (InboundTLS is its
	// TLSConfig).
	InboundTLS            *tls.Config
	TLSAdvertise          *hostlist.List
	AuthUsers             *auth.Users
	AuthPlaintextLoopback bool
	AuthLimiter           *auth.Limiter
	// Forwards maps a local address (lower case) to the remote address
	// it is forwarded to; the envelope sender is rewritten with SRS.
	Forwards map[string]string
	// SRS rewrites senders of forwarded mail; SRSDomain is its domain,
	// where SRS0/SRS1 recipients are reversed.
	SRS       *srs.Rewriter
	SRSDomain string

	// ReportInbox is a local address (report_inbox) whose mail is, once
	// in the Maildir, also handed to ReceiveReport (the reports
	// package's Receiver, which parses and stores it). "": none.
	ReportInbox   string
	ReceiveReport func(ctx context.Context, msg io.Reader)
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.SMTPPort <= 0 {
		c.SMTPPort = remote.DefaultSMTPPort
	}
	if c.SMTPTimeout <= 0 {
		c.SMTPTimeout = remote.DefaultSMTPTimeout
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = queue.DefaultRetryInterval
	}
	if c.RetryMaxAge <= 0 {
		c.RetryMaxAge = queue.DefaultRetryMaxAge
	}
	if c.PolicyTimeout <= 0 {
		c.PolicyTimeout = smtpd.DefaultPolicyTimeout
	}
	c.SRSDomain = strings.ToLower(strings.TrimSuffix(c.SRSDomain, "."))
	domains := make([]string, len(c.Domains))
	for i, d := range c.Domains {
		domains[i] = strings.ToLower(strings.TrimSuffix(d, "."))
	}
	c.Domains = domains
}

// Server is the assembled MTA.
type Server struct {
	cfg     Config
	smtp    *smtpd.Server
	maildir *maildir.Maildir
	spool   *queue.Spool  // nil without a spool
	runner  *queue.Runner // nil without a spool
	bouncer *queue.Bouncer
	router  *checks.Router
	checks  *checks.Checks
	started time.Time
	shared  *sharedMetrics // ratelimit.go

	runnerOnce sync.Once
}

// New checks cfg and prepares the Maildir and the spool. What a crash
// left in them is cleaned when serving starts, not here: the queue
// commands build a Server beside a running one.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if cfg.Resolver == nil {
		r, err := resolver.New(resolver.WithCache(DefaultDNSCache))
		if err != nil {
			return nil, err
		}
		cfg.Resolver = r
	}
	if len(cfg.Domains) == 0 {
		return nil, errors.New("no local domains")
	}
	for _, d := range cfg.Domains {
		if !smtp.ValidDomain(d) {
			return nil, fmt.Errorf("local domain %q is not a valid domain", d)
		}
	}
	if cfg.Spool == "" && len(cfg.Forwards) > 0 {
		return nil, errors.New("forwarding needs a spool directory")
	}
	if cfg.SRS == nil && len(cfg.Forwards) > 0 {
		return nil, errors.New("forwarding needs SRS (a secret and a domain)")
	}
	for from, to := range cfg.Forwards {
		if !smtp.ValidMailbox(from) || !smtp.ValidMailbox(to) {
			return nil, fmt.Errorf("forward %s=%s: not two addresses", from, to)
		}
	}
	s := &Server{cfg: cfg, started: time.Now()}
	if err := s.initShared(); err != nil {
		return nil, err
	}
	md, err := maildir.Open(cfg.Maildir, cfg.Hostname)
	if err != nil {
		return nil, err
	}
	s.maildir = md
	s.router = &checks.Router{Domains: cfg.Domains, Users: cfg.Users, Forwards: cfg.Forwards,
		SRS: cfg.SRS, SRSDomain: cfg.SRSDomain, RelayFrom: cfg.RelayFrom, Outbound: cfg.Spool != "", Logger: cfg.Logger}
	s.checks = &checks.Checks{Resolver: cfg.Resolver, Hostname: cfg.Hostname, SPFLocalhostPass: cfg.SPFLocalhostPass,
		DMARCEnforce: cfg.DMARCEnforce, DMARCMode: cfg.DMARCMode, DCC: cfg.DCC, DCCDeferOK: cfg.DCCDeferOK,
		Scanner: cfg.Scanner, ScanDeferOK: cfg.ScanDeferOK, Logger: cfg.Logger}
	if cfg.Spool != "" {
		if s.spool, err = queue.OpenSpool(cfg.Spool); err != nil {
			return nil, err
		}
		s.runner = &queue.Runner{
			Spool: s.spool, Bus: cfg.Bus, Logger: cfg.Logger, Metrics: cfg.Metrics,
			RetryInterval: cfg.RetryInterval, RetryMaxAge: cfg.RetryMaxAge, DelayWarning: cfg.DelayWarning,
			MaxDeliveries: cfg.MaxDeliveries, MaxPerDestination: cfg.MaxDeliveriesPerDestination,
			Courier: &remote.Courier{Resolver: cfg.Resolver, Hostname: cfg.Hostname, SMTPPort: cfg.SMTPPort,
				SMTPTimeout: cfg.SMTPTimeout, DANETry: cfg.DANETry, DANERequire: cfg.DANERequire,
				OCSP: cfg.OCSP, TLSConfig: cfg.TLSConfig, Bus: cfg.Bus, Logger: cfg.Logger, Signers: cfg.DKIMSign,
				ConnectionMaxMessages: cfg.ConnectionMaxMessages, ConnectionIdleTimeout: cfg.ConnectionIdleTimeout,
				Retry: openRetry(cfg), MTASTS: cfg.MTASTS, TLSReports: cfg.TLSReports},
		}
	}
	// Without a spool the Bouncer still delivers notifications to
	// local senders (Route refuses the others: nothing is relayed).
	s.bouncer = &queue.Bouncer{Hostname: cfg.Hostname, RetryMaxAge: cfg.RetryMaxAge,
		Route: s.router.RouteBounce, Maildir: md, Spool: s.spool, Logger: cfg.Logger}
	if s.runner != nil {
		s.bouncer.Wake = s.runner.Wake
		s.runner.Bouncer = s.bouncer
	}
	// Received messages go to files beside the copies made from them.
	tempDir := filepath.Join(cfg.Maildir, "tmp")
	if s.spool != nil {
		tempDir = s.spool.TempDir()
	}
	s.smtp, err = smtpd.New(smtpd.Config{
		TempDir:  tempDir,
		Hostname: cfg.Hostname, Backend: s, Postmaster: "postmaster@" + cfg.Domains[0],
		ProxyRequired: cfg.ProxyRequired, ProxyOptional: cfg.ProxyOptional, ProxyTimeout: cfg.ProxyTimeout,
		Bus: cfg.Bus, MaxSize: cfg.MaxSize, MaxRecipients: cfg.MaxRecipients, MaxErrors: cfg.MaxErrors,
		ReadTimeout: cfg.ReadTimeout, MaxSessions: cfg.MaxSessions, MaxSessionsPerHost: cfg.MaxSessionsPerHost,
		DataTimeout: cfg.DataTimeout, MaxDataMemory: cfg.MaxDataMemory, MaxHeaderSize: cfg.MaxHeaderSize, PolicyTimeout: cfg.PolicyTimeout,
		Logger:    cfg.Logger,
		TLSConfig: cfg.InboundTLS, TLSAdvertise: cfg.TLSAdvertise,
		Metrics: cfg.Metrics,
		Users:   cfg.AuthUsers, AuthPlaintextLoopback: cfg.AuthPlaintextLoopback, AuthLimiter: cfg.AuthLimiter,
	})
	if err != nil {
		return nil, err
	}
	cfg.Metrics.SetDNSFunc(cfg.Resolver.Stats)
	if s.spool != nil {
		cfg.Metrics.SetQueueFunc(s.spool.Stats)
	}
	return s, nil
}

// clean removes what a crash left behind (files older than this start).
func (s *Server) clean() {
	log := s.cfg.Logger
	if removed, err := s.maildir.Clean(s.started); err != nil {
		log.Warn("maildir clean", "err", err)
	} else if len(removed) > 0 {
		log.Info("maildir: removed leftovers of a crash", "files", len(removed))
	}
	if s.spool == nil {
		return
	}
	if removed, err := s.spool.Clean(s.started); err != nil {
		log.Warn("spool clean", "err", err)
	} else if len(removed) > 0 {
		log.Info("spool: removed leftovers of a crash", "files", removed)
	}
}

// SMTP is the SMTP server (its effective Config, its data budget).
func (s *Server) SMTP() *smtpd.Server { return s.smtp }

// Config returns the configuration with its defaults.
func (s *Server) Config() Config { return s.cfg }

// Serve starts the queue runner (once) and serves ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.startRunner()
	return s.smtp.Serve(ln)
}

// startRunner cleans the leftovers of a crash and starts the queue
// runner, once, before the first listener accepts anything (so none of
// this process's files are in flight).
func (s *Server) startRunner() {
	s.runnerOnce.Do(func() {
		s.clean()
		if s.runner == nil {
			return
		}
		if err := s.runner.Start(); err != nil {
			s.cfg.Logger.Error("queue runner", "err", err)
		}
	})
}

// Queue is the spool's runner (nil without a spool), for the queue
// commands: they deliver, bounce and remove under each message's lock,
// safe beside a running server.
func (s *Server) Queue() *queue.Runner { return s.runner }

// ServeTLS is Serve for an implicit-TLS listener (submissions).
func (s *Server) ServeTLS(ln net.Listener) error {
	s.startRunner()
	return s.smtp.ServeTLS(ln)
}

// Shutdown stops the SMTP server (smtpd.Server.Shutdown), then the
// queue runner.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.smtp.Shutdown(ctx)
	if s.runner != nil {
		s.runner.Stop()
	}
	return err
}

// Addr is the listening address, or nil before Serve.
func (s *Server) Addr() net.Addr { return s.smtp.Addr() }

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = smtpd.ErrServerClosed

// MemoryLimit is the Go runtime's soft memory limit main sets unless
// GOMEMLIMIT is given. Message data may take dataMemory; without a
// limit the collector lets the heap grow to twice what is live, so
// buffers already given back would keep the process at about twice the
// budget. A quarter on top and 64 MiB leave room for everything else
// (1000 idle sessions take about 25 MiB).
func MemoryLimit(dataMemory int64) int64 { return dataMemory + dataMemory/4 + 64<<20 }

// openRetry opens the host retry database in the spool (db/retry, as
// Exim's); one that cannot be read is logged and delivery goes on
// without it.
func openRetry(cfg Config) *retry.DB {
	db, err := retry.Open(filepath.Join(cfg.Spool, "db", "retry"), retry.Options{Interval: cfg.RetryInterval, Logger: cfg.Logger})
	if err != nil {
		cfg.Logger.Warn("host retry database not used", "err", err)
		return nil
	}
	return db
}
