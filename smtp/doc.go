// Package smtp is one SMTP wire layer (RFC 5321) for the mailpolicy
// engines and for mail servers and clients built on them: replies and
// their reader, EHLO extensions, reply codes and enhanced status codes,
// path and address syntax, MAIL and RCPT parameters, DATA
// dot-stuffing, and a small client. It depends on the standard library
// only; the engines (prdr, dane) and the MTA use it for everything on
// the wire.
//
// # Replies
//
// A Reply is a code and its lines (RFC 5321 §4.2); Reply.Enhanced is
// the RFC 3463 code at the start of the first line, and EnhancedCode
// parses and formats such codes. The Reply… constants name the codes.
// A ReplyReader reads replies with Limits on the line length, the
// number of lines and the size of one reply, so a hostile peer cannot
// make a reader buffer without end. Only CRLF ends a line: a bare LF or
// CR never does, and one inside a line makes the reply malformed.
// Failures are a *ReplyError wrapping ErrMalformed, ErrLineTooLong,
// ErrReplyTooLarge or io.ErrUnexpectedEOF (a reply cut short).
//
// # Extensions, paths and parameters
//
// ParseEHLO turns an EHLO reply into Extensions with one rule for every
// keyword (the first word of a line, any case); Has, Param and Size
// answer from it. ParsePath reads the argument of MAIL FROM: and RCPT
// TO: ("<mailbox> params", the null path, source routes dropped);
// ParseMailbox, ValidDomain, ValidHelo and ParseAddressLiteral check
// the parts, in ASCII unless WithUTF8 allows RFC 6531 (SMTPUTF8)
// addresses. ParseMailParams and ParseRcptParams parse SIZE (RFC
// 1870), BODY (RFC 6152, RFC 3030), PRDR (draft-hall-prdr-00),
// SMTPUTF8 (RFC 6531), RET, ENVID, NOTIFY and ORCPT (RFC 3461, with
// xtext: DecodeXtext, EncodeXtext) and AUTH (RFC 4954), refuse a
// parameter given twice, and hand the others to the caller.
//
// # Message data
//
// A DataWriter writes a message for DATA: every line end CRLF, leading
// dots doubled, the final CRLF "." CRLF written by Close. A DataReader
// reads it on the server side, un-stuffing; its only end is CRLF "."
// CRLF (LF "." LF is data: no SMTP smuggling through it), with an
// optional size limit (ErrDataTooLarge).
//
// # Client
//
// A Client speaks to one server, one command at a time (Send, below,
// pipelines): the greeting (Greet), EHLO with a HELO fallback (Hello),
// STARTTLS with the caller's *tls.Config (StartTLS; for DANE,
// dane.ClientConfig), MAIL with parameters, RCPT, DATA (Data) or BDAT
// when CHUNKING is offered (BDAT, RFC 3030), the per-recipient replies
// of PRDR after the data (DataResponse), RSET, NOOP and QUIT. Each call takes a context whose
// deadline and cancellation apply to the connection, and every read
// and write is bounded by Client.Timeout, so a slow or silent server
// cannot hold it. A refusal is a *CommandError carrying the reply; a
// reply that does not fit the dialogue is a *ProtocolError.
// Client.OnReply sees every reply with its stage ("connect", "EHLO",
// ...), which is where a caller raises events such as Exim's
// smtp:connect and smtp:ehlo; the package itself raises none.
// Client.Limits bound every reply it reads.
//
// # Whole transactions and PIPELINING
//
// Client.Send sends one transaction in one call: an Envelope (the
// sender, MAIL parameters, the recipients and their RCPT parameters)
// and the message, with DATA or, when SendOptions.BDAT is set and the
// server offers CHUNKING, with BDAT. When the EHLO reply lists
// PIPELINING (RFC 2920) MAIL, every RCPT and DATA go in one write and
// their replies are read after it, in order: one round trip where lock
// step takes two more per recipient. DATA's 354 is read before any of
// the message is sent; when the server gives it although every RCPT was
// refused, a lone "." ends the data phase with no content, as RFC 2920
// §3.1 says. With BDAT the chunks follow the answered RCPTs and are
// pipelined too, none after a refused one (RFC 3030). Without
// PIPELINING Send goes in lock step, and sends no DATA when no
// recipient was accepted. So that a large group cannot deadlock a
// server that writes its replies as it reads (both sides blocked
// writing), at most 128 commands go unanswered. The SendResult holds
// every reply (MAIL, one per recipient, DATA, the DataResponse with the
// PRDR per-recipient replies); the error is nil when the message was
// accepted, a *CommandError for a refused MAIL, DATA, chunk or end of
// data, and ErrNoRecipients when every recipient was refused. After a
// failed Send, Reset makes the connection ready for the next; Send
// starts no transaction while one is open. Exim's smtp transport also
// puts DATA in the pipelined group rather than wait for the RCPTs.
//
// # Differences from Exim
//
// Exim's client matches EHLO keywords case-sensitively; Extensions
// ignore case, as RFC 5321 says. Exim before 4.97.1 also took LF "."
// CRLF for the end of the data (SMTP smuggling, CVE-2023-51766); a
// DataReader takes only CRLF "." CRLF.
package smtp
