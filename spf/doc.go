// Package spf evaluates Sender Policy Framework (RFC 7208) with Exim's
// vocabulary, so a mail server can swap it in for Exim's libspf2-based
// SPF support and keep its configuration and log formats.
//
// The engine has its own record parser and evaluator: every mechanism
// and modifier, macros (including %{p} with validated names, and
// %{c}, %{r}, %{t} in explanations only), dual CIDR lengths, the limits
// of RFC 7208 §4.6.4 (10 DNS-querying terms counting include, a, mx, ptr,
// exists and redirect; 2 void lookups; 10 MX names; 10 PTR names), exp=
// explanations, and permerror for any syntax error or multiple records.
// Only TXT records are consulted; the SPF RR type is ignored.
//
// # Exim names
//
// Check and CheckGuess model Exim's "spf" and "spf_guess" ACL conditions;
// their Outcome carries the variables those conditions set:
//
//	$spf_result          Outcome.Result.String()
//	$spf_header_comment  Outcome.HeaderComment
//	$spf_received        Outcome.Received (a whole "Received-SPF:" line)
//	$spf_smtp_comment    Outcome.SMTPComment
//	$spf_used_domain     Outcome.UsedDomain
//	$spf_result_guessed  Outcome.Guessed
//
// Outcome.Variables lists them by name (as []eximvar.Variable). The
// option spf_guess is WithGuessRecord; primary_hostname (the receiving
// domain libspf2 puts in its comments) is WithReceiver; spf_smtp_comment_template is
// WithDefaultExplanation. Lookup models ${lookup{address}spf{ip}}.
// Outcome.AuthResult is the spf element of ${authresults}.
//
// Match evaluates the condition list of "spf = fail : softfail" with the
// semantics of Exim up to 4.99 (true at the first matching word, "!"
// negating one word); MatchList gives Exim 4.100's string-list
// semantics. Both accept the deprecated words err_perm and err_temp.
//
// # Differences from Exim
//
// Exim's DNS shim drops every TXT record that does not start with
// "v=spf1", so a domain's exp= text is never found and the default
// explanation is always used. This engine fetches it (RFC 7208 §6.2);
// WithExpFetch(false) restores Exim's texts. libspf2 has no void-lookup
// limit; this engine enforces RFC 7208's two. Where libspf2 reports
// "(invalid)" for some malformed records, this engine gives permerror
// (RFC 7208 §4.6); Invalid exists so that callers can still name Exim's
// word. Header comments match libspf2's byte for byte (checked against
// spfquery in the interop tests). Remote-controlled text
// (sender, HELO, explanation) never puts a control character into a
// header: controls become "?", and Received-SPF values that are not
// plain tokens are quoted. libspf2's rule that loopback clients pass
// ("localhost is always allowed.") is off by default here and needs
// WithLocalhostPass(true): a default must not turn a misconfigured
// PROXY list, which makes every client 127.0.0.1, into a pass.
//
// Header fields, the rule across mailpolicy: a string that is a whole
// field carries its name and no line end (Outcome.Received is
// "Received-SPF: ...", as Exim's $spf_received; authres.Header.String
// is "Authentication-Results: ..."), and the caller adds CRLF when it
// writes it (authres.Header.Field does). A method or value meant for
// someone else's field has no name: AuthResult is the spf method that
// package authres puts into Authentication-Results.
//
// # DNS
//
// WithResolver plugs in the DNS: normally the process's one
// *resolver.Resolver (package resolver: nameservers, whole-query timeout,
// cache), or any type with the four methods of Resolver. Without it the
// engine uses resolver.Default(), which asks the nameservers of
// /etc/resolv.conf. Outcome.Authentic reports whether every answer used
// was DNSSEC-authenticated (AD bit from a loopback resolver). DNS timeouts and
// server failures give temperror, never pass or fail; the context's
// deadline bounds the whole evaluation.
package spf
