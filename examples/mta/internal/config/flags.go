package config

import (
	"flag"
	"log/slog"
	"os"
	"strings"
)

// flagVars are the values the flags parse into, before Parse copies
// the ones given on the command line over the file's.
type flagVars struct {
	s          Settings // starts as Default(): -help shows the defaults
	config     string
	dkimDomain string
	dkimSel    DKIMSelector
}

// Flags that are not a key of their own. Every other flag is the key
// with '_' as '-' (TestEveryFlagIsAKey).
const (
	flagConfig         = "config"
	flagDKIMDomain     = "dkim-domain"
	flagDKIMSelector   = "dkim-selector"
	flagDKIMPrivateKey = "dkim-private-key"
)

// register defines every flag on fs. The usage texts are the released
// ones of examples/mta; new settings follow their style.
func register(fs *flag.FlagSet) *flagVars {
	v := &flagVars{s: Default()}
	s := &v.s
	s.Hostname, _ = os.Hostname() // what "" turns into, for -help

	fs.StringVar(&v.config, flagConfig, "", "TOML configuration `file`: every flag is a key there (-max-size is max_size); flags given override it")

	fs.StringVar(&s.Listen, "listen", s.Listen, "`address` to listen on")
	fs.StringVar(&s.SubmissionsListen, "submissions-listen", s.SubmissionsListen, "`address` for implicit-TLS submissions (RFC 8314, port 465); needs -tls-certificate (default: none)")
	fs.StringVar(&s.MetricsListen, "metrics-listen", s.MetricsListen, "`address` for the Prometheus /metrics and /healthz listener (default: none)")
	fs.StringVar(&s.Hostname, "hostname", s.Hostname, "primary host `name` (banner, Received, authserv-id)")
	fs.Var(commaFlag{&s.Domains}, "domains", "comma-separated local `domains` (required)")
	fs.Var(commaFlag{&s.Users}, "users", "comma-separated local `parts` that exist (default: any)")
	fs.StringVar(&s.Maildir, "maildir", s.Maildir, "Maildir++ `directory` for delivery (required)")
	fs.StringVar(&s.Nameserver, "nameserver", s.Nameserver, "DNS server `host:port` for SPF, DKIM and DMARC (default: /etc/resolv.conf)")
	fs.DurationVar(&s.Timeout, "timeout", s.Timeout, "DNS `timeout` bounding each whole query, retries included")
	fs.BoolVar(&s.SPFLocalhostPass, "spf-localhost-pass", s.SPFLocalhostPass, "loopback clients pass SPF without DNS (libspf2; Exim's default is true, off here because a PROXY list that misses the balancer makes every client 127.0.0.1)")
	fs.Var(&s.ProxyRequired, "proxy-required", "Exim host `list` that must send a PROXY header (hosts_proxy)")
	fs.Var(&s.ProxyOptional, "proxy-optional", "Exim host `list` that may send a PROXY header")
	fs.DurationVar(&s.ProxyTimeout, "proxy-timeout", s.ProxyTimeout, "PROXY header read `timeout` (proxy_protocol_timeout)")

	fs.Var(&repeatFlag{p: &s.TLSCertificate}, "tls-certificate", "PEM certificate chain `file` for STARTTLS and submissions (tls_certificate); repeatable, one per key type")
	fs.Var(&repeatFlag{p: &s.TLSPrivateKey}, "tls-privatekey", "PEM private key `file` of the n-th -tls-certificate (tls_privatekey; default: in the certificate file); repeatable")
	fs.StringVar(&s.TLSOCSPFile, "tls-ocsp-file", s.TLSOCSPFile, "Exim `list` of OCSP response files, the n-th for the n-th certificate (tls_ocsp_file)")
	fs.BoolVar(&s.TLSOCSPRefresh, "tls-ocsp-refresh", s.TLSOCSPRefresh, "fetch fresh OCSP staples from the responder while running")
	fs.Var(&s.TLSAdvertiseHosts, "tls-advertise-hosts", "Exim host `list` offered STARTTLS (tls_advertise_hosts; only with a certificate)")
	fs.StringVar(&s.TLSMinVersion, "tls-min-version", s.TLSMinVersion, "lowest inbound TLS `version`: 1.2 or 1.3")

	fs.StringVar(&s.AuthUsersFile, "auth-users-file", s.AuthUsersFile, "`file` of users and password hashes for SMTP AUTH (default: no AUTH)")
	fs.BoolVar(&s.AuthPlaintextLoopback, "auth-plaintext-loopback", s.AuthPlaintextLoopback, "also offer AUTH without TLS to loopback clients (default: only after TLS)")
	fs.IntVar(&s.AuthMaxFailures, "auth-max-failures", s.AuthMaxFailures, "failed AUTH attempts per client IP within -auth-failure-window before AUTH is refused")
	fs.DurationVar(&s.AuthFailureWindow, "auth-failure-window", s.AuthFailureWindow, "`window` in which -auth-max-failures count")

	fs.StringVar(&s.Spamd, "spamd", s.Spamd, "spamd `host:port`: scan every message with bmi.Spamd")
	fs.Var(&repeatFlag{p: &s.OptIn}, "optin", "`ADDR=feature:feature` bmi opt-in (spamd profile) for a recipient; repeatable")
	fs.StringVar(&s.SpamdAltLocation, "spamd-alt-location", s.SpamdAltLocation, "maildir `folder` for messages spamd judges spam")
	fs.BoolVar(&s.SpamdDeferOK, "spamd-defer-ok", s.SpamdDeferOK, "deliver unscanned when spamd fails (default: 451)")
	fs.Float64Var(&s.SpamdNoneScore, "spamd-none-score", s.SpamdNoneScore, "spamd `score` at which a message is not delivered (0: never)")
	fs.StringVar(&s.DCCifd, "dccifd", s.DCCifd, "dccifd `address` (\"/socket\", \"host port\" or host:port)")
	fs.BoolVar(&s.DCCDeferOK, "dcc-defer-ok", s.DCCDeferOK, "accept the message when DCC cannot decide")
	fs.BoolVar(&s.DMARCEnforce, "dmarc-enforce", s.DMARCEnforce, "reject (550) p=reject failures, nofrom and malformed headers, defer (451) temperror, quarantine to .Junk")
	fs.StringVar(&s.DMARCMode, "dmarc-mode", s.DMARCMode, "DMARC discovery and words: rfc7489 (PSL organizational domain) or rfc9989 (DNS tree walk, psd=, np=, t=)")
	fs.StringVar(&s.DMARCHistory, "dmarc-history", s.DMARCHistory, "append DMARC history to `file` (Exim's dmarc_history_file)")
	fs.BoolVar(&s.DMARCHistoryRedis, "dmarc-history-redis", s.DMARCHistoryRedis, "keep the DMARC history in -redis (shared by a cluster) instead of a file")
	fs.DurationVar(&s.DMARCReportInterval, "dmarc-report-interval", s.DMARCReportInterval, "send DMARC aggregate reports from the history every `interval` (24h: daily at 00:00 UTC; 0: never); needs -spool")
	fs.StringVar(&s.DMARCReportOrgName, "dmarc-report-org-name", s.DMARCReportOrgName, "org_name of the DMARC reports (default: -hostname)")
	fs.StringVar(&s.DMARCReportEmail, "dmarc-report-email", s.DMARCReportEmail, "`address` the DMARC reports come from and name as contact")
	fs.BoolVar(&s.TLSRPT, "tlsrpt", s.TLSRPT, "record outbound TLS results and send daily TLS reports (RFC 8460); needs -spool")
	fs.StringVar(&s.TLSRPTOrgName, "tlsrpt-org-name", s.TLSRPTOrgName, "organization-name of the TLS reports (default: -hostname)")
	fs.StringVar(&s.TLSRPTEmail, "tlsrpt-email", s.TLSRPTEmail, "`address` the TLS reports come from and name as contact-info")
	fs.StringVar(&s.ReportInbox, "report-inbox", s.ReportInbox, "local `address` whose mail is parsed as DMARC or TLS reports into -report-store")
	fs.StringVar(&s.ReportStore, "report-store", s.ReportStore, "`directory` for the reports received at -report-inbox, as JSON")
	fs.StringVar(&s.EventExec, "event-exec", s.EventExec, "run `command` (via /bin/sh -c) for each event, JSON on stdin")
	fs.StringVar(&s.EventWebhook, "event-webhook", s.EventWebhook, "POST each event as JSON to `URL`")

	fs.Int64Var(&s.MaxSize, "max-size", s.MaxSize, "message size limit in `bytes`")
	fs.IntVar(&s.MaxRecipients, "max-recipients", s.MaxRecipients, "recipients per message")
	fs.IntVar(&s.MaxErrors, "max-errors", s.MaxErrors, "syntax/protocol errors before 421")
	fs.DurationVar(&s.ReadTimeout, "read-timeout", s.ReadTimeout, "`timeout` for each command and data line")
	fs.IntVar(&s.MaxSessions, "max-sessions", s.MaxSessions, "concurrent sessions; more get 421 at connect (Exim's smtp_accept_max; -1: no limit)")
	fs.IntVar(&s.MaxSessionsPerHost, "max-sessions-per-host", s.MaxSessionsPerHost, "concurrent sessions per client IP, the PROXY source when proxied (smtp_accept_max_per_host; -1: no limit)")
	fs.DurationVar(&s.DataTimeout, "data-timeout", s.DataTimeout, "`limit` on one whole DATA transfer, 421 past it (-1s: none)")
	fs.IntVar(&s.MaxHeaderSize, "max-header-size", s.MaxHeaderSize, "`bytes` of a message's header section, 552 past it (Exim's header_maxsize)")
	fs.Int64Var(&s.MaxDataMemory, "max-data-memory", s.MaxDataMemory, "`bytes` all sessions together may hold for messages in flight (header sections and buffers; messages go to files); past it 452 4.3.1 (default 256 MiB)")
	fs.DurationVar(&s.ShutdownTimeout, "shutdown-timeout", s.ShutdownTimeout, "how long sessions may finish after SIGINT/SIGTERM")
	fs.Var(levelFlag{&s.LogLevel}, "log-level", "debug, info, warn or error")

	fs.Var(&s.RelayFrom, "relay-from", "Exim host `list` of clients that may relay to non-local domains")
	fs.StringVar(&s.Spool, "spool", s.Spool, "queue `directory` for outbound mail (relay, forwarding, bounces)")
	fs.IntVar(&s.SMTPPort, "smtp-port", s.SMTPPort, "`port` of remote SMTP servers")
	fs.DurationVar(&s.SMTPTimeout, "smtp-timeout", s.SMTPTimeout, "outbound connect and command `timeout`")
	fs.DurationVar(&s.RetryInterval, "retry-interval", s.RetryInterval, "first retry `delay` (doubled per attempt, up to an hour)")
	fs.DurationVar(&s.RetryMaxAge, "retry-max-age", s.RetryMaxAge, "deferred recipients fail after this `age`")
	fs.DurationVar(&s.DelayWarning, "delay-warning", s.DelayWarning, "send one delay DSN after this `age` (0: never)")
	fs.IntVar(&s.MaxDeliveries, "max-deliveries", s.MaxDeliveries, "outbound deliveries at once (Postfix's default_process_limit)")
	fs.IntVar(&s.MaxDeliveriesPerDestination, "max-deliveries-per-destination", s.MaxDeliveriesPerDestination, "outbound deliveries at once to one domain (Postfix's default_destination_concurrency_limit)")
	fs.IntVar(&s.ConnectionMaxMessages, "connection-max-messages", s.ConnectionMaxMessages, "messages sent on one outbound connection (Exim's connection_max_messages)")
	fs.DurationVar(&s.ConnectionIdleTimeout, "connection-idle-timeout", s.ConnectionIdleTimeout, "how long a kept outbound connection waits for the next message (Postfix's smtp_connection_cache_time_limit)")
	fs.Var(&s.DANERequire, "dane-require", "Exim host `list`: hosts_require_dane")
	fs.Var(&s.DANETry, "dane-try", "Exim host `list`: hosts_try_dane")
	fs.Var(&s.OCSPRequest, "ocsp-request", "Exim host `list`: hosts_request_ocsp (default * when -ocsp-require is set)")
	fs.Var(&s.OCSPRequire, "ocsp-require", "Exim host `list`: hosts_require_ocsp")
	fs.BoolVar(&s.MTASTS, "mta-sts", s.MTASTS, "apply the recipient domains' MTA-STS policies (RFC 8461) to outbound delivery; needs -spool")
	fs.StringVar(&s.MTASTSCache, "mta-sts-cache", s.MTASTSCache, "`file` keeping the MTA-STS policies across restarts (default: <spool>/db/mta-sts)")
	fs.StringVar(&v.dkimDomain, flagDKIMDomain, "", "DKIM-sign mail from this `domain` (dkim_domain; with -dkim-selector and -dkim-private-key; replaces that domain's selectors in the file)")
	fs.StringVar(&v.dkimSel.Selector, flagDKIMSelector, "", "DKIM `selector` for -dkim-domain (dkim_selector)")
	fs.StringVar(&v.dkimSel.PrivateKey, flagDKIMPrivateKey, "", "PEM private key `file` for -dkim-selector (dkim_private_key)")

	fs.Var(&repeatFlag{p: &s.Forward}, "forward", "`local@domain=remote@other`: forward a local recipient (SRS sender); repeatable")
	fs.Var(&repeatFlag{p: &s.SRSSecret}, "srs-secret", "SRS `secret` (the first signs); repeatable")
	fs.StringVar(&s.SRSDomain, "srs-domain", s.SRSDomain, "SRS `domain` (default: the first of -domains)")
	fs.StringVar(&s.SRSRedis, "srs-redis", s.SRSRedis, "Redis `host:port` or /socket for SRS database mode (overlong addresses)")
	fs.DurationVar(&s.SRSRedisTimeout, "srs-redis-timeout", s.SRSRedisTimeout, "`timeout` of each Redis operation")
	fs.StringVar(&s.SRSRedisPrefix, "srs-redis-prefix", s.SRSRedisPrefix, "Redis key `prefix` for SRS database mode")
	fs.StringVar(&s.Redis, "redis", s.Redis, "Redis `URL` (redis://host:port/db, or host:port, /socket) shared by a cluster: SRS database, rate limits, -dmarc-history-redis")
	fs.DurationVar(&s.RedisTimeout, "redis-timeout", s.RedisTimeout, "`timeout` of each -redis operation")
	fs.StringVar(&s.RedisPrefix, "redis-prefix", s.RedisPrefix, "key `prefix` of the rate limits and DMARC history in -redis")
	fs.StringVar(&s.RateLimitConn, "ratelimit-conn", s.RateLimitConn, "Exim ratelimit `rule` (\"m / p [/ strict]\") for connections per client IP")
	fs.StringVar(&s.RateLimitMail, "ratelimit-mail", s.RateLimitMail, "Exim ratelimit `rule` for messages (MAIL) per client IP or authenticated user")
	fs.StringVar(&s.RateLimitRcpt, "ratelimit-rcpt", s.RateLimitRcpt, "Exim ratelimit `rule` for recipients (RCPT) per client IP or authenticated user")
	fs.StringVar(&s.RateLimitData, "ratelimit-data", s.RateLimitData, "Exim ratelimit `rule` for message bytes (per_byte, at the end of DATA; m may end in K, M or G) per client IP or authenticated user")
	return v
}

// commaFlag is a list given as one comma-separated value, as -domains
// a,b; a second use replaces the first.
type commaFlag struct{ p *[]string }

func (c commaFlag) String() string {
	if c.p == nil {
		return ""
	}
	return strings.Join(*c.p, ",")
}

func (c commaFlag) Set(v string) error {
	*c.p = splitList(v)
	return nil
}

// repeatFlag is a list given one element per use (-forward a=b
// -forward c=d). The first use replaces the default.
type repeatFlag struct {
	p   *[]string
	set bool
}

func (r *repeatFlag) String() string {
	if r.p == nil {
		return ""
	}
	return strings.Join(*r.p, ", ")
}

func (r *repeatFlag) Set(v string) error {
	if !r.set {
		*r.p, r.set = nil, true
	}
	*r.p = append(*r.p, v)
	return nil
}

// levelFlag is a slog level, printed in lower case as written.
type levelFlag struct{ p *slog.Level }

func (l levelFlag) String() string {
	if l.p == nil {
		return ""
	}
	return strings.ToLower(l.p.String())
}

func (l levelFlag) Set(v string) error { return l.p.UnmarshalText([]byte(v)) }

func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
