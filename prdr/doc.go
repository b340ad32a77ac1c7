// Package prdr implements SMTP Per-Recipient Data Responses
// (draft-hall-prdr-00) on both sides of a connection, with Exim's
// behaviour and texts, so that a Go MTA can interoperate with Exim's
// prdr_enable server and its hosts_try_prdr client.
//
// The package speaks SMTP through package smtp (replies, EHLO
// extensions, MAIL parameters, the client) and is not tied to an SMTP
// server framework: the server side writes to any io.Writer.
//
// # Server
//
// Advertise Keyword ("PRDR") in the EHLO reply and parse the MAIL
// parameters with smtp.ParseMailParams; smtp.MailParams.PRDR says
// whether the client asked for PRDR. When the message body has been
// received (after the dot of DATA or after BDAT ... LAST), call Respond
// with the recipients accepted at RCPT time and a DecideFunc. If PRDR was
// requested and more than one recipient remains, Respond writes
//
//	353 PRDR content analysis beginning
//	<one reply per recipient, in RCPT order>
//	<the final reply>
//
// and otherwise a single ordinary reply. The per-recipient replies carry
// Exim's default texts ("250 PRDR R=<addr> acceptance", "450 PRDR
// R=<addr> temporary refusal", "550 PRDR R=<addr> refusal") unless the
// Decision supplies its own text, code and enhanced status code.
// Outcome.Accepted lists the recipients the MTA must deliver to.
//
// # Client
//
// smtp.Extensions.Has(Keyword) checks an EHLO reply for the keyword;
// MailSuffix says whether to add the parameter to MAIL (only with two
// or more recipients, as Exim); Combine turns the end-of-data replies
// of smtp.Client.Data or BDAT into a Status per recipient with Exim's
// rules, and ReadDataReplies does the same for a client that reads the
// replies itself. Send is one whole transaction (EHLO, MAIL, RCPT,
// DATA or BDAT, QUIT) on an smtp.Client, configured with With…
// options. Package prdrtest has an in-process server for tests.
//
// # Differences from Exim
//
// Exim 4.96 computes the final reply of the PRDR block with bit
// operations on ACL results, so that a message deferred for every
// recipient, or deferred for some and refused for the others, gets
// "250 ... accepted for some recipients" although no recipient took it,
// a message discarded for every recipient gets "550 ... rejected for all
// recipients" although each recipient was told 250, and an overall 4xx
// is never sent. FinalReply derives the reply from the verdicts instead:
// 250 when any recipient accepted, else 450 when any deferred, else 550.
// There is no discard verdict here: a recipient is accepted or not.
//
// Exim's server ignores the PRDR MAIL parameter silently when
// prdr_enable is false; a server using this package without advertising
// PRDR should do the same and pass Transaction.Requested as false.
// smtp.ParseMailParams rejects a PRDR parameter with a value or given
// twice, which Exim accepts.
//
// Exim's client matches the EHLO keyword case-sensitively;
// smtp.Extensions, like RFC 5321, ignore case. Exim treats an I/O error inside the PRDR block
// as a failure of the remaining addresses; Combine defers every
// recipient instead, since the message may or may not have been taken.
package prdr
