// Package smtpd is the reference MTA's SMTP server: the protocol and
// its limits, with every decision left to a Backend (as go-smtp's
// Server): MAIL, RCPT and the end of the message go to the Backend,
// whose replies the server sends. It handles the PROXY header
// (proxyproto, Exim's hosts_proxy), the session limits, STARTTLS and
// implicit TLS (RFC 3207, RFC 8314; Exim's tls_advertise_hosts), AUTH
// PLAIN and LOGIN (RFC 4954, package auth), the line framing that keeps
// SMTP smuggling out, and PRDR's per-recipient replies (prdr.Respond).
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
// # CHUNKING, DSN and SMTPUTF8
//
// All three are offered to every EHLO client (Exim's
// chunking_advertise_hosts, dsn_advertise_hosts, which Exim leaves
// unset, and smtputf8_advertise_hosts); BINARYMIME is not, so
// BODY=BINARYMIME is refused (501).
//
// BDAT (RFC 3030, bdat.go) chunks are read exactly by their size, with
// no dot-stuffing, and always read whole, also when refused (no MAIL
// or RCPT yet: 503): a chunk's octets are never taken for commands. A
// BDAT whose size is not a number gets 501 and ends the session, since
// nothing could then tell its data from commands. The message is held
// to DATA's rules across chunk boundaries (a CRLF may straddle two): a
// bare CR or LF anywhere, or a line over 998 octets, refuses it at LAST
// (554 5.5.2, 554 5.6.0); passing -max-size (552 5.3.4), the memory
// budget or the disk (452 4.3.1) ends the transaction at that chunk, and chunks
// already pipelined after it are read and answered 503. DATA after BDAT
// in one transaction is 503 too. Each read of a chunk has -read-timeout
// and the whole transfer -data-timeout, which also bounds a chunk read
// outside a transaction. At LAST the message, with a final CRLF added
// if it lacks one, goes to the Backend as after DATA, and with PRDR the
// per-recipient replies follow LAST.
//
// DSN (RFC 3461): RET and ENVID on MAIL, NOTIFY and ORCPT on RCPT are
// parsed (smtp.ParseMailParams, smtp.ParseRcptParams) and handed to the
// Backend, which keeps them for its notifications; a malformed value,
// NOTIFY=NEVER with another condition, or an ORCPT address that is not
// printable ASCII (but for RFC 6533's utf-8 type in an SMTPUTF8
// transaction) gets 501, any other RCPT parameter 555.
//
// SMTPUTF8 (RFC 6531): addresses may be UTF-8 (smtp.WithUTF8) only in a
// transaction whose MAIL carried SMTPUTF8; otherwise a non-ASCII sender
// gets 550 5.6.7 and a non-ASCII recipient 553 5.6.7 (RFC 6531 §3.5).
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
// The message being received goes, as it arrives, to a file in
// Config.TempDir (the spool's tmp/) that is unlinked as soon as it is
// created, so a crash leaves nothing behind: dot-unstuffed, with LF line
// ends (the form of Exim's spool and of Maildir; every accepted message
// had CRLF ones). Only its header section is also kept in memory, up to
// -max-header-size (Exim's header_maxsize, 1 MiB; 552 5.3.4 past it).
// The Backend reads the file back (Message.Reader, Body) and has copies
// written from it (Message.Copy: our fields, the header as it is now,
// the body copied in the kernel). -max-data-memory (default 256 MiB)
// bounds what all sessions together hold for messages in flight: each
// reserves its 32 KiB write buffer and its header copy as it grows; a
// DATA or first BDAT that finds no room gets 452 4.3.1, as does a MAIL
// SIZE= larger than the free space of the receive directory (RFC 1870)
// and a message whose file cannot be written. Unless GOMEMLIMIT is set,
// the command sets the Go runtime's soft memory limit to
// -max-data-memory × 1.25 + 64 MiB.
//
// On SIGINT or SIGTERM the listener is closed, sessions waiting for a
// command outside a transaction get 421 at once, and sessions inside a
// transaction may finish it (then get 421); after -shutdown-timeout the
// remaining connections are closed.
package smtpd
