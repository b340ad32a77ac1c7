// Package resolver is the DNS layer every mailpolicy engine shares: a
// stub resolver on miekg/dns that tells apart what mail policy needs told
// apart, with an optional cache.
//
// The standard library resolver is not enough for mail policy: SPF must
// tell a non-existent name (NXDOMAIN) from a name without records of the
// wanted type (NODATA), because both count as "void lookups" while a
// timeout is a temperror; DANE may only act on answers a validating
// resolver vouched for (the AD bit), including authenticated denials; and
// a mail server wants one whole-query timeout, not one per attempt.
//
// New builds a Resolver: recursive queries (RD=1) with EDNS0 and the DO
// bit, over UDP with TCP when the reply is truncated, to the servers of
// WithNameservers or /etc/resolv.conf (read once, by New). WithTimeout
// bounds a whole query, every server and retry included. The AD bit is
// believed only from a server on loopback (the validating resolver should
// run on the mail host) or when WithTrustAD says the path is secure.
// Names are always absolute: no search list, no ndots.
//
// Every lookup returns, beside its records, whether the answer was
// authentic: TXT, A/AAAA (LookupNetIP with "ip4", "ip6" or "ip" for both),
// MX in preference order (NullMX recognises RFC 7505's "no mail here"),
// PTR, TLSA, and the CNAME chain (Response.CNAMEs, LookupCNAME). Query
// gives the whole Response for other types.
//
// Failures are *Error values whose Kind is ErrNotFound, ErrNoData,
// ErrTemporary or ErrPermanent, for errors.Is. A permanent answer (REFUSED,
// FORMERR, a malformed reply, an unqueryable name) is never reported as
// temporary, and a temporary one (timeout, SERVFAIL, network error,
// context cancelled) never as a denial.
//
// WithCache(entries) keeps answers for their TTL and denials for their
// RFC 2308 negative TTL, with the authentic flag, and collapses identical
// concurrent queries into one; Stats exposes the counters for metrics.
//
// *Resolver satisfies the Resolver interfaces of spf, dmarc and dane, so a
// server builds one and passes it to each engine; an engine given none
// uses Default, built once per process. NetResolver adapts a
// *net.Resolver for programs that want the system's resolver (never
// authentic). Package resolvertest serves test zones on loopback.
package resolver
