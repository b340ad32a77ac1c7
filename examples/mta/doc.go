// Command mta is mailpolicy's reference MTA: an SMTP server that wires
// the policy packages together the way the project architecture ("How a
// message flows") describes, delivers accepted mail to a Maildir and,
// with a spool, relays, forwards and bounces through a queue. It is
// meant to be read as "how to use mailpolicy" from a Go mail server, and
// run by an operator.
//
// # Running it
//
//	go run ./examples/mta
//
// with no arguments starts the built-in configuration: a server on
// 127.0.0.1:2525 for the test domain example.test delivering into
// ./Maildir, and prints how to send it a message. Settings come from
// the built-in defaults, then a TOML file (-config FILE), then the
// command line; every flag is a key of the file (-max-size is
// max_size). `mta -print-config` prints the effective configuration,
// the place to start one's own file; internal/config documents every
// key with its Exim name and default. The configuration is validated
// at start, all problems at once, each naming its key and where it was
// set.
//
// # What it does
//
//   - SMTP (internal/smtpd): PROXY v1/v2, session limits, only CRLF ends
//     a line, PIPELINING, SIZE, 8BITMIME, PRDR, ENHANCEDSTATUSCODES;
//     STARTTLS (tls_advertise_hosts) and implicit TLS on
//     submissions_listen with certificates chosen by SNI and OCSP
//     staples from tls_ocsp_file, refreshed in process
//     (internal/tlsconf); AUTH PLAIN and LOGIN after TLS against a file
//     of bcrypt/argon2id hashes, failures limited per client
//     (internal/auth; `mta passwd` makes the hashes).
//   - Checks (internal/checks): SPF at MAIL, routing at RCPT (local
//     users, forwarding with SRS, relaying for relay_from and
//     authenticated clients), and at the end of the message iprev,
//     DKIM, DMARC, DCC and bmi (spamd) into one decision, then
//     delivery (internal/mta): every accepted copy fsynced before the
//     reply, with Received, Received-SPF and one Authentication-Results
//     (iprev, auth, spf, dkim, dmarc); incoming fields that claim our
//     authserv-id are removed.
//   - Queue (internal/queue, internal/remote): the spool, its runner with
//     retries and bounces, remote delivery with MX, DANE, OCSP and
//     Exim's transport events; outbound DKIM signing per domain
//     ([[dkim]] entries, Exim's dkim_* options).
//   - Reports (internal/reports): DMARC aggregate reports (RFC 9990)
//     from the DMARC history every dmarc_report_interval and TLS
//     reports (RFC 8460) of the courier's sessions daily (tlsrpt), both
//     queued in the spool like any mail (TLS reports also POSTed to
//     https: destinations); reports mailed to report_inbox are parsed
//     into JSON files under report_store.
//   - Operations: one log line per message at info with the fields of
//     Exim's "<=" line; Prometheus metrics on metrics_listen
//     (internal/metrics); what a crash left in the Maildir and the
//     spool is cleaned at start.
//
// # Queue commands
//
//	mta [-config FILE] queue list          the queue, like exim -bp
//	mta [-config FILE] queue show [-body] ID
//	mta [-config FILE] queue flush [ID...] deliver now (exim -qf / -M)
//	mta [-config FILE] queue remove ID...  delete without a bounce (exim -Mrm)
//	mta [-config FILE] queue bounce ID...  fail now and bounce (exim -Mg)
//
// They are safe while the server runs: each message is worked on under
// an flock(2) lock that the server's runner takes too.
//
// Exit status: 0 after a clean shutdown or a successful command, 1 when
// the server cannot start or a command failed, 2 for a usage or
// configuration error.
package main
