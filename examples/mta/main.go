package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/mailpolicy/mailpolicy/bmi"
	"github.com/mailpolicy/mailpolicy/dcc"
	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/mta"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/smtpd"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/srsredis"
	"github.com/mailpolicy/mailpolicy/hostlist"
	"github.com/mailpolicy/mailpolicy/ocsp"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/smtp"
	"github.com/mailpolicy/mailpolicy/srs"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the server could not start or failed
	exitUsage = 2 // the command line is wrong
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// options are the parsed command line.
type options struct {
	cfg             mta.Config
	listen          string
	shutdownTimeout time.Duration
	eventExec       string
	eventWebhook    string
	historyPath     string
	srsStore        *srsredis.Store // -srs-redis; closed by run
}

// parseFlags turns the command line into options; ok false means exit
// with code (help printed, or a usage error reported).
func parseFlags(args []string, stdout, stderr io.Writer) (o *options, code int, ok bool) {
	fs := flag.NewFlagSet("mta", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	host, _ := os.Hostname()
	o = &options{}
	var (
		domains, users, nameserver  string
		dnsTimeout                  time.Duration
		proxyReq, proxyOpt, spamd   string
		dccifd, altLocation         string
		noneScore                   float64
		optins                      listFlag
		logLevel                    string
		maxSize                     int64
		relayFrom, daneReq, daneTry string
		ocspReq, ocspRequest        string
		forwards, srsSecrets        listFlag
		srsDomain                   string
		srsRedis, srsRedisPrefix    string
		srsRedisTimeout             time.Duration
	)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:2525", "`address` to listen on")
	fs.StringVar(&o.cfg.Hostname, "hostname", host, "primary host `name` (banner, Received, authserv-id)")
	fs.StringVar(&domains, "domains", "", "comma-separated local `domains` (required)")
	fs.StringVar(&users, "users", "", "comma-separated local `parts` that exist (default: any)")
	fs.StringVar(&o.cfg.Maildir, "maildir", "", "Maildir++ `directory` for delivery (required)")
	fs.StringVar(&nameserver, "nameserver", "", "DNS server `host:port` for SPF, DKIM and DMARC (default: /etc/resolv.conf)")
	fs.DurationVar(&dnsTimeout, "timeout", 2*time.Second, "DNS `timeout` bounding each whole query, retries included")
	fs.BoolVar(&o.cfg.SPFLocalhostPass, "spf-localhost-pass", false, "loopback clients pass SPF without DNS (libspf2; Exim's default is true, off here because a PROXY list that misses the balancer makes every client 127.0.0.1)")
	fs.StringVar(&proxyReq, "proxy-required", "", "Exim host `list` that must send a PROXY header (hosts_proxy)")
	fs.StringVar(&proxyOpt, "proxy-optional", "", "Exim host `list` that may send a PROXY header")
	fs.DurationVar(&o.cfg.ProxyTimeout, "proxy-timeout", 3*time.Second, "PROXY header read `timeout` (proxy_protocol_timeout)")
	fs.StringVar(&spamd, "spamd", "", "spamd `host:port`: scan every message with bmi.Spamd")
	fs.Var(&optins, "optin", "`ADDR=feature:feature` bmi opt-in (spamd profile) for a recipient; repeatable")
	fs.StringVar(&altLocation, "spamd-alt-location", "Junk", "maildir `folder` for messages spamd judges spam")
	fs.BoolVar(&o.cfg.ScanDeferOK, "spamd-defer-ok", false, "deliver unscanned when spamd fails (default: 451)")
	fs.Float64Var(&noneScore, "spamd-none-score", 0, "spamd `score` at which a message is not delivered (0: never)")
	fs.StringVar(&dccifd, "dccifd", "", "dccifd `address` (\"/socket\", \"host port\" or host:port)")
	fs.BoolVar(&o.cfg.DCCDeferOK, "dcc-defer-ok", false, "accept the message when DCC cannot decide")
	fs.BoolVar(&o.cfg.DMARCEnforce, "dmarc-enforce", false, "reject (550) p=reject failures, nofrom and malformed headers, defer (451) temperror, quarantine to .Junk")
	fs.StringVar(&o.historyPath, "dmarc-history", "", "append DMARC history to `file` (Exim's dmarc_history_file)")
	fs.StringVar(&o.eventExec, "event-exec", "", "run `command` (via /bin/sh -c) for each event, JSON on stdin")
	fs.StringVar(&o.eventWebhook, "event-webhook", "", "POST each event as JSON to `URL`")
	fs.Int64Var(&maxSize, "max-size", smtpd.DefaultMaxSize, "message size limit in `bytes`")
	fs.IntVar(&o.cfg.MaxRecipients, "max-recipients", smtpd.DefaultMaxRecipients, "recipients per message")
	fs.IntVar(&o.cfg.MaxErrors, "max-errors", smtpd.DefaultMaxErrors, "syntax/protocol errors before 421")
	fs.DurationVar(&o.cfg.ReadTimeout, "read-timeout", smtpd.DefaultReadTimeout, "`timeout` for each command and data line")
	fs.IntVar(&o.cfg.MaxSessions, "max-sessions", smtpd.DefaultMaxSessions, "concurrent sessions; more get 421 at connect (Exim's smtp_accept_max; -1: no limit)")
	fs.IntVar(&o.cfg.MaxSessionsPerHost, "max-sessions-per-host", smtpd.DefaultMaxSessionsPerHost, "concurrent sessions per client IP, the PROXY source when proxied (smtp_accept_max_per_host; -1: no limit)")
	fs.DurationVar(&o.cfg.DataTimeout, "data-timeout", smtpd.DefaultDataTimeout, "`limit` on one whole DATA transfer, 421 past it (-1s: none)")
	fs.Int64Var(&o.cfg.MaxDataMemory, "max-data-memory", 0, "`bytes` all sessions together may hold for message data; past it 452 4.3.1 (default 256 MiB, or 4 × -max-size if larger)")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long sessions may finish after SIGINT/SIGTERM")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&relayFrom, "relay-from", "", "Exim host `list` of clients that may relay to non-local domains")
	fs.StringVar(&o.cfg.Spool, "spool", "", "queue `directory` for outbound mail (relay, forwarding, bounces)")
	fs.IntVar(&o.cfg.SMTPPort, "smtp-port", 25, "`port` of remote SMTP servers")
	fs.DurationVar(&o.cfg.SMTPTimeout, "smtp-timeout", 5*time.Minute, "outbound connect and command `timeout`")
	fs.DurationVar(&o.cfg.RetryInterval, "retry-interval", 15*time.Minute, "first retry `delay` (doubled per attempt, up to an hour)")
	fs.DurationVar(&o.cfg.RetryMaxAge, "retry-max-age", 4*24*time.Hour, "deferred recipients fail after this `age`")
	fs.DurationVar(&o.cfg.DelayWarning, "delay-warning", 0, "send one delay DSN after this `age` (0: never)")
	fs.StringVar(&daneReq, "dane-require", "", "Exim host `list`: hosts_require_dane")
	fs.StringVar(&daneTry, "dane-try", "*", "Exim host `list`: hosts_try_dane")
	fs.StringVar(&ocspRequest, "ocsp-request", "", "Exim host `list`: hosts_request_ocsp (default * when -ocsp-require is set)")
	fs.StringVar(&ocspReq, "ocsp-require", "", "Exim host `list`: hosts_require_ocsp")
	fs.Var(&forwards, "forward", "`local@domain=remote@other`: forward a local recipient (SRS sender); repeatable")
	fs.Var(&srsSecrets, "srs-secret", "SRS `secret` (the first signs); repeatable")
	fs.StringVar(&srsDomain, "srs-domain", "", "SRS `domain` (default: the first of -domains)")
	fs.StringVar(&srsRedis, "srs-redis", "", "Redis `host:port` or /socket for SRS database mode (overlong addresses)")
	fs.DurationVar(&srsRedisTimeout, "srs-redis-timeout", 2*time.Second, "`timeout` of each Redis operation")
	fs.StringVar(&srsRedisPrefix, "srs-redis-prefix", srsredis.DefaultPrefix, "Redis key `prefix` for SRS database mode")

	usage := func(w io.Writer) {
		fmt.Fprintln(w, "usage: mta -domains LIST -maildir DIR [flags]\n\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	fail := func(format string, a ...any) (*options, int, bool) {
		fmt.Fprintf(stderr, "mta: %s\n", fmt.Sprintf(format, a...))
		usage(stderr)
		return nil, exitUsage, false
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return nil, exitOK, false
		}
		return fail("%v", err)
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	if domains == "" || o.cfg.Maildir == "" {
		return fail("-domains and -maildir are required")
	}
	o.cfg.Domains = splitList(domains)
	o.cfg.Users = splitList(strings.ToLower(users))
	dnsOpts := []resolver.Option{resolver.WithTimeout(dnsTimeout), resolver.WithCache(mta.DefaultDNSCache)}
	if nameserver != "" {
		dnsOpts = append(dnsOpts, resolver.WithNameservers(nameserver))
	}
	dns, err := resolver.New(dnsOpts...)
	if err != nil {
		return fail("-nameserver: %v", err)
	}
	o.cfg.Resolver = dns
	o.cfg.MaxSize = maxSize
	if proxyReq != "" {
		if o.cfg.ProxyRequired, err = hostlist.Parse(proxyReq); err != nil {
			return fail("-proxy-required: %v", err)
		}
	}
	if proxyOpt != "" {
		if o.cfg.ProxyOptional, err = hostlist.Parse(proxyOpt); err != nil {
			return fail("-proxy-optional: %v", err)
		}
	}
	if spamd != "" {
		o.cfg.Scanner = &bmi.Spamd{Addr: spamd, AltLocation: altLocation, NoneScore: noneScore}
	}
	if len(optins) > 0 {
		o.cfg.OptIn = map[string]string{}
		for _, oi := range optins {
			addr, list, ok := strings.Cut(oi, "=")
			if !ok || !smtp.ValidMailbox(addr) {
				return fail("-optin %q: want ADDR=feature:feature", oi)
			}
			o.cfg.OptIn[strings.ToLower(addr)] = list
		}
	}
	if dccifd != "" {
		a, err := parseDCCAddress(dccifd)
		if err != nil {
			return fail("-dccifd: %v", err)
		}
		o.cfg.DCC = &dcc.Client{Address: a}
	}
	if relayFrom != "" {
		if o.cfg.RelayFrom, err = hostlist.Parse(relayFrom); err != nil {
			return fail("-relay-from: %v", err)
		}
	}
	if o.cfg.DANERequire, err = hostlist.Parse(daneReq); err != nil {
		return fail("-dane-require: %v", err)
	}
	if o.cfg.DANETry, err = hostlist.Parse(daneTry); err != nil {
		return fail("-dane-try: %v", err)
	}
	if ocspReq != "" || ocspRequest != "" {
		// An unset -ocsp-request leaves RequestHosts nil: Exim's "*".
		oc := &ocsp.Client{}
		if ocspRequest != "" {
			if oc.RequestHosts, err = hostlist.Parse(ocspRequest); err != nil {
				return fail("-ocsp-request: %v", err)
			}
		}
		if oc.RequireHosts, err = hostlist.Parse(ocspReq); err != nil {
			return fail("-ocsp-require: %v", err)
		}
		o.cfg.OCSP = oc
	}
	if len(srsSecrets) > 0 {
		if srsDomain == "" {
			srsDomain = o.cfg.Domains[0]
		}
		o.cfg.SRSDomain = srsDomain
		sc := srs.Config{Domain: srsDomain, Secrets: srsSecrets}
		if srsRedis != "" {
			if o.srsStore, err = srsredis.New(srsRedis, srsRedisPrefix, srsRedisTimeout); err != nil {
				return fail("-srs-redis: %v", err)
			}
			sc.Store = o.srsStore
		}
		if o.cfg.SRS, err = srs.New(sc); err != nil {
			return fail("-srs-secret/-srs-domain: %v", err)
		}
	} else if srsRedis != "" {
		return fail("-srs-redis needs -srs-secret")
	}
	for _, f := range forwards {
		from, to, ok := strings.Cut(f, "=")
		if !ok || !smtp.ValidMailbox(from) || !smtp.ValidMailbox(to) {
			return fail("-forward %q: want local@domain=remote@other", f)
		}
		if o.cfg.Forwards == nil {
			o.cfg.Forwards = map[string]string{}
		}
		o.cfg.Forwards[strings.ToLower(from)] = to
	}
	if len(forwards) > 0 && (o.cfg.SRS == nil || o.cfg.Spool == "") {
		return fail("-forward needs -spool and -srs-secret")
	}
	if (relayFrom != "") && o.cfg.Spool == "" {
		return fail("-relay-from needs -spool")
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
		return fail("-log-level: %v", err)
	}
	o.cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	return o, exitOK, true
}

// parseDCCAddress accepts Exim's dccifd_address forms and host:port.
func parseDCCAddress(s string) (dcc.Address, error) {
	if !strings.HasPrefix(s, "/") && !strings.ContainsAny(s, " \t") {
		if h, p, err := net.SplitHostPort(s); err == nil {
			s = h + " " + p
		}
	}
	return dcc.ParseAddress(s)
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// run is the whole program: it serves until ctx ends (a signal), then
// shuts down gracefully.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, code, ok := parseFlags(args, stdout, stderr)
	if !ok {
		return code
	}
	log := o.cfg.Logger
	if o.srsStore != nil {
		defer o.srsStore.Close()
	}
	if o.historyPath != "" {
		h, err := dmarc.OpenHistory(o.historyPath)
		if err != nil {
			log.Error("dmarc history", "err", err)
			return exitError
		}
		defer h.Close()
		o.cfg.History = h
	}
	var webhook *events.Webhook
	if o.eventExec != "" || o.eventWebhook != "" {
		o.cfg.Bus = &events.Bus{Logger: log}
		if o.eventExec != "" {
			x := &events.Exec{Path: "/bin/sh", Args: []string{"-c", o.eventExec}}
			o.cfg.Bus.Subscribe(nil, x.Handler())
		}
		if o.eventWebhook != "" {
			webhook = &events.Webhook{URL: o.eventWebhook}
			webhook.Start(context.Background())
			o.cfg.Bus.Subscribe(nil, webhook.Handler())
		}
	}
	srv, err := mta.New(o.cfg)
	if err != nil {
		log.Error("configuration", "err", err)
		return exitError
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		data := srv.SMTP().Config().MaxDataMemory
		limit := mta.MemoryLimit(data)
		debug.SetMemoryLimit(limit)
		log.Info("memory limit", "data", data, "gomemlimit", limit)
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		log.Error("listen", "err", err)
		return exitError
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err = <-done:
		log.Error("serve", "err", err)
		code = exitError
	case <-ctx.Done():
		log.Info("shutting down", "timeout", o.shutdownTimeout.String())
		sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
		if err := srv.Shutdown(sctx); err != nil {
			log.Warn("shutdown: sessions cut off", "err", err)
		}
		cancel()
		<-done
		code = exitOK
	}
	if webhook != nil {
		wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		webhook.Close(wctx)
		cancel()
	}
	return code
}
