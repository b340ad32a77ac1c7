package config

import (
	"log/slog"
	"time"
)

// Settings is the whole configuration of the MTA. Each field's toml
// tag is its key in the file and, with '_' as '-', its flag.
type Settings struct {
	// Listeners and the process.
	Listen            string        `toml:"listen"`
	SubmissionsListen string        `toml:"submissions_listen"`
	MetricsListen     string        `toml:"metrics_listen"`
	ShutdownTimeout   time.Duration `toml:"shutdown_timeout"`
	LogLevel          slog.Level    `toml:"log_level"`

	// Who we are and where local mail goes. An empty Hostname is the
	// system's host name (Exim's primary_hostname); Parse fills it in.
	Hostname string   `toml:"hostname"`
	Domains  []string `toml:"domains"`
	Users    []string `toml:"users"`
	Maildir  string   `toml:"maildir"`

	// DNS and SPF.
	Nameserver       string        `toml:"nameserver"`
	Timeout          time.Duration `toml:"timeout"`
	SPFLocalhostPass bool          `toml:"spf_localhost_pass"`

	// PROXY protocol (hosts_proxy).
	ProxyRequired HostList      `toml:"proxy_required"`
	ProxyOptional HostList      `toml:"proxy_optional"`
	ProxyTimeout  time.Duration `toml:"proxy_timeout"`

	// Session limits. MaxSessions and MaxSessionsPerHost: negative is
	// no limit; DataTimeout: negative is none. MaxDataMemory 0 is
	// DefaultDataMemory (Parse fills it in).
	MaxSize            int64         `toml:"max_size"`
	MaxRecipients      int           `toml:"max_recipients"`
	MaxErrors          int           `toml:"max_errors"`
	ReadTimeout        time.Duration `toml:"read_timeout"`
	MaxSessions        int           `toml:"max_sessions"`
	MaxSessionsPerHost int           `toml:"max_sessions_per_host"`
	DataTimeout        time.Duration `toml:"data_timeout"`
	MaxDataMemory      int64         `toml:"max_data_memory"`
	MaxHeaderSize      int           `toml:"max_header_size"`

	// Inbound TLS, with Exim's option names. TLSPrivateKey[i] is the
	// key of TLSCertificate[i]; a missing one means the key is in the
	// certificate file.
	TLSCertificate    []string `toml:"tls_certificate"`
	TLSPrivateKey     []string `toml:"tls_privatekey"`
	TLSOCSPFile       string   `toml:"tls_ocsp_file"`
	TLSOCSPRefresh    bool     `toml:"tls_ocsp_refresh"`
	TLSAdvertiseHosts HostList `toml:"tls_advertise_hosts"`
	TLSMinVersion     string   `toml:"tls_min_version"`

	// SMTP AUTH.
	AuthUsersFile         string        `toml:"auth_users_file"`
	AuthPlaintextLoopback bool          `toml:"auth_plaintext_loopback"`
	AuthMaxFailures       int           `toml:"auth_max_failures"`
	AuthFailureWindow     time.Duration `toml:"auth_failure_window"`

	// Content scanning: spamd (bmi) and dccifd.
	Spamd            string   `toml:"spamd"`
	OptIn            []string `toml:"optin"`
	SpamdAltLocation string   `toml:"spamd_alt_location"`
	SpamdDeferOK     bool     `toml:"spamd_defer_ok"`
	SpamdNoneScore   float64  `toml:"spamd_none_score"`
	DCCifd           string   `toml:"dccifd"`
	DCCDeferOK       bool     `toml:"dcc_defer_ok"`

	// DMARC. DMARCHistoryRedis keeps the history in Redis (shared by a
	// cluster) instead of the DMARCHistory file.
	DMARCEnforce      bool   `toml:"dmarc_enforce"`
	DMARCMode         string `toml:"dmarc_mode"` // dmarc.ParseMode: "rfc7489" or "rfc9989"
	DMARCHistory      string `toml:"dmarc_history"`
	DMARCHistoryRedis bool   `toml:"dmarc_history_redis"`

	// Reports (reports.go): DMARC aggregate reports (RFC 9990) from the
	// history every DMARCReportInterval (0: none), TLS reports (RFC
	// 8460) daily with TLSRPT, both sent through the spool; and the
	// reports others send to ReportInbox, parsed into ReportStore.
	DMARCReportInterval time.Duration `toml:"dmarc_report_interval"`
	DMARCReportOrgName  string        `toml:"dmarc_report_org_name"`
	DMARCReportEmail    string        `toml:"dmarc_report_email"`
	TLSRPT              bool          `toml:"tlsrpt"`
	TLSRPTOrgName       string        `toml:"tlsrpt_org_name"`
	TLSRPTEmail         string        `toml:"tlsrpt_email"`
	ReportInbox         string        `toml:"report_inbox"`
	ReportStore         string        `toml:"report_store"`

	// Events.
	EventExec    string `toml:"event_exec"`
	EventWebhook string `toml:"event_webhook"`

	// Outbound: relaying, the queue, remote delivery.
	RelayFrom     HostList      `toml:"relay_from"`
	Spool         string        `toml:"spool"`
	SMTPPort      int           `toml:"smtp_port"`
	SMTPTimeout   time.Duration `toml:"smtp_timeout"`
	RetryInterval time.Duration `toml:"retry_interval"`
	RetryMaxAge   time.Duration `toml:"retry_max_age"`
	DelayWarning  time.Duration `toml:"delay_warning"`
	// Outbound concurrency and connection reuse.
	MaxDeliveries               int           `toml:"max_deliveries"`
	MaxDeliveriesPerDestination int           `toml:"max_deliveries_per_destination"`
	ConnectionMaxMessages       int           `toml:"connection_max_messages"`
	ConnectionIdleTimeout       time.Duration `toml:"connection_idle_timeout"`

	DANERequire HostList `toml:"dane_require"`
	DANETry     HostList `toml:"dane_try"`
	// OCSPRequest empty means "*" when OCSPRequire is set (Exim's
	// default for hosts_request_ocsp).
	OCSPRequest HostList `toml:"ocsp_request"`
	OCSPRequire HostList `toml:"ocsp_require"`
	// MTA-STS (RFC 8461) where DANE does not apply; the policies kept
	// in MTASTSCache ("": <spool>/db/mta-sts).
	MTASTS      bool   `toml:"mta_sts"`
	MTASTSCache string `toml:"mta_sts_cache"`

	// Forwarding and SRS. An empty SRSDomain is the first of Domains;
	// Parse fills it in.
	Forward         []string      `toml:"forward"`
	SRSSecret       []string      `toml:"srs_secret"`
	SRSDomain       string        `toml:"srs_domain"`
	SRSRedis        string        `toml:"srs_redis"`
	SRSRedisTimeout time.Duration `toml:"srs_redis_timeout"`
	SRSRedisPrefix  string        `toml:"srs_redis_prefix"`

	// What the instances of a cluster share (sharing.go): Redis holds
	// the SRS database (unless srs_redis names another), the rate
	// limits and, with DMARCHistoryRedis, the DMARC history.
	// RateLimit* are Exim ratelimit rules, "m / p [/ strict]", at
	// connect, MAIL and RCPT; without Redis they hold per instance.
	Redis         string        `toml:"redis"`
	RedisTimeout  time.Duration `toml:"redis_timeout"`
	RedisPrefix   string        `toml:"redis_prefix"`
	RateLimitConn string        `toml:"ratelimit_conn"`
	RateLimitMail string        `toml:"ratelimit_mail"`
	RateLimitRcpt string        `toml:"ratelimit_rcpt"`
	RateLimitData string        `toml:"ratelimit_data"` // per_byte, at the end of DATA

	// DKIM signing of outbound mail, one entry per domain (the smtp
	// transport's dkim_* options). Last: TOML tables follow plain keys.
	DKIM []DKIM `toml:"dkim"`

	// src records where each key's value came from (key path →
	// source), for errors that say which file or flag to fix.
	src map[string]Source
}

// DKIM is one [[dkim]] entry: a signing domain with its selectors and
// the dkim_* transport options that go with it.
type DKIM struct {
	Domain      string         `toml:"domain"`
	Selectors   []DKIMSelector `toml:"selectors"`
	Canon       string         `toml:"canon"`
	Hash        string         `toml:"hash"`
	Identity    string         `toml:"identity"`
	SignHeaders string         `toml:"sign_headers"`
	Timestamps  time.Duration  `toml:"timestamps"`
	Strict      bool           `toml:"strict"`
}

// DKIMSelector is one dkim_selector and the file of its
// dkim_private_key. Parse makes a relative PrivateKey absolute against
// the working directory, as every other path is relative to it.
type DKIMSelector struct {
	Selector   string `toml:"selector"`
	PrivateKey string `toml:"private_key"`
}
