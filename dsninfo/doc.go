// Package dsninfo writes and reads delivery status notifications
// (RFC 3464 multipart/report; report-type=delivery-status, with the
// RET= choice of RFC 3461), including the extra per-recipient fields
// of Exim's EXPERIMENTAL_DSN_INFO build option.
//
// The package depends on the standard library only.
//
// # Writing
//
// Compose turns a Report into a complete message: a human-readable
// text/plain part, the message/delivery-status part and, for RET=HDRS
// or RET=FULL, the returned header (text/rfc822-headers) or message
// (message/rfc822). The per-recipient blocks follow Exim's
// send_bounce_message. For a failed recipient whose delivery went to a
// remote host (Recipient.RemoteMTA set):
//
//	Original-Recipient: rfc822;<orcpt>           (if given)
//	Action: failed
//	Final-Recipient: rfc822;<address>
//	Status: 5.0.0                                 (Recipient.Status, default 5.0.0)
//	Remote-MTA: dns; <host name>
//	Remote-MTA: X-ip; [<ip>]:<port>               (":<port>" unless 25)
//	X-Remote-MTA-smtp-greeting: X-str; <first line of the banner>
//	X-Remote-MTA-helo-response: X-str; <first line of the EHLO/HELO reply>
//	X-Exim-Diagnostic: X-str; <address message>   (name: Report.DiagnosticField)
//	Diagnostic-Code: smtp; <text after the first ": " of the message>
//
// Without a host, a failed recipient gets only the X-Exim-Diagnostic
// field after Status (no Diagnostic-Code). Delayed recipients
// (warnings) never get the extra fields; they get Remote-MTA: dns,
// Diagnostic-Code and Will-Retry-Until. The extra fields are wrapped as
// Exim's dsn_put_wrapped does (79 columns, break at the last white space
// after column 10, `\n` and newlines start an indented line, cut at
// 1023 characters); Diagnostic-Code is written as Exim's
// print_dsn_diagnostic_code does (`\n` folds, "[truncated]" after 950
// characters; see EximDiagnosticCode). Greeting and HELO response are
// cut to their first line and 128 bytes, the message to 1024 bytes, as
// in Exim's transport result pipe.
//
// No line Compose writes exceeds 998 octets (RFC 5322 §2.1.1). Where
// Exim's limits would cross that, the 998 rule wins: the default text's
// "    <message>" line (up to 1028 octets in Exim) is broken at white
// space past column 80, else hard at 998, onto lines indented alike;
// a one-line field longer than 998 is folded before white space; a
// human-readable text with a longer line is sent quoted-printable; a
// returned message with a body line over 998 is returned as its header
// (text/rfc822-headers), and one with such a header line is not
// returned. A caller's value that cannot be folded (a word too long
// for one line in From, To, Subject, Message-ID, ReportingMTA,
// OriginalEnvelopeID, FinalRecipient, OriginalRecipient, RemoteMTA or
// Status) is a *ComposeError naming the field. Field names
// (DiagnosticField, Extra) are RFC 5322 ftext of at most 76 characters
// and types and actions atoms of at most 64; anything else is a
// *ComposeError too.
//
// Report.Date, Boundary and MessageID
// default to the time and random values of a Composer (time.Now and
// crypto/rand for the package-level Compose); set them, or the
// Composer's Now and Rand, for reproducible output.
//
// # Sanitising
//
// Every value written is sanitised so that no value can add a header
// line, a recipient block or a MIME part, and the report stays 7-bit:
// CR and LF become a space in one-line fields and a fold (newline plus
// space) in the wrapped fields and Diagnostic-Code; other control
// characters except HT, and every byte of 0x80 and above, become '?'
// (RFC 6533's message/global-delivery-status is not written: an
// internationalised address goes in as Address gives it, in the 7-bit
// utf-8-addr-xtext form, and Typed.Addr reads it back). Blank continuation
// lines are never written. In the human-readable text, C0 controls
// other than HT and the line ends, DEL, C1 controls (U+0080-U+009F)
// and each byte of invalid UTF-8 become '?' (line ends become CRLF);
// the text is sent as UTF-8 quoted-printable when it is not ASCII; the
// returned message is copied with its line ends made CRLF and declared
// 8bit when it has 8-bit bytes. A Boundary found anywhere in the
// content is refused (a random one is drawn again).
//
// # Reading
//
// Parse (and Parser.Parse, with limits) reads a DSN into a Report: the
// bounce's From, To, Subject, Date and Message-ID, the human-readable
// text, the per-message and per-recipient fields (Exim's extra fields
// included; others kept in order in Extra) and the returned part. It
// is lenient, as real bounces need (the tests read the 36 RFC 3464
// samples of sisimai/set-of-emails): LF or CRLF, an mbox "From " line,
// folded fields, any case, comments after Status and Action, angle
// brackets round addresses, indented boundary lines, the report inside
// multipart/mixed or message/rfc822, and, when there is no
// message/delivery-status part at all, the fields found in the text.
// A plain-text bounce from a mailer daemon with no fields at all (Exim
// 3, old sendmail, Exchange) is read from its sentences ("Failed
// addresses follow:", "The following address(es) failed:", "Did not
// reach the following recipient: ...", "<reason>: <addr>"): its
// recipients have Action failed, no Status, and Report.PlainText says
// they were guessed from prose.
// Limits (Parser fields) bound the input size, each header block, the
// number of recipients and parts and the nesting depth. Errors are
// *ParseError values wrapping ErrNotDSN (not a DSN: no header, no
// delivery-status fields and no plain-text bounce, no recipient) or
// ErrLimit.
//
// Compose and Parse round-trip the modelled fields, with these
// normalisations: Parse returns the Diagnostic-Code that Compose
// derived from Diagnostic, port 25 for an X-ip without a port, Status
// and Action as their first word, values unfolded (a hard line break
// of a long word reads back as a space) and the returned part with LF
// line ends.
//
// # Exim names
//
//	send_bounce_message, print_dsn_addr_action  Compose, Recipient
//	dsn_put_wrapped, wrap_header(s,79,1023)      Compose (extra fields)
//	print_dsn_diagnostic_code                   EximDiagnosticCode
//	smtp_active_hostname                        Report.ReportingMTA
//	dsn_envid                                   Report.OriginalEnvelopeID
//	dsn_orcpt                                   Recipient.OriginalRecipient
//	host_used->name, ->address, ->port          Recipient.RemoteMTA, RemoteIP, RemotePort
//	addr->smtp_greeting, addr->helo_response    Recipient.Greeting, HELOResponse
//	addr->message ($address_message)            Recipient.Diagnostic
//	dsn_ret (RET=HDRS / RET=FULL)               Report.Return
//	dsn_from                                    Report.From
//
// # Differences from Exim
//
//   - The extra fields are written whenever the Recipient carries them;
//     Exim needs the EXPERIMENTAL_DSN_INFO build (Debian's lacks it)
//     and the address's pass-message flag.
//   - Values are sanitised as above; Exim copies what the remote
//     server sent, newlines and 8-bit bytes included.
//   - Wrapping breaks at the earlier of `\n` and a newline (Exim's
//     wrap_header looks for a newline only when the first backslash is
//     not followed by n), and drops blank lines; Diagnostic-Code drops
//     blank lines too. Either would otherwise end the recipient block.
//   - As in Exim, the 1023-character cap is checked before each line
//     break, so a field whose last line crosses it is not cut.
//   - Lines end in CRLF (Exim spools LF and converts on sending).
//   - No line is longer than 998 octets (see Writing); Exim writes the
//     1024-byte message on one line of its text.
//   - Exim writes no Arrival-Date or Last-Attempt-Date; Compose writes
//     them when set.
package dsninfo
