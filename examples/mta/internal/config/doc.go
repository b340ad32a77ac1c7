// Package config holds the settings of the reference MTA
// (examples/mta): one TOML configuration file, flags that override it,
// and the defaults and the validation rules, all in this package.
//
// # Where a value comes from
//
// Each setting has a key in the file and a flag of the same name with
// '-' for '_' (max_size is -max-size), so an operator moves between
// them freely. A value is taken from, later ones winning:
//
//  1. the defaults: Default, which is also the embedded file
//     DefaultTOML (default.toml), a commented configuration to copy;
//  2. the file given with -config FILE, key by key: a key the file does
//     not name keeps its default;
//  3. the flags given on the command line, flag by flag. A list flag
//     replaces the file's list: repeatable ones (-forward, -optin,
//     -srs-secret, -tls-certificate, -tls-privatekey) by their uses
//     together, comma-separated ones (-domains, -users) by their last
//     use.
//
// With no arguments at all the MTA runs the defaults: a loopback server
// on 127.0.0.1:2525 for the test domain example.test, delivering into
// ./Maildir under the working directory, with no queue (no outbound
// mail).
//
// Parse then fills in the values that stand for others, so that the
// Settings say what the MTA will do: hostname "" becomes the system's
// host name (Exim's primary_hostname default), srs_domain "" the first
// of domains, max_data_memory 0 DefaultDataMemory; domains and
// users are lower-cased. Paths are relative to the working directory,
// as given; DKIM private_key paths are made absolute against it at
// Parse, because the dkim package takes an absolute path for a file
// (anything else is key text).
//
// # Errors
//
// A problem is a *KeyError naming the key and where its value came
// from: "mta.toml: max_size: must be positive" for the file,
// "-max-size: must be positive" for a flag, "max_size: …" for a
// default. Unknown keys in the file are errors, so a misspelt key never
// silently leaves the default in place; so are type mismatches
// ("timeout = 5" is refused: durations are strings such as "5s"), and a
// file that is not TOML is a *SyntaxError with its line. Validate
// checks every rule and returns all the problems joined (errors.Join),
// so an operator fixes them in one go. Validate opens the files it
// names (certificates, keys, the AUTH users file) to see they are
// readable regular files, but parses none of them: that is the TLS,
// auth and dkim packages' work at start.
//
// # Keys
//
// Defaults are written as in the file; "" and [] mean unset. Host
// lists use Exim's syntax (hostlist package).
//
//	key                      flag                      default            meaning
//	listen                   -listen                   "127.0.0.1:2525"   SMTP listener, host:port
//	submissions_listen       -submissions-listen       ""                 implicit-TLS (RFC 8314) listener; needs tls_certificate
//	metrics_listen           -metrics-listen           ""                 Prometheus /metrics and /healthz listener
//	shutdown_timeout         -shutdown-timeout         "30s"              time sessions get to finish after SIGINT/SIGTERM
//	log_level                -log-level                "info"             debug, info, warn or error
//	hostname                 -hostname                 ""                 primary host name: banner, Received, authserv-id; "" the system's
//	domains                  -domains                  ["example.test"]   local domains (required); the rest is relaying
//	users                    -users                    []                 local parts that exist in each local domain; []: any
//	maildir                  -maildir                  "./Maildir"        Maildir++ delivery directory (required)
//	nameserver               -nameserver               ""                 DNS server IP[:port]; "": /etc/resolv.conf
//	timeout                  -timeout                  "2s"               bound on each whole DNS query
//	spf_localhost_pass       -spf-localhost-pass       false              loopback clients pass SPF (libspf2; Exim's default is true)
//	proxy_required           -proxy-required           ""                 hosts that must send a PROXY header (hosts_proxy)
//	proxy_optional           -proxy-optional           ""                 hosts that may send a PROXY header
//	proxy_timeout            -proxy-timeout            "3s"               PROXY header read timeout (proxy_protocol_timeout)
//	max_size                 -max-size                 10485760           message size limit, bytes
//	max_recipients           -max-recipients           100                recipients per message
//	max_errors               -max-errors               10                 syntax/protocol errors before 421
//	read_timeout             -read-timeout             "5m"               timeout per command and per data line
//	max_sessions             -max-sessions             100                concurrent sessions (smtp_accept_max); -1: no limit
//	max_sessions_per_host    -max-sessions-per-host    20                 concurrent sessions per client IP (smtp_accept_max_per_host); -1: no limit
//	data_timeout             -data-timeout             "15m"              limit on one whole DATA transfer; "-1s": none
//	max_data_memory          -max-data-memory          0                  bytes all sessions may hold for messages in flight (headers, buffers); 0: 256 MiB
//	max_header_size          -max-header-size          1048576            a message's header section, 552 past it (header_maxsize)
//	tls_certificate          -tls-certificate          []                 PEM certificate chain files, one per key type; []: no STARTTLS
//	tls_privatekey           -tls-privatekey           []                 key file of the n-th certificate; missing: in the certificate file
//	tls_ocsp_file            -tls-ocsp-file            ""                 Exim list of OCSP responses to staple, n-th for the n-th certificate
//	tls_ocsp_refresh         -tls-ocsp-refresh         false              fetch fresh staples from the OCSP responder while running
//	tls_advertise_hosts      -tls-advertise-hosts      "*"                clients offered STARTTLS (only with a certificate)
//	tls_min_version          -tls-min-version          "1.2"              lowest inbound TLS version, "1.2" or "1.3"
//	auth_users_file          -auth-users-file          ""                 users and password hashes for SMTP AUTH; "": no AUTH
//	auth_plaintext_loopback  -auth-plaintext-loopback  false              also offer AUTH without TLS to loopback clients
//	auth_max_failures        -auth-max-failures        5                  failed AUTHs per client IP in the window before AUTH is refused
//	auth_failure_window      -auth-failure-window      "5m"               window in which auth_max_failures count
//	spamd                    -spamd                    ""                 spamd host:port; scan every message (bmi)
//	optin                    -optin                    []                 "ADDR=feature:feature": a recipient's bmi opt-in (spamd profile)
//	spamd_alt_location       -spamd-alt-location       "Junk"             maildir folder for what spamd judges spam
//	spamd_defer_ok           -spamd-defer-ok           false              deliver unscanned when spamd fails (defer_ok); false: 451
//	spamd_none_score         -spamd-none-score         0.0                spamd score from which a message is not delivered; 0: never
//	dccifd                   -dccifd                   ""                 dccifd address: "/socket", "host port" or host:port
//	dcc_defer_ok             -dcc-defer-ok             false              accept the message when DCC cannot decide
//	dmarc_enforce            -dmarc-enforce            false              act on DMARC: 550 p=reject, 451 temperror, .Junk quarantine
//	dmarc_mode               -dmarc-mode               "rfc7489"          DMARC discovery and words: rfc7489 (PSL) or rfc9989 (DNS tree walk)
//	dmarc_history            -dmarc-history            ""                 DMARC history file (dmarc_history_file)
//	dmarc_history_redis      -dmarc-history-redis      false              keep the DMARC history in redis instead; not with dmarc_history
//	dmarc_report_interval    -dmarc-report-interval    "0s"               send DMARC aggregate reports (RFC 9990) every interval (24h: daily, 00:00 UTC); 0: none; needs spool
//	dmarc_report_org_name    -dmarc-report-org-name    ""                 org_name of the DMARC reports; "": hostname
//	dmarc_report_email       -dmarc-report-email       ""                 From: and contact of the DMARC reports; required with an interval
//	tlsrpt                   -tlsrpt                   false              record outbound TLS results, send daily TLS reports (RFC 8460); needs spool
//	tlsrpt_org_name          -tlsrpt-org-name          ""                 organization-name of the TLS reports; "": hostname
//	tlsrpt_email             -tlsrpt-email             ""                 From: and contact-info of the TLS reports; required with tlsrpt
//	report_inbox             -report-inbox             ""                 local address whose mail is also parsed as DMARC/TLS reports
//	report_store             -report-store             ""                 directory of the parsed reports (JSON); required with report_inbox
//	event_exec               -event-exec               ""                 command (/bin/sh -c) run per event, JSON on stdin
//	event_webhook            -event-webhook            ""                 URL each event is POSTed to as JSON
//	relay_from               -relay-from               ""                 clients that may relay to non-local domains; needs spool
//	spool                    -spool                    ""                 queue directory for outbound mail; "": none
//	smtp_port                -smtp-port                25                 port of remote SMTP servers
//	smtp_timeout             -smtp-timeout             "5m"               outbound connect and command timeout
//	retry_interval           -retry-interval           "15m"              first retry delay, doubled per attempt up to an hour
//	retry_max_age            -retry-max-age            "96h"              age at which deferred recipients fail
//	delay_warning            -delay-warning            "0s"               age at which one delay DSN is sent; 0: never
//	max_deliveries           -max-deliveries           100                outbound deliveries at once (default_process_limit)
//	max_deliveries_per_destination -max-deliveries-per-destination 20     outbound deliveries at once to one domain
//	connection_max_messages  -connection-max-messages  500                messages on one outbound connection (connection_max_messages)
//	connection_idle_timeout  -connection-idle-timeout  "2s"               how long a kept outbound connection waits for the next message
//	dane_require             -dane-require             ""                 hosts_require_dane
//	dane_try                 -dane-try                 "*"                hosts_try_dane
//	ocsp_request             -ocsp-request             ""                 hosts_request_ocsp; "": "*" when ocsp_require is set
//	ocsp_require             -ocsp-require             ""                 hosts_require_ocsp
//	mta_sts                  -mta-sts                  false              apply MTA-STS policies (RFC 8461) where DANE does not; needs spool
//	mta_sts_cache            -mta-sts-cache            ""                 file of the cached MTA-STS policies; "": <spool>/db/mta-sts
//	forward                  -forward                  []                 "local@domain=remote@other", sender SRS-rewritten; needs spool, srs_secret
//	srs_secret               -srs-secret               []                 SRS secrets; the first signs, all verify
//	srs_domain               -srs-domain               ""                 SRS domain; "": the first of domains
//	srs_redis                -srs-redis                ""                 Redis host:port or /socket for SRS database mode; needs srs_secret
//	srs_redis_timeout        -srs-redis-timeout        "2s"               timeout of each Redis operation
//	srs_redis_prefix         -srs-redis-prefix         "mailpolicy:srs:"  Redis key prefix for SRS database mode
//	redis                    -redis                    ""                 Redis URL shared by a cluster: SRS database, rate limits, DMARC history
//	redis_timeout            -redis-timeout            "2s"               timeout of each redis operation
//	redis_prefix             -redis-prefix             "mailpolicy:"      key prefix of the rate limits and DMARC history in redis
//	ratelimit_conn           -ratelimit-conn           ""                 Exim ratelimit rule "m / p [/ strict]": connections per client IP
//	ratelimit_mail           -ratelimit-mail           ""                 the same for messages per client IP or authenticated user
//	ratelimit_rcpt           -ratelimit-rcpt           ""                 the same for recipients per client IP or authenticated user
//	ratelimit_data           -ratelimit-data           ""                 the same for message bytes (per_byte, at the end of DATA)
//
// # DKIM signing
//
// Outbound mail is signed as by an Exim smtp transport with dkim_*
// options, one entry of the dkim array of tables per signing domain
// (none by default):
//
//	[[dkim]]
//	domain = "example.org"                   # dkim_domain
//	selectors = [                            # dkim_selector, dkim_private_key
//	  {selector = "rsa1", private_key = "/etc/mta/dkim/rsa1.pem"},
//	  {selector = "ed1", private_key = "/etc/mta/dkim/ed1.pem"},
//	]
//	canon = "relaxed"        # dkim_canon: relaxed, simple, or header/body
//	hash = "sha256"          # dkim_hash: sha256, sha1 or sha512
//	identity = ""            # dkim_identity (i=): [local-part]@domain
//	sign_headers = ""        # dkim_sign_headers; "": dkim.DefaultSignHeaders
//	timestamps = "0s"        # dkim_timestamps: t= and x=; "0s": none
//	strict = false           # dkim_strict: defer rather than send unsigned
//
// The flags -dkim-domain, -dkim-selector and -dkim-private-key, given
// together, make one selector the only one of that domain's entry
// (added when the file has none, keeping the file's other keys when it
// has). Validate checks each entry with the dkim package's rules and
// that the key files are readable; DKIM.SignerConfig gives the entry
// to dkim.NewSigner.
//
// # Exim names
//
// TLS keys are Exim's main options: tls_certificate and tls_privatekey
// (here lists, one per certificate), tls_ocsp_file (Exim list syntax,
// ocsp.ParseFileList), tls_advertise_hosts (Exim's default is "*"; Exim
// then falls back to a self-signed certificate, while here without a
// certificate STARTTLS is never offered). The outbound host lists are
// the smtp transport's hosts_try_dane, hosts_require_dane,
// hosts_request_ocsp and hosts_require_ocsp; PROXY is hosts_proxy;
// max_sessions and max_sessions_per_host are smtp_accept_max and
// smtp_accept_max_per_host.
package config
