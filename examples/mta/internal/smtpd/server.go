package smtpd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/auth"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/metrics"
	"github.com/mailpolicy/mailpolicy/hostlist"
	"github.com/mailpolicy/mailpolicy/proxyproto"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// Config is what a Server needs. Zero values get the defaults named
// in config (internal/config.Default), except where a field says.
type Config struct {
	Hostname string  // banner, EHLO greeting, 421 texts
	Backend  Backend // decides MAIL, RCPT and the message; required
	// Postmaster is the address "RCPT TO:<postmaster>" (no domain,
	// which RFC 5321 §4.5.1 requires us to take) stands for; "":
	// refused as a syntax error.
	Postmaster string

	// PROXY protocol (Exim's hosts_proxy): nil lists mean no PROXY
	// processing at all.
	ProxyRequired, ProxyOptional *hostlist.List
	ProxyTimeout                 time.Duration

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
	// messages in flight: their header sections and write buffers, the
	// message itself being in a file (default 256 MiB; at least
	// MinDataMemory(MaxHeaderSize)). Past it a message is read to its
	// end, dropped and answered 452 4.3.1.
	MaxDataMemory int64
	// MaxHeaderSize is Exim's header_maxsize: a larger header section
	// is refused with 552 (default 1 MiB, Exim's).
	MaxHeaderSize int
	// TempDir holds the files messages are received into, unlinked at
	// once ("" is os.TempDir). Put it on the spool's file system, so
	// that copies into the spool are made in the kernel. SIZE= larger
	// than its free space is refused with 452 (RFC 1870).
	TempDir string
	// PolicyTimeout bounds the Backend's work on one command (DNS,
	// dccifd, spamd); 0 means one minute.
	PolicyTimeout time.Duration

	Logger *slog.Logger // nil: slog.Default()

	// TLSConfig enables STARTTLS (RFC 3207) and ServeTLS; nil: clear
	// text only. TLSAdvertise is Exim's tls_advertise_hosts (nil: "*",
	// Exim's default): the clients STARTTLS is offered to.
	TLSConfig    *tls.Config
	TLSAdvertise *hostlist.List

	// Users enables AUTH PLAIN and LOGIN (nil: no AUTH), offered only
	// over TLS or, with AuthPlaintextLoopback, to loopback clients in
	// clear text (auth.Permitted). AuthLimiter counts failures per
	// client (nil: auth.Limiter's defaults).
	Users                 *auth.Users
	AuthPlaintextLoopback bool
	AuthLimiter           *auth.Limiter

	Metrics *metrics.Metrics // nil: none
}

// Defaults for the zero values of Config.
const (
	DefaultMaxSize       = 10 << 20
	DefaultMaxRecipients = 100
	DefaultMaxErrors     = 10
	DefaultReadTimeout   = 5 * time.Minute // RFC 5321 §4.5.3.2.7
	DefaultPolicyTimeout = time.Minute

	DefaultMaxSessions        = 100
	DefaultMaxSessionsPerHost = 20
	DefaultDataTimeout        = 15 * time.Minute
	DefaultMaxDataMemory      = 256 << 20
	DefaultMaxHeaderSize      = 1 << 20
)

