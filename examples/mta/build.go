package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/mailpolicy/mailpolicy/bmi"
	"github.com/mailpolicy/mailpolicy/dcc"
	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/auth"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/config"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/metrics"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/mta"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/ratelimit"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/redisstore"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/reports"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/signing"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/tlsconf"
	"github.com/mailpolicy/mailpolicy/mtasts"
	"github.com/mailpolicy/mailpolicy/ocsp"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/srs"
	"github.com/redis/go-redis/v9"
)

// app is the MTA built from the settings, with what must be started
// beside it and closed after it.
type app struct {
	srv     *mta.Server
	tls     *tlsconf.Server    // nil without tls_certificate
	metrics *metrics.Metrics   // nil without metrics_listen
	webhook *events.Webhook    // nil without event_webhook
	reports *reports.Scheduler // nil without dmarc_report_interval and tlsrpt
	mtasts  *mtasts.Cache      // nil without mta_sts; serve refreshes it
	closers []func()
	log     *slog.Logger
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// build turns validated settings into the server's parts. Errors are
// the ones only opening things can find (a key file that does not
// parse, a history file that cannot be opened); they name their key.
func build(s config.Settings, stderr io.Writer) (_ *app, err error) {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: s.LogLevel}))
	a := &app{log: log}
	defer func() {
		if err != nil {
			a.close() // what was opened before the error
		}
	}()
	opts := []resolver.Option{resolver.WithTimeout(s.Timeout), resolver.WithCache(mta.DefaultDNSCache)}
	if s.Nameserver != "" {
		opts = append(opts, resolver.WithNameservers(s.Nameserver))
	}
	dns, err := resolver.New(opts...)
	if err != nil {
		return nil, s.Blame("nameserver", err)
	}
	c := mta.Config{
		Hostname: s.Hostname, Domains: s.Domains, Users: s.Users, Maildir: s.Maildir,
		Resolver: dns, SPFLocalhostPass: s.SPFLocalhostPass, ProxyTimeout: s.ProxyTimeout,
		ScanDeferOK: s.SpamdDeferOK, OptIn: s.OptIns(), DCCDeferOK: s.DCCDeferOK, DMARCEnforce: s.DMARCEnforce,
		MaxSize: s.MaxSize, MaxRecipients: s.MaxRecipients, MaxErrors: s.MaxErrors, ReadTimeout: s.ReadTimeout,
		MaxSessions: s.MaxSessions, MaxSessionsPerHost: s.MaxSessionsPerHost, DataTimeout: s.DataTimeout,
		MaxDataMemory: s.MaxDataMemory, MaxHeaderSize: s.MaxHeaderSize, Logger: log,
		Spool: s.Spool, SMTPPort: s.SMTPPort, SMTPTimeout: s.SMTPTimeout,
		RetryInterval: s.RetryInterval, RetryMaxAge: s.RetryMaxAge, DelayWarning: s.DelayWarning,
		MaxDeliveries: s.MaxDeliveries, MaxDeliveriesPerDestination: s.MaxDeliveriesPerDestination,
		ConnectionMaxMessages: s.ConnectionMaxMessages, ConnectionIdleTimeout: s.ConnectionIdleTimeout,
		DANETry: s.DANETry.List(), DANERequire: s.DANERequire.List(),
		Forwards: s.Forwards(), SRSDomain: s.SRSDomain,
		AuthPlaintextLoopback: s.AuthPlaintextLoopback,
	}
	if c.DMARCMode, err = s.DMARC(); err != nil {
		return nil, s.Blame("dmarc_mode", err)
	}
	if !s.ProxyRequired.Empty() {
		c.ProxyRequired = s.ProxyRequired.List()
	}
	if !s.ProxyOptional.Empty() {
		c.ProxyOptional = s.ProxyOptional.List()
	}
	if !s.RelayFrom.Empty() {
		c.RelayFrom = s.RelayFrom.List()
	}
	if s.Spamd != "" {
		c.Scanner = &bmi.Spamd{Addr: s.Spamd, AltLocation: s.SpamdAltLocation, NoneScore: s.SpamdNoneScore}
	}
	if s.DCCifd != "" {
		addr, err := s.DCCAddress()
		if err != nil {
			return nil, s.Blame("dccifd", err)
		}
		c.DCC = &dcc.Client{Address: addr}
	}
	if !s.OCSPRequire.Empty() || !s.OCSPRequest.Empty() {
		// An unset ocsp_request leaves RequestHosts nil: Exim's "*".
		oc := &ocsp.Client{RequireHosts: s.OCSPRequire.List()}
		if !s.OCSPRequest.Empty() {
			oc.RequestHosts = s.OCSPRequest.List()
		}
		c.OCSP = oc
	}
	// What a cluster's instances share through Redis (CLUSTER.md).
	var shared *redis.Client
	if s.Redis != "" {
		redisstore.LogTo(log)
		if shared, err = redisstore.Open(s.Redis, s.RedisTimeout); err != nil {
			return nil, s.Blame("redis", err)
		}
		a.closers = append(a.closers, func() { shared.Close() })
	}
	if s.RateLimitConn != "" || s.RateLimitMail != "" || s.RateLimitRcpt != "" || s.RateLimitData != "" {
		rl := &mta.RateLimits{Limiter: &ratelimit.Limiter{Store: &ratelimit.Memory{}}}
		if shared != nil {
			rl.Limiter.Store = redisstore.NewRateLimit(shared, s.RedisPrefix)
		}
		for key, p := range map[string]**ratelimit.Rule{"ratelimit_conn": &rl.Conn, "ratelimit_mail": &rl.Mail, "ratelimit_rcpt": &rl.Rcpt, "ratelimit_data": &rl.Data} {
			if *p, err = s.RateLimitRule(key); err != nil {
				return nil, s.Blame(key, err)
			}
		}
		c.RateLimits = rl
	}
	if len(s.SRSSecret) > 0 {
		sc := srs.Config{Domain: s.SRSDomain, Secrets: s.SRSSecret}
		if s.SRSRedis != "" {
			rc, err := redisstore.Open(s.SRSRedis, s.SRSRedisTimeout)
			if err != nil {
				return nil, s.Blame("srs_redis", err)
			}
			a.closers = append(a.closers, func() { rc.Close() })
			sc.Store = redisstore.NewSRS(rc, s.SRSRedisPrefix, s.SRSRedisTimeout)
		} else if shared != nil {
			sc.Store = redisstore.NewSRS(shared, s.SRSRedisPrefix, s.RedisTimeout)
		}
		if c.SRS, err = srs.New(sc); err != nil {
			return nil, s.Blame("srs_secret", err)
		}
	}
	// The history is also what the DMARC reports are built from
	// (reports.go); the file kind is trimmed once reported.
	var history reports.HistorySource
	if s.DMARCHistory != "" {
		h, err := reports.OpenFileHistory(s.DMARCHistory)
		if err != nil {
			return nil, s.Blame("dmarc_history", err)
		}
		h.Logger = log
		a.closers = append(a.closers, func() { h.Close() })
		c.History, history = h, h
	}
	if s.DMARCHistoryRedis { // validated: shared is set
		h := redisstore.NewHistory(shared, s.RedisPrefix, s.RedisTimeout)
		c.History, history = h, h
	}
	if s.EventExec != "" || s.EventWebhook != "" {
		c.Bus = &events.Bus{Logger: log}
		if s.EventExec != "" {
			x := &events.Exec{Path: "/bin/sh", Args: []string{"-c", s.EventExec}}
			c.Bus.Subscribe(nil, x.Handler())
		}
		if s.EventWebhook != "" {
			a.webhook = &events.Webhook{URL: s.EventWebhook}
			a.webhook.Start(context.Background())
			c.Bus.Subscribe(nil, a.webhook.Handler())
			a.closers = append(a.closers, func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				a.webhook.Close(ctx)
				cancel()
			})
		}
	}
	if len(s.TLSCertificate) > 0 {
		a.tls, err = tlsconf.New(tlsconf.Config{
			Certificates: s.TLSCertificate, PrivateKeys: s.TLSPrivateKey, OCSPFiles: s.TLSOCSPFile,
			Refresh: s.TLSOCSPRefresh, MinVersion: s.MinTLSVersion(),
			Logf: func(format string, args ...any) { log.Warn(fmt.Sprintf(format, args...)) },
		})
		if err != nil {
			return nil, s.Blame("tls_certificate", err)
		}
		c.InboundTLS = a.tls.TLSConfig()
		c.TLSAdvertise = s.TLSAdvertiseHosts.List()
	}
	if s.AuthUsersFile != "" {
		if c.AuthUsers, err = auth.LoadUsers(s.AuthUsersFile); err != nil {
			return nil, s.Blame("auth_users_file", err)
		}
		c.AuthLimiter = &auth.Limiter{MaxFailures: s.AuthMaxFailures, Window: s.AuthFailureWindow}
	}
	if len(s.DKIM) > 0 {
		var ds []signing.Domain
		for _, d := range s.DKIM {
			sd := signing.Domain{Domain: d.Domain, Canon: d.Canon, Hash: d.Hash, Identity: d.Identity,
				SignHeaders: d.SignHeaders, Timestamps: d.Timestamps, Strict: d.Strict}
			for _, sel := range d.Selectors {
				sd.Selectors = append(sd.Selectors, signing.Selector{Selector: sel.Selector, PrivateKey: sel.PrivateKey})
			}
			ds = append(ds, sd)
		}
		if c.DKIMSign, err = signing.New(ds); err != nil {
			return nil, s.Blame("dkim", err)
		}
	}
	if s.MetricsListen != "" {
		a.metrics = metrics.New()
		c.Metrics = a.metrics
	}
	if s.MTASTS {
		if c.MTASTS, err = openMTASTS(s, dns, log); err != nil {
			return nil, err
		}
		a.mtasts = c.MTASTS
	}
	tlsRecorder, err := a.openReports(s, &c)
	if err != nil {
		return nil, err
	}
	if a.srv, err = mta.New(c); err != nil {
		return nil, err
	}
	a.scheduleReports(s, dns, history, tlsRecorder, shared)
	return a, nil
}

// openMTASTS is the outbound MTA-STS policy cache, its file read now: a
// damaged one is logged and left to be rewritten (the policies are
// fetched again), not a reason to stop.
func openMTASTS(s config.Settings, dns *resolver.Resolver, log *slog.Logger) (*mtasts.Cache, error) {
	file := s.MTASTSCache
	if file == "" {
		file = filepath.Join(s.Spool, "db", "mta-sts")
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			return nil, s.Blame("spool", err)
		}
	}
	c := &mtasts.Cache{Resolver: dns, File: file, Fetcher: &mtasts.Fetcher{UserAgent: "mailpolicy-mta"},
		ErrorLog: func(err error) { log.Warn("mta-sts: policy cache file", "err", err) }}
	if err := c.Load(); err != nil {
		log.Warn("mta-sts: policy cache file", "err", err)
	}
	return c, nil
}
