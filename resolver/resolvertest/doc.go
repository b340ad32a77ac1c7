// Package dnstest runs an in-process authoritative DNS server on loopback
// for tests and benchmarks, so code that talks real DNS (UDP, TCP
// fallback, rcodes, timeouts, the AD bit) can be exercised without the
// network or a mock resolver.
//
// A Zone holds the records and the failures to inject; Start serves it on
// 127.0.0.1 over UDP and TCP on the same port.
//
// Only names explicitly added exist: a query for any other name gets
// NXDOMAIN, even when it is a parent of an added name (no empty
// non-terminals are inferred). This is deliberate and matches the test
// harness of pyspf, whose RFC 7208 test suite describes zones the same
// way; a test that needs an empty non-terminal adds it with AddName.
package resolvertest
