// Package iprev is the "iprev" check of RFC 8601 §3: does the client's
// address have a reverse (PTR) name whose forward addresses lead back to
// it? It is what Exim's host lookup computes for $sender_host_name, and
// what Exim's ${authresults} reports as its iprev method.
//
// Check looks up the PTR names of the address, then the A (IPv4 client)
// or AAAA (IPv6 client) records of each name, at most MaxNames of them
// (more are ignored, as SPF limits its PTR names to 10), and passes with
// the first name, in answer order, whose addresses include the client.
//
// Results (RFC 8601 §3; Exim's variables):
//
//	pass       a name was confirmed: $sender_host_name is it,
//	           $host_lookup_failed 0, $host_lookup_deferred 0
//	fail       no PTR records, or none of the names leads back:
//	           $sender_host_name empty, $host_lookup_failed 1
//	temperror  a query failed temporarily and no name was confirmed:
//	           $host_lookup_deferred 1 (Exim's iprev=temperror)
//	permerror  a query failed permanently (REFUSED, FORMERR, a malformed
//	           reply) and no name was confirmed; Exim has no such state
//	           and counts it as a failed lookup, so $host_lookup_failed 1
//
// A permanent DNS answer is never reported as temporary. PTR names that
// are not host names (letters, digits, hyphens and dots; a hostile zone
// can publish anything) are skipped before any forward lookup, so they
// can neither become $sender_host_name nor reach a header.
//
// DNS goes through WithResolver (a *resolver.Resolver satisfies
// Resolver), or resolver.Default() without it.
package iprev
