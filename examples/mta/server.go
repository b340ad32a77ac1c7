package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailpolicy/mailpolicy/bmi"
	"github.com/mailpolicy/mailpolicy/dcc"
	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/hostlist"
	"github.com/mailpolicy/mailpolicy/ocsp"
	"github.com/mailpolicy/mailpolicy/proxyproto"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/smtp"
	"github.com/mailpolicy/mailpolicy/srs"
)

// DefaultDNSCache is the number of DNS answers a Server caches when its
// Config has no Resolver.
const DefaultDNSCache = 10000

// Config is everything a Server needs; main fills it from the flags,
// tests directly.
type Config struct {
	Hostname string   // primary host name: banner, Received, authserv-id
	Domains  []string // local domains (lower case); everything else is relay
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
	// Exim's default is true; off (the zero value) fails closed when a
	// PROXY list misses the balancer and every client looks local.
	SPFLocalhostPass bool

	// PROXY protocol (Exim's hosts_proxy): nil lists mean no PROXY
	// processing at all.
	ProxyRequired, ProxyOptional *hostlist.List
	ProxyTimeout                 time.Duration

	Scanner bmi.Scanner // nil: no bmi scanning
	// ScanDeferOK delivers a message the Scanner failed on as unscanned
	// (Exim's defer_ok); false: 451, so scanner trouble never lets mail
	// through unjudged.
	ScanDeferOK bool
	OptIn       map[string]string // lower-cased recipient → bmi_optin list

	DCC        *dcc.Client // nil: no DCC
	DCCDeferOK bool

	DMARCEnforce bool
	History      *dmarc.History // nil: no history file

	Bus *events.Bus // nil: no events

	MaxSize       int64         // message size limit in bytes
	MaxRecipients int           // per message
	MaxErrors     int           // syntax/protocol errors before 421
	ReadTimeout   time.Duration // per command line and per data line

	// Limits on what clients together can hold (doc.go, "Session
	// limits"). For the first three 0 means the default and a negative
	// value no limit.
	//
	// MaxSessions is Exim's smtp_accept_max: connections past it get
	// 421 at once (default 100; Exim's is 20).
	MaxSessions int
	// MaxSessionsPerHost is smtp_accept_max_per_host, counted on the
	// client address after PROXY when proxied (default 20; unset in
	// Exim).
	MaxSessionsPerHost int
	// DataTimeout bounds one whole DATA transfer, however often lines
	// arrive within ReadTimeout: 421 when it passes (default 15m; Exim
	// has only the per-line smtp_receive_timeout).
	DataTimeout time.Duration
	// MaxDataMemory bounds the memory all sessions together hold for
	// message data (default 256 MiB, or 4 × MaxSize when that is
	// larger; at least 2 × (MaxSize + 8 KiB), as a growing buffer
	// briefly exists twice). Past it a message is read to its end,
	// dropped and answered 452 4.3.1.
	MaxDataMemory int64
	// PolicyTimeout bounds the checks of one message at DATA (DNS,
	// dccifd, spamd); 0 means one minute.
	PolicyTimeout time.Duration

	Logger *slog.Logger // nil: slog.Default()

	// Outbound (queue.go, deliver_remote.go, dsn.go, forward.go).

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
	// TLSConfig is the base of the outbound TLS configuration (nil:
	// defaults). Certificates are never PKIX-verified: opportunistic
	// TLS, or DANE.
	TLSConfig *tls.Config
	// Forwards maps a local address (lower case) to the remote address
	// it is forwarded to; the envelope sender is rewritten with SRS.
	Forwards map[string]string
	// SRS rewrites senders of forwarded mail; SRSDomain is its domain,
	// where SRS0/SRS1 recipients are reversed.
	SRS       *srs.Rewriter
	SRSDomain string
}

// Defaults for the zero values of Config.
const (
	defaultMaxSize       = 10 << 20
	defaultMaxRecipients = 100
	defaultMaxErrors     = 10
	defaultReadTimeout   = 5 * time.Minute // RFC 5321 §4.5.3.2.7
	defaultPolicyTimeout = time.Minute

	defaultMaxSessions        = 100
	defaultMaxSessionsPerHost = 20
	defaultDataTimeout        = 15 * time.Minute
	defaultMaxDataMemory      = 256 << 20
)