func (c *Config) setDefaults() {
	if c.MaxSize <= 0 {
		c.MaxSize = DefaultMaxSize
	}
	if c.MaxRecipients <= 0 {
		c.MaxRecipients = DefaultMaxRecipients
	}
	if c.MaxErrors <= 0 {
		c.MaxErrors = DefaultMaxErrors
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.PolicyTimeout <= 0 {
		c.PolicyTimeout = DefaultPolicyTimeout
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.MaxSessionsPerHost == 0 {
		c.MaxSessionsPerHost = DefaultMaxSessionsPerHost
	}
	if c.DataTimeout == 0 {
		c.DataTimeout = DefaultDataTimeout
	}
	if c.MaxHeaderSize <= 0 {
		c.MaxHeaderSize = DefaultMaxHeaderSize
	}
	if c.MaxDataMemory == 0 {
		c.MaxDataMemory = DefaultMaxDataMemory
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Users != nil && c.AuthLimiter == nil {
		c.AuthLimiter = &auth.Limiter{}
	}
}

// MinDataMemory is the smallest MaxDataMemory that takes one message
// with a header section of maxHeader: its write buffer, and the header
// copy twice, as a growing buffer briefly exists twice.
func MinDataMemory(maxHeader int) int64 { return dataWriteBuf + 2*int64(maxHeader) }

// Server is the SMTP receiver. Serve runs it on a listener; Shutdown
// stops it.
type Server struct {
	cfg Config

	// ctx is cancelled when Shutdown gives up waiting: it aborts the
	// policy checks of the sessions still running.
	ctx    context.Context
	cancel context.CancelFunc

	budget *memBudget // Config.MaxDataMemory

	mu       sync.Mutex
	ln       net.Listener              // the first listener, for Addr
	lns      map[net.Listener]struct{} // every listener, closed by Shutdown
	sessions map[*session]struct{}
	perHost  map[netip.Addr]int // sessions per client address
	closing  atomic.Bool
	wg       sync.WaitGroup

	seq atomic.Uint64 // session numbers

	// authSem bounds the password checks running at once: an argon2id
	// check takes 64 MiB, and failing clients must not add up to more
	// than a few of them.
	authSem chan struct{}
}

// New checks cfg and returns a Server ready to Serve.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if cfg.Backend == nil {
		return nil, errors.New("smtpd: no Backend")
	}
	if cfg.Hostname == "" || !smtp.ValidDomain(cfg.Hostname) {
		return nil, fmt.Errorf("hostname %q is not a valid host name", cfg.Hostname)
	}
	if need := MinDataMemory(cfg.MaxHeaderSize); cfg.MaxDataMemory < need {
		return nil, fmt.Errorf("data memory limit %d is below a write buffer and twice the header size limit (%d)", cfg.MaxDataMemory, need)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{cfg: cfg, ctx: ctx, cancel: cancel, budget: newMemBudget(cfg.MaxDataMemory),
		sessions: map[*session]struct{}{}, perHost: map[netip.Addr]int{}, lns: map[net.Listener]struct{}{},
		authSem: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}, nil
}

// Config returns the configuration with its defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// DataMemoryInUse is what the sessions hold for message data now.
func (s *Server) DataMemoryInUse() int64 { return s.budget.inUse() }

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("smtpd: server closed")

// Serve accepts connections on ln until Shutdown, each served by a
// session goroutine. With PROXY host lists configured, ln is wrapped in
// a proxyproto.Listener, which reads the header in the session's
// goroutine.
func (s *Server) Serve(ln net.Listener) error { return s.serve(ln, "smtp", false) }

// ServeTLS is Serve for implicit TLS (RFC 8314 submissions, port 465):
// each connection starts with the TLS handshake (after the PROXY
// header, when proxied), in the session's goroutine and within
// ReadTimeout. It needs Config.TLSConfig.
func (s *Server) ServeTLS(ln net.Listener) error {
	if s.cfg.TLSConfig == nil {
		ln.Close()
		return errors.New("smtpd: ServeTLS without a TLS configuration")
	}
	return s.serve(ln, "submissions", true)
}

func (s *Server) serve(ln net.Listener, name string, implicitTLS bool) error {
	if s.cfg.ProxyRequired != nil || s.cfg.ProxyOptional != nil {
		pl, err := proxyproto.NewListener(ln, proxyproto.Config{
			Required: s.cfg.ProxyRequired,
			Optional: s.cfg.ProxyOptional,
			Timeout:  s.cfg.ProxyTimeout,
		})
		if err != nil {
			ln.Close()
			return fmt.Errorf("smtpd: %w", err)
		}
		ln = pl
	}
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	if s.ln == nil {
		s.ln = ln
	}
	s.lns[ln] = struct{}{}
	s.mu.Unlock()
	s.cfg.Logger.Info("listening", "addr", ln.Addr().String(), "listener", name, "hostname", s.cfg.Hostname)
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
		sess.listener, sess.implicitTLS = name, implicitTLS
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
	s.cfg.Metrics.ConnectionRefused("max_sessions")
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
	for ln := range s.lns {
		ln.Close()
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
