// Command mta is mailpolicy's reference MTA: a small SMTP receiver that
// wires the policy packages together the way the project architecture
// ("How a message flows") describes, delivers accepted mail to a
// Maildir and, with -spool, relays, forwards and bounces through a
// queue and an SMTP client (the "Outbound" flow). It is meant to be run
// on loopback and read as "how to use mailpolicy" from a Go MTA.
//
// # Flow
//
//	TCP accept (past -max-sessions: 421 and close)
//	  → proxyproto.Listener (-proxy-required / -proxy-optional): the real
//	    client address; a failed required negotiation gets Exim's QUIT-only
//	    mode (banner, then 503 to everything but QUIT, proxyproto.RefuseCommands)
//	  → -max-sessions-per-host on that client address (421 and close)
//	  → banner 220, EHLO (SIZE, 8BITMIME, PIPELINING, PRDR, ENHANCEDSTATUSCODES)
//	  → MAIL: smtp.ParseMailParams (PRDR, SIZE, BODY); spf.Check with the
//	    client IP, HELO and sender; the Outcome is kept for DMARC
//	  → RCPT: routed (forward.go): an SRS0/SRS1 address at -srs-domain is
//	    reversed (srs.Reverse; bad hash or expired: 550 5.7.1) and routed
//	    to the original sender (a database-mode alias SRS0=HHHH=TT=1=KEY
//	    is looked up in Redis, -srs-redis; Redis failing: 451 4.3.0); a
//	    -forward address goes to its remote target; other local domains are local (550 5.1.1 unknown user
//	    with -users); other domains only from -relay-from clients (else
//	    550 5.7.1 relay); bmi opt-in per recipient (Envelope.BeginRcpt,
//	    SetOptIn, AddRecipient, RejectRcpt)
//	  → DATA: only CRLF.CRLF ends it; a bare CR or LF anywhere refuses the
//	    message (554 5.5.2) once it has ended; dot-unstuffing, -max-size
//	    (552), 998-character lines (554 5.6.0), -data-timeout (421),
//	    -max-data-memory (452 4.3.1)
//	  → dkim.Verify + dmarc.Evaluate with the SPF outcome
//	    (-dmarc-enforce: 550 on reject, 451 on temperror, quarantine to
//	    .Junk; 550 too for a header section with defects — a line
//	    without a colon, a bad field name, NUL, several From fields —
//	    and for a missing or unreadable From, where Exim would deliver
//	    as nofrom: RFC 7489 §6.6.1 allows it, and otherwise a defect
//	    elsewhere in the header is a way around p=reject;
//	    -dmarc-history appends Exim's history block)
//	  → dcc.Check (-dccifd; X-DCC header; 451 on defer unless -dcc-defer-ok;
//	    per-recipient R/G letters refuse/defer that recipient)
//	  → bmi scan (-spamd, bmi.Spamd; DontDeliver refuses the recipient,
//	    DeliverAlternate files it in the Maildir++ folder named after the
//	    alternate location, e.g. ".Junk")
//	  → per-recipient decisions answered by prdr.Respond: with PRDR and two
//	    or more recipients, 353 + one reply per recipient + final reply;
//	    otherwise one reply: 451 for the whole message when any recipient
//	    is deferred, and a recipient refused among others is silently
//	    discarded (Exim's bmi_dont_deliver), since there is no bounce yet
//	  → delivery: one file per accepted local recipient, written and
//	    fsynced in tmp/, renamed into new/, before the reply is sent (451
//	    on failure); remote and forwarded recipients go to the spool
//	    (one entry per envelope sender: the original one, or the SRS one
//	    for forwarded copies; when the SRS rewrite needs the Redis store
//	    and it fails, that copy is deferred, 451), also fsynced before
//	    the reply
//	  → events: msg:delivery per recipient, msg:complete per message,
//	    smtp:fail:syntax / smtp:fail:protocol (events.SyntaxFailEvent) per
//	    error, on an events.Bus with the -event-exec / -event-webhook sinks.
//
// # Outbound
//
//	queue (queue.go): -spool DIR holds ID.msg (the message as sent, our
//	  trace headers on top) and ID.env (JSON envelope: sender, arrival,
//	  attempts, next attempt, per-recipient state and last host), each
//	  written to a temporary name, fsynced and renamed; a new message
//	  never replaces a file (O_EXCL, link instead of rename; an ID whose
//	  files exist becomes ID-<random>), and Maildir names carry 64
//	  random bits beside time, PID and counter, so a restart with the
//	  same PID in the same second overwrites nothing; the runner
//	  goroutine is started by Serve and stopped by Shutdown (an attempt
//	  cut off by shutdown is retried at the next start)
//	  → per domain: MX lookup (resolver, preference order,
//	    null MX fails, no MX: the domain's A/AAAA, NXDOMAIN fails) and
//	    dane.LookupHost per host; the DNSSEC flag is MX and address
//	    lookups both authenticated
//	  → per host address, in order (deliver_remote.go): dane.Policy.Check
//	    (-dane-try, default "*", -dane-require; TLSA lookup only for
//	    DNSSEC-secure addresses; ActionFail fails the addresses,
//	    ActionDefer defers the host, dane:fail through Bus.Notify)
//	  → tcp:connect (a result refuses: host deferred, ERRNO_EVENT -58)
//	  → connect to -smtp-port; the dialogue is an smtp.Client's
//	    (replies bounded by smtp.Limits, every read and write by
//	    -smtp-timeout): greeting (not 220: host deferred),
//	    smtp:connect (BannerData; a result: QUIT, host deferred with
//	    Decision.DeferMessage, ERRNO_EXPANDFAIL -27)
//	  → EHLO (smtp:ehlo from Client.OnReply, EHLOData; HELO after a
//	    5xx), STARTTLS when offered: opportunistic without verification
//	    (Client.StartTLS; refused: clear text), or dane.Policy.Connect
//	    under DANE (no STARTTLS, a refusal or a failed check: dane:fail,
//	    host deferred); tls:cert per peer certificate from
//	    VerifyPeerCertificate, before any verification (depth from the
//	    top down, Decision.CertOutcome: refusals only count under DANE);
//	    OCSP (-ocsp-request/-ocsp-require) via ocsp.Client.Session or
//	    SessionDANE chained on VerifyConnection; EHLO again
//	  → MAIL FROM (smtp.MailParams: SIZE, PRDR as prdr.MailSuffix
//	    says), RCPT per recipient (5xx fails it; 4xx defers it:
//	    msg:rcpt:host:defer, and msg:rcpt:defer on the last host,
//	    RcptDeferErrno), DATA, prdr.Combine on the smtp.DataResponse
//	    (per-recipient status), QUIT, tcp:close
//	  → msg:delivery (data: the server's confirmation), msg:fail:delivery;
//	    for a host failure msg:host:defer, and msg:defer on the last
//	    host (DeferData); deferred recipients go to the next host, then
//	    wait: -retry-interval, doubled per attempt up to an hour;
//	    after -retry-max-age they fail ("retry timeout exceeded")
//	  → msg:complete when no recipient is left; the entry is removed
//	  → bounces (dsn.go): failed recipients get a dsninfo.Compose DSN
//	    (Reporting-MTA -hostname, Remote-MTA, X-Remote-MTA-smtp-greeting,
//	    X-Remote-MTA-helo-response, X-Exim-Diagnostic, Diagnostic-Code,
//	    RET=HDRS); once -delay-warning has passed, one delay DSN (Action
//	    delayed, Will-Retry-Until); sent to the envelope sender: into the
//	    maildir when it is local, else queued with a null sender; never
//	    for a null sender.
//
// Event order and data follow a real Exim 4.96 (events_interop_test.go):
// tcp:connect, smtp:connect, smtp:ehlo, [tls:cert..., smtp:ehlo],
// msg:rcpt:host:defer, msg:rcpt:defer, tcp:close, msg:delivery,
// msg:fail:delivery, msg:host:defer, msg:defer, msg:complete. Each
// carries the message id, router "dnslookup", transport "remote_smtp",
// host name, address and port, the domain and local part (the first
// recipient's for host events), DNSSEC, DANE and the sending address
// and port once connected.
//
// Headers prepended to each stored copy, top to bottom: Return-path,
// Envelope-to, Delivery-date, Received (with "with ESMTP", the id, and
// "for <rcpt>" when there is one recipient), Received-SPF (spf's
// Outcome.Received), Authentication-Results (package authres, from the
// spf, dkim and dmarc results), the X-DCC header when DCC ran. Incoming
// Authentication-Results fields that claim our hostname are removed
// from the message (authres.RemoveOwn, RFC 8601 §5) once DKIM has
// verified it. The HELO name and
// the envelope addresses are syntax-checked before they are accepted
// (RFC 5321 domain/address-literal and mailbox syntax, printable ASCII),
// so nothing remote-controlled can start a new header line.
//
// # Line framing and replies
//
// Only CRLF ends a line, in commands and in DATA, and only CRLF.CRLF
// ends a message, as in Postfix with smtpd_forbid_bare_newline and in
// Exim since 4.97.1 (CVE-2023-51766): a receiver that also took a bare
// LF for a line end would let "<LF>.<LF>" that a relay passes as data
// end the message there, and what follows run as commands of a second,
// forged message (SMTP smuggling). A command line with a bare CR or LF
// in it is refused whole (500 5.5.2 "bare <LF> received", counted
// towards -max-errors); a message with one is read to its real end and
// refused (554 5.5.2), so a bare LF can neither split a header field in
// two nor smuggle anything.
//
// Every reply line goes through one filter (session.replyLine): it is
// 7-bit printable, whatever part of the client's input the text
// carries (a tab becomes a space; CR, LF, other controls, DEL and each
// character of 8-bit or invalid UTF-8 text become '?'), and at most 512
// octets with its CRLF (RFC 5321 §4.5.3.1.5). PRDR's per-recipient
// replies take the same filter.
//
// # Session limits
//
// Every command line and every data line has its own read deadline
// (-read-timeout, 421 on expiry; Exim's smtp_receive_timeout), and a
// whole DATA transfer has -data-timeout (default 15m; Exim has no such
// limit), so a client dripping one line per read timeout is still cut
// off (421 4.4.2). Command lines are limited to 2048 octets, text lines
// to 1000 with CRLF. After -max-errors syntax or protocol errors the
// session ends with 421. Replies are held while a complete command is
// already buffered (pipelining) and flushed before the server would
// block reading.
//
// How many sessions there may be, with Exim's names:
//
//	Exim's name               flag / Config field                          default  Exim's default
//	smtp_accept_max           -max-sessions / MaxSessions                  100      20
//	smtp_accept_max_per_host  -max-sessions-per-host / MaxSessionsPerHost  20       unset (none)
//
// A connection past -max-sessions gets "421 4.3.2 ... Too many
// concurrent SMTP connections; please try again later" at accept and is
// closed. The per-host count is on the client's IP address: the PROXY
// source when the connection came through a proxy (so clients behind one
// proxy are counted apart), the TCP peer otherwise; past it the client
// gets 421 instead of the banner. -1 disables either limit.
//
// The message being received is held in memory (streaming it to disk is
// not done yet), at most -max-size bytes per session, in one buffer
// with room in front for the fields we add, so each stored copy is
// written from that buffer without another copy of the message. What
// all sessions together hold is bounded by -max-data-memory (default
// 256 MiB, or 4 × -max-size when that is larger; at least 2 × (-max-size
// + 8 KiB), since a growing buffer briefly exists twice): buffers are
// reserved from it as they grow, a MAIL SIZE= larger than what is free
// gets 452 4.3.1 (so does DATA when not even a first 24 KiB are
// free), and a message whose buffer cannot grow is read to its
// end, dropped and answered "452 4.3.1 Insufficient system storage";
// its memory is free at once. The buffer doubles while small, then grows
// by half, and jumps to the SIZE= estimate once 1 MiB has really arrived.
// Unless GOMEMLIMIT is set, the command sets the Go runtime's soft
// memory limit to -max-data-memory × 1.25 + 64 MiB (384 MiB by default),
// so that buffers given back do not keep the process at twice the
// budget.
//
// On SIGINT or SIGTERM the listener is closed, sessions waiting for a
// command outside a transaction get 421 at once, and sessions inside a
// transaction may finish it (then get 421); after -shutdown-timeout the
// remaining connections are closed.
//
// # Usage
//
//	mta -listen 127.0.0.1:2525 -hostname mx.example \
//	    -domains example.com,example.org -maildir /var/tmp/mta-maildir \
//	    [-users alice,bob] [-nameserver 127.0.0.1:53] [-timeout 2s] \
//	    [-proxy-required 127.0.0.1] [-proxy-optional 10.0.0.0/8] \
//	    [-spamd 127.0.0.1:783 -optin alice@example.com=strict] \
//	    [-dccifd /var/dcc/dccifd] [-dcc-defer-ok] \
//	    [-dmarc-enforce] [-dmarc-history /var/tmp/dmarc-history] \
//	    [-event-exec 'cat >>/tmp/events.json'] [-event-webhook http://127.0.0.1:8080/] \
//	    [-max-size 10485760] [-max-recipients 100] [-read-timeout 5m] \
//	    [-max-sessions 100] [-max-sessions-per-host 20] [-data-timeout 15m] [-max-data-memory 268435456] \
//	    [-spool /var/tmp/mta-spool -relay-from 127.0.0.1 -smtp-port 25] \
//	    [-forward alice@example.com=alice@elsewhere.test -srs-secret S -srs-domain example.com] \
//	    [-srs-redis 127.0.0.1:6379] \
//	    [-dane-require '*.secure.test'] [-ocsp-require '*']
//
// Flags:
//
//	-listen ADDR             address to listen on (default 127.0.0.1:2525)
//	-hostname NAME           primary host name: banner, Received, authserv-id (default: os.Hostname)
//	-domains LIST            comma-separated local domains (required)
//	-users LIST              comma-separated local parts that exist (default: any; postmaster always)
//	-maildir DIR             Maildir++ root for delivery (required)
//	-nameserver HOST:PORT    DNS server for SPF, DKIM and DMARC (default: /etc/resolv.conf)
//	-timeout D               DNS timeout of each whole query, retries included (default 2s)
//	-spf-localhost-pass      loopback clients pass SPF without DNS, as libspf2/Exim (default false; Exim's is true)
//	-proxy-required LIST     Exim host list that must send a PROXY header (hosts_proxy)
//	-proxy-optional LIST     Exim host list that may send one
//	-proxy-timeout D         PROXY header read timeout (default 3s, proxy_protocol_timeout)
//	-spamd ADDR              scan every message with SpamAssassin's spamd (bmi.Spamd)
//	-optin ADDR=F:F          bmi opt-in for a recipient (the first feature is the spamd profile); repeatable
//	-spamd-alt-location NAME folder for spam (default Junk, stored as .Junk)
//	-spamd-none-score N      score at which a message is not delivered (default 0: never)
//	-spamd-defer-ok          deliver unscanned when spamd fails (default: 451, as Exim's spam condition without defer_ok)
//	-dccifd ADDR             dccifd address: /socket, "host port" or host:port
//	-dcc-defer-ok            accept when DCC cannot decide (Exim's dcc = .../defer_ok)
//	-dmarc-enforce           550 for DMARC reject, nofrom or a malformed header, 451 for temperror, quarantine to .Junk
//	-dmarc-history FILE      append Exim/OpenDMARC history blocks to FILE
//	-event-exec CMD          run CMD with /bin/sh -c for every event (JSON on stdin, EXIM_* env)
//	-event-webhook URL       POST every event as JSON to URL
//	-max-size N              message size limit in bytes (default 10 MiB)
//	-max-recipients N        recipients per message (default 100)
//	-max-errors N            syntax/protocol errors before 421 (default 10)
//	-read-timeout D          timeout for each command and data line (default 5m)
//	-max-sessions N          concurrent sessions, 421 at connect past it (smtp_accept_max; default 100, -1: none)
//	-max-sessions-per-host N concurrent sessions per client IP, PROXY source when proxied (smtp_accept_max_per_host; default 20, -1: none)
//	-data-timeout D          limit on one whole DATA transfer, 421 past it (default 15m, -1s: none)
//	-max-data-memory N       bytes all sessions may hold for message data, 452 4.3.1 past it (default 256 MiB or 4 × -max-size)
//	-shutdown-timeout D      time sessions get to finish after a signal (default 30s)
//	-log-level LEVEL         debug, info, warn or error (default info); logs go to stderr
//	-spool DIR               queue directory; without it nothing is relayed or forwarded
//	-relay-from LIST         Exim host list of clients that may relay (default none: 550 5.7.1)
//	-smtp-port N             port of remote SMTP servers (default 25)
//	-smtp-timeout D          outbound connect and per-command timeout (default 5m)
//	-retry-interval D        first retry delay, doubled per attempt up to 1h (default 15m)
//	-retry-max-age D         deferred recipients fail after this age (default 96h)
//	-delay-warning D         send one delay DSN after this age (default 0: never)
//	-dane-try LIST           hosts_try_dane (default *)
//	-dane-require LIST       hosts_require_dane (default none)
//	-ocsp-request LIST       hosts_request_ocsp (default * when -ocsp-require is given; no OCSP checks without either)
//	-ocsp-require LIST       hosts_require_ocsp
//	-forward ADDR=ADDR       forward a local address to a remote one, SRS sender; repeatable
//	-srs-secret S            SRS secret (the first signs, all verify); repeatable; needed by -forward
//	-srs-domain D            SRS domain (default: the first of -domains)
//	-srs-redis ADDR          Redis host:port or /socket: SRS database mode for overlong addresses (srsredis.go)
//	-srs-redis-timeout D     bound of each Redis operation (default 2s)
//	-srs-redis-prefix P      Redis key prefix (default "mailpolicy:srs:")
//
// Exit status: 0 after a clean shutdown, 1 when the server cannot start
// or fails, 2 for a command-line error.
//
// Not here yet: inbound STARTTLS, AUTH, CHUNKING/BDAT, SMTPUTF8, DSN
// parameters (NOTIFY, RET, ENVID, ORCPT: bounces are always RET=HDRS).
// Outbound: one delivery at a time (a slow host holds up the queue for
// at most -smtp-timeout per command), no pipelining or BDAT, no
// connection reuse, no per-host retry database (each message retries on
// its own schedule), no clear-text retry after a failed opportunistic
// TLS handshake (Exim's tls_tempfail_tryclear; here the host is just
// deferred), no PKIX verification (tls_verify_hosts), no dns:fail
// events, and IPv6 hosts are tried like IPv4 ones, without a
// preference of their own.
package main
