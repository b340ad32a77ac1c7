// Package resolvertest runs an in-process authoritative DNS server on
// loopback for tests and benchmarks, so code that talks real DNS (UDP, TCP
// fallback, rcodes, timeouts, the AD bit) is exercised without the
// network or a mock resolver. mailpolicy's own tests use it; a mail
// server using mailpolicy can test its integration the same way.
//
// A Zone holds the records, from zone-file lines (Add) or whole RFC 1035
// master files (Load, ParseZone), and the failures to inject per name and
// type (SetFault: timeout, SERVFAIL, REFUSED, truncation over UDP).
// SetAuthentic sets the AD bit on every reply, as a validating resolver
// on loopback would. Start serves a zone on 127.0.0.1 over UDP and TCP on
// the same port; point a resolver at Server.Addr:
//
//	srv := resolvertest.Start(t, resolvertest.MustParseZone(t, zoneText))
//	r, err := resolver.New(resolver.WithNameservers(srv.Addr))
//
// Only names explicitly added exist: a query for any other name gets
// NXDOMAIN, even when it is a parent of an added name (no empty
// non-terminals are inferred). This is deliberate and matches the test
// harness of pyspf, whose RFC 7208 test suite describes zones the same
// way; a test that needs an empty non-terminal adds it with AddName.
// Denials carry the SOA of the nearest enclosing zone the Zone holds, so
// negative caching can be tested.
package resolvertest
