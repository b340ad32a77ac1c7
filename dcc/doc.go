// Package dcc is a client for dccifd, the interface daemon of the
// Distributed Checksum Clearinghouse, with the behaviour of Exim's
// "dcc" ACL condition (EXPERIMENTAL_DCC) and its bugs fixed.
//
// The package depends on the standard library only. Package dcctest
// has an in-process fake dccifd for tests.
//
// # Exim names
//
//	dccifd_address                 Client.Address, from ParseAddress
//	dccifd_options                 Client.Options (default "header")
//	dcc = <value>[/defer_ok]       Enabled, Client.Check, Decide
//	$dcc_result                    Result.DCCResult
//	$dcc_header                    Result.Header
//	$acl_m_dcc_override_client_ip  Request.OverrideClientIP
//	$acl_m_dcc_add_header          CheckAddHeader, Result.HeadersToAdd
//	dcc_direct_add_header          Result.HeadersToAdd (the caller adds)
//
// # Protocol
//
// Check opens one connection per message (UNIX socket or TCP), writes
// the options line, the client line (IP, then CR and the host name if
// known), the HELO line, the sender line ("<>" for the null sender),
// one line per recipient (mailbox, then CR and the local user if
// given) and an empty line, each ending in LF; then the message with
// CRLF line ends. It then half-closes the connection and reads the
// reply to EOF: the overall result letter, one letter per recipient,
// and, with the "header" option, the X-DCC header.
//
// The result letters give, as in Exim: A and S → $dcc_result "A",
// condition true (OK); R and G → "R"/"G", condition false (Fail); T →
// "T", defer. Any other reply, and any failure to reach dccifd, is an
// error, which Decide turns into a defer, or into false with defer_ok.
//
// # Differences from Exim
//
//   - The HELO line carries Request.HELO; Exim sends "HELO localhost".
//   - The client's host name is sent when known; Exim never sends it.
//     An unknown client IP sends an empty client line (dccifd then uses
//     the Received: headers); Exim sends 127.0.0.1.
//   - TCP addresses may be host names or IPv6 addresses; Exim connects
//     over IPv4 only and does not check that the name resolved.
//   - Every line of the message is sent with CRLF; Exim sends its
//     header lines with LF, the separator with CRLF and the body as
//     spooled (usually LF).
//   - Header fields marked Deleted are not sent; Exim sends them.
//   - The context bounds the exchange; Exim has no timeout at all.
//   - The per-recipient result line is kept in Result.Recipients; Exim
//     reads and ignores it.
//   - $dcc_header is limited to MaxHeader bytes (default 512) at a word
//     boundary and refolded, and dropped when it holds anything but
//     printable ASCII; Exim keeps the first 120 bytes of the reply,
//     which can cut a header mid-line, and checks only the "X-DCC"
//     prefix.
//   - A result line of more than one character, or a per-recipient
//     line that does not match the recipients sent, is a *ReplyError
//     (a defer); Exim logs the first and ignores the second.
//   - $acl_m_dcc_add_header text is checked (CheckAddHeader) before it
//     is added; Exim adds it verbatim.
//   - There is no result cache: the caller keeps the Result of the
//     first check of a message for later dcc conditions, as Exim does.
package dcc
