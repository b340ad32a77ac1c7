// Package authres builds the Authentication-Results header field (RFC
// 8601) from the results of the spf, dkim and dmarc engines, as Exim's
// ${authresults {<authserv-id>}} expansion does, and removes the
// fields arriving from outside that claim to be ours (RFC 8601 §5).
//
// A Method is one method result (name=result, comment, reason=,
// properties); a caller may make its own. The builders give Exim's
// methods with Exim's texts:
//
//	Local(authservID, user)       local=pass (non-smtp, <id>) u=<user>      (authres_local)
//	FromIPrev(*iprev.Outcome)     iprev=pass (<name>) smtp.remote-ip=<ip>   (authres_iprev; IPrev from plain values)
//	Auth(mechanism, user)         auth=pass (<mechanism>) smtp.auth=<user>  (authres_smtpauth)
//	FromSPF(*spf.Outcome)         spf=pass smtp.mailfrom=<domain>           (authres_spf)
//	FromDKIM([]dkim.Result)       dkim=pass header.d= header.i= header.s= header.a= per signature (authres_dkim)
//	FromDMARC(*dmarc.Outcome)     dmarc=pass header.from=<domain>           (authres_dmarc)
//
// Build puts methods in Exim's order (local, iprev, auth, spf, dkim,
// dmarc, arc, then others) and Header.String writes the field.
//
// # The text
//
// The field is written the way Exim lays it out, each method on its
// own line ("Authentication-Results: id;\r\n\tspf=pass ...;\r\n\tdkim=..."),
// with CRLF line ends, and folded ("\r\n\t\t") at a space before a
// token that would take a line past 78 octets. Whatever the message,
// the envelope or the DNS put in the results:
//
//   - the text is 7-bit printable ASCII with CRLF only at folds, and no
//     line passes 998 octets (values are cut at 384 octets and comments
//     at 256, so a line with one token is always short enough);
//   - a value that is not a plain token (letters, digits, "-._+", and
//     one "@" in a property value) is an RFC 2045 quoted-string with '"'
//     and '\' escaped and controls, non-ASCII, ";", "(" and ")" as "?";
//   - a comment has its "(", ")", "\" and '"' escaped, controls and
//     non-ASCII as "?", and ";" as ",", Exim's own DKIM comments
//     included ("body hash mismatch, body probably ..."), since
//     go-msgauth and other parsers split results at every ";";
//   - method, result and property names keep only letters, digits,
//     "-", "_" and ".".
//
// So a DKIM d=, a PTR name or a reason can never add a line, a field, a
// method or a property.
//
// # Deliberate differences from Exim
//
//   - No methods: the field is "Authentication-Results: id; none",
//     RFC 8601's way of saying that nothing was checked, where Exim
//     writes "Authentication-Results: id" alone (not RFC 8601 syntax).
//     Header.OmitEmpty writes no field at all instead.
//   - DMARC words: RFC 7489 §11.2's by default, so "dmarc=fail" when a
//     published policy's check fails even under p=none, "permerror" for
//     no From: domain, and no dmarc method when the check was turned off.
//     WithEximDMARCWords gives Exim's "none", "temperror" and "skipped".
//     An outcome of dmarc.ModeRFC9989 gets RFC 9989's words and its
//     policy.dmarc property (see FromDMARC).
//   - SPF's libspf2 "(invalid)" is "permerror"; smtp.mailfrom=<> is
//     smtp.mailfrom="<>"; a DKIM key lookup failure is "temperror",
//     not Exim's misspelt "tmperror" (see FromDKIM).
//
// # Incoming fields
//
// RemoveOwn deletes from a header section the Authentication-Results
// fields that Claims our authserv-id (case-insensitively, through
// go-msgauth's parser and this package's own reading), and fails
// closed: a field that does not parse but starts with our id goes too.
// Exim has no such function; its documentation suggests
// "headers_remove = Authentication-Results" in an ACL, which removes
// every other server's fields as well.
package authres