func (c *Config) setDefaults() {
	if c.MaxSize <= 0 {
		c.MaxSize = defaultMaxSize
	}
	if c.MaxRecipients <= 0 {
		c.MaxRecipients = defaultMaxRecipients
	}
	if c.MaxErrors <= 0 {
		c.MaxErrors = defaultMaxErrors
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = defaultReadTimeout
	}
	if c.PolicyTimeout <= 0 {
		c.PolicyTimeout = defaultPolicyTimeout
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = defaultMaxSessions
	}
	if c.MaxSessionsPerHost == 0 {
		c.MaxSessionsPerHost = defaultMaxSessionsPerHost
	}
	if c.DataTimeout == 0 {
		c.DataTimeout = defaultDataTimeout
	}
	if c.MaxDataMemory == 0 {
		c.MaxDataMemory = max(defaultMaxDataMemory, 4*c.MaxSize)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.SMTPPort <= 0 {
		c.SMTPPort = 25
	}
	if c.SMTPTimeout <= 0 {
		c.SMTPTimeout = 5 * time.Minute
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = 15 * time.Minute
	}
	if c.RetryMaxAge <= 0 {
		c.RetryMaxAge = 4 * 24 * time.Hour
	}
	c.SRSDomain = strings.ToLower(strings.TrimSuffix(c.SRSDomain, "."))
	for i, d := range c.Domains {
		c.Domains[i] = strings.ToLower(strings.TrimSuffix(d, "."))
	}
}

// Server is the SMTP receiver. Serve runs it on a listener; Shutdown
// stops it.
type Server struct {
	cfg     Config
	maildir *maildir
	queue   *queue // nil without a spool

	// ctx is cancelled when Shutdown gives up waiting: it aborts the
	// policy checks of the sessions still running.
	ctx    context.Context
	cancel context.CancelFunc

	budget *memBudget // Config.MaxDataMemory

	mu       sync.Mutex
	ln       net.Listener
	sessions map[*session]struct{}
	perHost  map[netip.Addr]int // sessions per client address
	closing  atomic.Bool
	wg       sync.WaitGroup

	seq atomic.Uint64 // message and session numbers

	runnerStarted bool // guarded by mu
}

// NewServer checks cfg and prepares the maildir.
func NewServer(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if cfg.Resolver == nil {
		r, err := resolver.New(resolver.WithCache(DefaultDNSCache))
		if err != nil {
			return nil, err
		}
		cfg.Resolver = r
	}
	if cfg.Hostname == "" || !smtp.ValidDomain(cfg.Hostname) {
		return nil, fmt.Errorf("hostname %q is not a valid host name", cfg.Hostname)
	}
	if len(cfg.Domains) == 0 {
		return nil, errors.New("no local domains")
	}
	for _, d := range cfg.Domains {
		if !smtp.ValidDomain(d) {
			return nil, fmt.Errorf("local domain %q is not a valid domain", d)
		}
	}
	// A buffer being grown exists twice for a moment: a message of
	// MaxSize needs twice its buffer.
	if need := 2 * (cfg.MaxSize + msgHeadroom); cfg.MaxDataMemory < need {
		return nil, fmt.Errorf("data memory limit %d is below twice the message size limit and headroom (%d)", cfg.MaxDataMemory, need)
	}
	md, err := openMaildir(cfg.Maildir, cfg.Hostname)
	if err != nil {
		return nil, err
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
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, maildir: md, ctx: ctx, cancel: cancel, budget: newMemBudget(cfg.MaxDataMemory),
		sessions: map[*session]struct{}{}, perHost: map[netip.Addr]int{}}
	if cfg.Spool != "" {
		q, err := openQueue(s, cfg.Spool)
		if err != nil {
			cancel()
			return nil, err
		}
		s.queue = q
	}
	return s, nil
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("mta: server closed")

// Serve accepts connections on ln until Shutdown, each served by a
// session goroutine. With PROXY host lists configured, ln is wrapped in
// a proxyproto.Listener, which reads the header in the session's
// goroutine.
func (s *Server) Serve(ln net.Listener) error {
	if s.cfg.ProxyRequired != nil || s.cfg.ProxyOptional != nil {
		pl, err := proxyproto.NewListener(ln, proxyproto.Config{
			Required: s.cfg.ProxyRequired,
			Optional: s.cfg.ProxyOptional,
			Timeout:  s.cfg.ProxyTimeout,
		})
		if err != nil {
			ln.Close()
			return fmt.Errorf("mta: %w", err)
		}
		ln = pl
	}
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.ln = ln
	if s.queue != nil && !s.runnerStarted {
		s.runnerStarted = true
		s.queue.start()
	}
	s.mu.Unlock()
	s.cfg.Logger.Info("listening", "addr", ln.Addr().String(), "hostname", s.cfg.Hostname)
	var delay time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscallEMFILE) {
				// Temporary trouble (out of descriptors): back off.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		s.mu.Lock()
		if s.closing.Load() {
			s.mu.Unlock()
			conn.Close()
			return ErrServerClosed
		}
		if limit := s.cfg.MaxSessions; limit > 0 && len(s.sessions) >= limit {
			s.mu.Unlock()
			s.refuse(conn, "Too many concurrent SMTP connections; please try again later")
			continue
		}
		sess := newSession(s, conn)
		s.sessions[sess] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.sessions, sess)
				s.mu.Unlock()
			}()
			sess.serve()
		}()
	}
}

