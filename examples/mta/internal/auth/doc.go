// Package auth is the server side of SMTP AUTH (RFC 4954) for the
// reference MTA: a users file of password hashes, the PLAIN (RFC 4616)
// and LOGIN SASL mechanisms, a per-client limit on failed attempts, and
// the small decisions around them (when AUTH may be offered, AUTH= on
// MAIL, the Authentication-Results method). The SMTP session owns the
// AUTH verb, the TLS state, relaying and events; it calls this package.
//
// # Concept
//
// In Exim the same job is done by authenticators (the plaintext driver
// with public_name PLAIN or LOGIN, server_prompts and a
// server_condition checking the password), restricted by
// server_advertise_condition and auth_advertise_hosts, with
// $authenticated_id and $authenticated_sender recorded for the rest of
// the session. Here:
//
//	plaintext authenticators       Start, Exchange (PLAIN, LOGIN)
//	server_condition               Users.Authenticate, against LoadUsers' file
//	server_set_id, $authenticated_id  Credentials.Authcid
//	server_advertise_condition     Permitted (TLS, or loopback if allowed)
//	acl_smtp_mailauth              the trust argument of MailAuthSender
//	$authenticated_sender          MailAuthSender's result
//	${authresults} auth method     ARMethod
//	(no Exim equivalent)           Limiter, failed attempts per client
//
// # Users file
//
// One "name:hash" per line; blank lines and "#" comments ignored; hash
// bcrypt ($2a$, $2b$, $2y$) or argon2id in PHC form. HashPassword makes
// either, for an operator subcommand. Names are compared byte for byte,
// case-sensitively. The file is stat'ed on every Authenticate and
// reloaded when it changed; while a changed file cannot be loaded,
// Authenticate fails with ErrUsersUnavailable (not the old table).
// Replace the file by rename.
//
// # How the session uses it
//
// EHLO lists "AUTH " + Mechanisms only when Permitted(tls, client,
// allowPlaintextLoopback). On AUTH <mech> [initial-response]:
//
//  1. Already authenticated, or inside a mail transaction: 503 5.5.1.
//  2. Not Permitted: 538 5.7.11 (encryption required).
//  3. Limiter.Allowed(client) false: 454 4.7.0 (or close the
//     connection); no exchange is run.
//  4. Start, then while !Done: send "334 " + Challenge(), read a line,
//     Next(line). Errors map to replies as below.
//  5. Users.Authenticate(cred.Authcid, cred.Password): true gives 235
//     2.7.0, Limiter.Succeeded, and the session records the user and
//     mechanism; false gives 535 5.7.8 and Limiter.Failed; an error
//     (ErrUsersUnavailable) gives 454 4.7.0 and counts nothing.
//
// An authenticated client may relay (Exim's "accept authenticated = *"
// in acl_smtp_rcpt). Its AUTH= on MAIL goes through MailAuthSender; the
// DATA stage adds ARMethod(mechanism, user, sender) to the
// Authentication-Results header (authres.Build).
//
// # Reply codes (RFC 4954 §4, §6)
//
//	235 2.7.0   authentication succeeded
//	334         challenge (base64; empty for PLAIN without initial response)
//	454 4.7.0   temporary failure: ErrUsersUnavailable, Limiter refused
//	500 5.5.6   ErrTooLong: exchange line too long
//	501 5.5.2   ErrMalformed: cannot base64-decode, or unusable content
//	501 5.7.0   ErrCancelled: the client sent "*" (the RFC requires 501;
//	            5.7.0 is the enhanced code it leaves open, as Postfix uses)
//	503 5.5.1   AUTH when already authenticated or in a transaction
//	504 5.5.4   ErrUnsupportedMechanism
//	535 5.7.8   credentials invalid; also ErrAuthzid (no proxy authorization)
//	538 5.7.11  encryption required (not Permitted)
//
// The session defines the texts; Exim's for 535 is "Incorrect
// authentication data".
//
// # auth:fail
//
// When an AUTH command whose mechanism was recognised does not end in
// 235 (credentials refused, cancelled, bad base64, temporary failure),
// Exim raises the auth:fail event on the main event_action with
// $event_data the SMTP reply text it sent and $sender_host_authenticated
// temporarily the authenticator's name; a non-empty result of the
// expansion replaces the default log line, written to the main and
// reject logs. With package events that is Bus.Raise of
// events.Event{Name: events.AuthFail, Inbound: true, Data: <reply line>,
// Authenticator: ex.Mechanism()}, and EffectReplaceLog on the decision.
// Refusals before an exchange starts (503, 504, 538, the Limiter's 454)
// raise nothing: no authenticator ran.
package auth
