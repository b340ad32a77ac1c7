// Package mtasts implements the sending side of SMTP MTA Strict
// Transport Security (RFC 8461): a domain publishes that its MX hosts
// take TLS with certificates a sender can verify, and which hosts those
// are, so that an attacker on the path can neither strip STARTTLS nor
// redirect mail to a host of its own.
//
// Exim has no MTA-STS (its answer to the same threat is DANE, package
// dane); this package follows the RFC and what the senders that have it
// (Postfix with postfix-mta-sts-resolver, mox, Stalwart) do.
//
// # Discovery and fetch
//
// LookupRecord reads _mta-sts.<domain> TXT ("v=STSv1; id=...;"):
// exactly one record beginning with "v=STSv1" must be there, else the
// domain has no policy (ErrNoRecord, ErrMultipleRecords, *SyntaxError).
// Fetcher.Fetch gets https://mta-sts.<domain>/.well-known/mta-sts.txt:
// the certificate PKIX-validated for that name (Fetcher.RootCAs, the
// system roots by default), redirects never followed, only 200 with
// Content-Type text/plain, at most 64 KiB within 30 seconds; failures
// are *FetchError with a Reason that maps onto RFC 8460's result types
// (ReasonTLS: sts-webpki-invalid; ReasonPolicy: sts-policy-invalid; the
// rest: sts-policy-fetch-error). ParsePolicy reads the body: version
// STSv1, mode enforce/testing/none, max_age up to 31557600 seconds, mx
// patterns (host names or "*." plus a domain), LF or CRLF line ends.
//
// # Cache
//
// Cache.Get is the policy lookup a delivery makes (RFC 8461 §5.1): the
// TXT record is asked every time, the policy fetched only when the
// record's id differs from the cached policy's, the cached one expired
// or is a RefreshInterval (a day) old; a failed lookup or fetch leaves
// an unexpired cached policy in force. Cache.File keeps the policies
// across restarts; Cache.Refresh refreshes the due ones, and
// Cache.RefreshEvery is that background loop (examples/mta runs it
// while it serves).
//
// # Applying a policy
//
// Policy.Match says whether an MX host name is one the policy allows
// ("*.example.com" covers exactly one label). In enforce mode a sender
// uses only matching MX hosts, each over TLS with a certificate valid
// for the MX host name and chained to a trusted root, and defers when
// none works; in testing mode it delivers as without the policy and
// reports what failed (TLS-RPT, package tlsrpt); mode none is no policy.
// When DANE applies to an MX host (secure TLSA records), DANE decides
// and MTA-STS is not used for it (RFC 8461 §2). The reference MTA
// (examples/mta, internal/remote) does all of this.
package mtasts