// refuse tells a connection over a limit 421 and closes it. The write
// goes to a fresh socket with an empty send buffer, so it does not
// block the accept loop; the deadline is for the impossible case.
func (s *Server) refuse(conn net.Conn, why string) {
	nc := conn
	if pc, ok := conn.(*proxyproto.Conn); ok {
		nc = pc.NetConn()
	}
	s.cfg.Logger.Info("connection refused", "peer", nc.RemoteAddr().String(), "reason", why)
	nc.SetWriteDeadline(time.Now().Add(time.Second))
	fmt.Fprintf(nc, "421 4.3.2 %s %s\r\n", s.cfg.Hostname, why)
	nc.Close()
}

// enterHost counts a session of client a against MaxSessionsPerHost;
// false when it is one too many. Each true needs a leaveHost.
func (s *Server) enterHost(a netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if limit := s.cfg.MaxSessionsPerHost; limit > 0 && s.perHost[a] >= limit {
		return false
	}
	s.perHost[a]++
	return true
}

func (s *Server) leaveHost(a netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perHost[a]--; s.perHost[a] <= 0 {
		delete(s.perHost, a)
	}
}

// Shutdown stops accepting connections, tells idle sessions "421" at
// once and lets sessions inside a transaction finish it. When ctx ends
// first, the remaining connections are closed and their checks
// cancelled. It waits for every session goroutine in any case.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing.Store(true)
	if s.ln != nil {
		s.ln.Close()
	}
	for sess := range s.sessions {
		sess.interruptIfIdle()
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		s.cancel()
		s.mu.Lock()
		for sess := range s.sessions {
			sess.conn.Close()
		}
		s.mu.Unlock()
		<-done
	}
	s.cancel()
	if s.queue != nil {
		s.queue.stopRunner()
	}
	return err
}

// Addr returns the listening address, or nil before Serve.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// raise sends an event to the bus, if there is one.
func (s *Server) raise(ctx context.Context, ev events.Event) {
	if s.cfg.Bus == nil {
		return
	}
	ev.Inbound = true
	s.cfg.Bus.Raise(ctx, &ev)
}

// isLocalDomain reports whether d (lower case) is one of ours.
func (s *Server) isLocalDomain(d string) bool {
	for _, x := range s.cfg.Domains {
		if x == d {
			return true
		}
	}
	return false
}

// userExists applies Config.Users to a local part.
func (s *Server) userExists(local string) bool {
	local = strings.ToLower(local)
	if len(s.cfg.Users) == 0 || local == "postmaster" {
		return true
	}
	for _, u := range s.cfg.Users {
		if u == local {
			return true
		}
	}
	return false
}
