// Command mta is the inbound side of mailpolicy's reference MTA: a small
// SMTP receiver that wires the policy packages together the way
// the project architecture ("How a message flows") describes,
// and delivers accepted mail to a Maildir. It is meant to be run on
// loopback and read as "how to use mailpolicy" from a Go MTA.
//
// # Flow
//
//	TCP accept
//	  → proxyproto.Listener (-proxy-required / -proxy-optional): the real
//	    client address; a failed required negotiation gets Exim's QUIT-only
//	    mode (banner, then 503 to everything but QUIT, proxyproto.RefuseCommands)
//	  → banner 220, EHLO (SIZE, 8BITMIME, PIPELINING, PRDR, ENHANCEDSTATUSCODES)
//	  → MAIL: prdr.ParseMailParams (PRDR, SIZE, BODY); spf.Check with the
//	    client IP, HELO and sender; the Outcome is kept for DMARC
//	  → RCPT: local domains only (550 5.7.1 relay, 550 5.1.1 unknown user
//	    with -users); bmi opt-in per recipient (Envelope.BeginRcpt,
//	    SetOptIn, AddRecipient, RejectRcpt)
//	  → DATA: dot-unstuffing, -max-size (552), 998-character lines (554)
//	  → dmarc.VerifyDKIM + dmarc.Evaluate with the SPF outcome
//	    (-dmarc-enforce: 550 on reject, 451 on temperror, quarantine to
//	    .Junk; -dmarc-history appends Exim's history block)
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
//	  → delivery: one file per accepted recipient, written and fsynced in
//	    tmp/, renamed into new/, before the reply is sent (451 on failure)
//	  → events: msg:delivery per recipient, msg:complete per message,
//	    smtp:fail:syntax / smtp:fail:protocol (events.SyntaxFailEvent) per
//	    error, on an events.Bus with the -event-exec / -event-webhook sinks.
//
// Headers prepended to each stored copy, top to bottom: Return-path,
// Envelope-to, Delivery-date, Received (with "with ESMTP", the id, and
// "for <rcpt>" when there is one recipient), Received-SPF (spf's
// Outcome.Received), Authentication-Results (dmarc's Outcome.ARHeader:
// spf, dkim and dmarc), the X-DCC header when DCC ran. The HELO name and
// the envelope addresses are syntax-checked before they are accepted
// (RFC 5321 domain/address-literal and mailbox syntax, printable ASCII),
// so nothing remote-controlled can start a new header line.
//
// # Session limits
//
// Every command line and every data line has its own read deadline
// (-read-timeout, 421 on expiry). Command lines are limited to 2048
// octets, text lines to 1000 with CRLF. After -max-errors syntax or
// protocol errors the session ends with 421. The message is held in
// memory, at most -max-size bytes per session. Replies are held while a
// complete command is already buffered (pipelining) and flushed before
// the server would block reading.
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
//	    [-max-size 10485760] [-max-recipients 100] [-read-timeout 5m]
//
// Flags:
//
//	-listen ADDR             address to listen on (default 127.0.0.1:2525)
//	-hostname NAME           primary host name: banner, Received, authserv-id (default: os.Hostname)
//	-domains LIST            comma-separated local domains (required)
//	-users LIST              comma-separated local parts that exist (default: any; postmaster always)
//	-maildir DIR             Maildir++ root for delivery (required)
//	-nameserver HOST:PORT    DNS server for SPF, DKIM and DMARC (default: /etc/resolv.conf)
//	-timeout D               per-query DNS timeout (default 2s)
//	-spf-localhost-pass      loopback clients pass SPF without DNS, as libspf2/Exim (default true)
//	-proxy-required LIST     Exim host list that must send a PROXY header (hosts_proxy)
//	-proxy-optional LIST     Exim host list that may send one
//	-proxy-timeout D         PROXY header read timeout (default 3s, proxy_protocol_timeout)
//	-spamd ADDR              scan every message with SpamAssassin's spamd (bmi.Spamd)
//	-optin ADDR=F:F          bmi opt-in for a recipient (the first feature is the spamd profile); repeatable
//	-spamd-alt-location NAME folder for spam (default Junk, stored as .Junk)
//	-spamd-none-score N      score at which a message is not delivered (default 0: never)
//	-dccifd ADDR             dccifd address: /socket, "host port" or host:port
//	-dcc-defer-ok            accept when DCC cannot decide (Exim's dcc = .../defer_ok)
//	-dmarc-enforce           550 for DMARC reject, 451 for temperror, quarantine to .Junk
//	-dmarc-history FILE      append Exim/OpenDMARC history blocks to FILE
//	-event-exec CMD          run CMD with /bin/sh -c for every event (JSON on stdin, EXIM_* env)
//	-event-webhook URL       POST every event as JSON to URL
//	-max-size N              message size limit in bytes (default 10 MiB)
//	-max-recipients N        recipients per message (default 100)
//	-max-errors N            syntax/protocol errors before 421 (default 10)
//	-read-timeout D          timeout for each command and data line (default 5m)
//	-shutdown-timeout D      time sessions get to finish after a signal (default 30s)
//	-log-level LEVEL         debug, info, warn or error (default info); logs go to stderr
//
// Exit status: 0 after a clean shutdown, 1 when the server cannot start
// or fails, 2 for a command-line error.
//
// Not here yet: STARTTLS, AUTH, CHUNKING/BDAT, SMTPUTF8, DSN parameters,
// outbound delivery (DANE, DSN bounces, SRS), which are later tasks.
package main
