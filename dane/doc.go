// Package dane implements the client side of DANE for SMTP (RFC 7672,
// RFC 7671, RFC 6698) with the behaviour and vocabulary of Exim's smtp
// transport, so that a Go mail client can replace Exim's DANE support and
// keep its configuration, events and log words.
//
// The steps of one delivery attempt are:
//
//  1. LookupHost resolves the MX target and says whether the address
//     lookups were DNSSEC-authenticated (Exim's dnssec_used).
//  2. Policy.Check decides per host (spec §3.2-3.3): it looks up TLSA
//     records with LookupTLSA when the host is in hosts_try_dane or
//     hosts_require_dane and the address is secure, and returns a
//     Decision: DANE, no DANE, fail or defer.
//  3. Policy.Connect starts TLS on an smtp.Client (smtp.Client.StartTLS)
//     with ClientConfig, whose VerifyConnection calls Verify. Under DANE
//     there is no PKIX fallback and no clear-text retry. The caller
//     owns the client: it reads the greeting and says EHLO (raising
//     smtp:connect and smtp:ehlo through smtp.Client.OnReply), calls
//     Connect, says EHLO again over TLS and goes on with MAIL. A client
//     that speaks SMTP itself uses smtp.Client.StartTLS or its own
//     STARTTLS with ClientConfig(base, set, names) directly; base's
//     VerifyConnection then runs after DANE's, and the
//     VerifyPeerCertificate of a base that sets InsecureSkipVerify
//     before it (where the MTA raises tls:cert, as Exim does for every
//     certificate presented).
//
// # Exim names
//
//	hosts_try_dane        Policy.TryHosts (nil = "*", Exim's default)
//	hosts_require_dane    Policy.RequireHosts
//	event_action          Policy.Event, "dane:fail" with $event_data
//	                      dane-required, dnssec-invalid,
//	                      validation-failure, starttls-not-supported
//	$tls_out_dane         Session.TLSOutDane ("yes"/"no")
//	$tls_out_tlsa_usage   Session.UsageBits, TLSASet.UsageBits (0, 4, 8, 12)
//	CV= log item          Session.CV, CV ("dane", "yes", "no")
//	tlsa_lookup           LookupTLSA; its State is the row of the table
//
// # DNSSEC states
//
// LookupTLSA classifies the answer: StateSecure (records with the AD bit
// from a trusted resolver, i.e. one on loopback), StateInsecure (records
// without it), StateNone (NXDOMAIN/NODATA), StateBogus (the validating
// resolver answered SERVFAIL, which is how it reports data that fails
// validation; any SERVFAIL counts), StateFailed (REFUSED, FORMERR and
// other permanent failures) and StateTempFail (timeouts, network errors).
// Bogus and failed are Exim's "other failure" row: fail when DANE is
// required, defer when only tried. A temporary failure defers in both
// cases: DNS trouble never leads to clear text.
//
// # Verification
//
// Only DANE-TA(2) and DANE-EE(3) records are used; PKIX-TA(0) and
// PKIX-EE(1) are unusable for SMTP (RFC 7672 §3.1.3), as are unknown
// selectors and matching types. DANE-EE ignores names, dates and the rest
// of the chain. DANE-TA validates the chain from the leaf to the matching
// certificate (or to a certificate or key published in the record),
// including dates, and checks the leaf's names against the TLSA base
// domain and the original host name; a wildcard matches one label.
//
// # Differences from Exim
//
// Exim (OpenSSL) also treats a set without usable records as a TLS
// failure; Decide defers such a host before connecting instead. After a
// CNAME, Exim's reference identifier is the connect host name only; this
// package also accepts the CNAME-expanded base domain (RFC 7672 §3.2.2).
package dane
