// Package dnsclient is the small DNS stub client shared by the policy
// engines (SPF, DMARC, DANE).
//
// The engines need more than the standard library resolver offers: they
// must tell a non-existent name (NXDOMAIN) from a name without records of
// the wanted type (NODATA), because SPF counts both as "void lookups" but
// treats timeouts as temperror; and DANE may only act on answers a
// validating resolver vouched for (the AD bit), including authenticated
// denials. Doing this once here keeps the error classification and the
// trust rule for AD identical across engines.
//
// The client sends recursive queries (RD=1) with EDNS0 and the DO bit to
// the configured recursive resolvers, over UDP with a fallback to TCP when
// the reply is truncated. Names are always absolute: there is no search
// list, no ndots and no caching; a caching validating resolver belongs on
// the other side of the wire (ideally on loopback, see Response.Authentic).
//
// Failures come back as *Error, whose Kind is one of ErrNotFound,
// ErrNoData, ErrTemporary or ErrPermanent so callers can branch with
// errors.Is without caring about rcodes or transport details.
package resolver
