// Package mta assembles the reference MTA: an smtpd.Server whose
// Backend (this package) asks package checks for a decision at MAIL,
// RCPT and the end of the message and then acts on it, storing every
// accepted copy durably before the reply (Maildir files for local
// recipients, spool entries for remote and forwarded ones), and the
// queue.Runner that delivers the spool through remote.Courier. The
// order is the project architecture's ("How a message flows").
//
// # Flow
//
//	TCP accept (past -max-sessions: 421 and close)
//	  → proxyproto.Listener (-proxy-required / -proxy-optional): the real
//	    client address; a failed required negotiation gets Exim's QUIT-only
//	    mode (banner, then 503 to everything but QUIT, proxyproto.RefuseCommands)
//	  → -max-sessions-per-host on that client address (421 and close)
//	  → banner 220, EHLO (SIZE, 8BITMIME, PIPELINING, STARTTLS, AUTH
//	    PLAIN LOGIN after TLS, CHUNKING, DSN, SMTPUTF8, PRDR,
//	    ENHANCEDSTATUSCODES; package smtpd)
//	  → MAIL: smtp.ParseMailParams (PRDR, SIZE, BODY, RET, ENVID,
//	    SMTPUTF8, AUTH=); spf.Check with the client IP, HELO and sender
//	    (not for an authenticated client); the Outcome is kept for DMARC
//	  → RCPT: NOTIFY and ORCPT kept with the recipient (RFC 3461)
//	  → RCPT: routed (checks.Router): an SRS0/SRS1 address at -srs-domain is
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
//	    -max-header-size (552), -max-data-memory (452 4.3.1), streamed to
//	    an unlinked file in the spool's tmp/; BDAT chunks (CHUNKING) under the
//	    same rules, the message handed on at LAST as after DATA
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
// The queue.Runner delivers one unit per destination (recipient domain)
// of each due message, up to -max-deliveries at once and
// -max-deliveries-per-destination to one domain, so a slow or dead host
// delays only its own mail; the remote.Courier streams each message from
// its spool file, keeps a connection for the next message waiting for
// the same host (-connection-max-messages, -connection-idle-timeout),
// pipelines the transaction (BDAT when offered) and skips hosts whose
// retry time, kept in the spool's db/retry (package retry, Exim's hints
// database), has not come; "mta queue flush" ignores those times.
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
package mta
