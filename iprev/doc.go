// Package iprev is the "iprev" check of RFC 8601 §3 (reverse DNS,
// "forward-confirmed reverse DNS"): does the client's address have a
// PTR name whose forward addresses lead back to it? It is what Exim's
// host lookup computes for $sender_host_name, and what Exim's
// ${authresults} reports as its iprev method.
//
// Check looks up the PTR names of the address, then the A records (IPv4
// client; an IPv4-mapped IPv6 address is an IPv4 client) or the AAAA
// records (IPv6 client) of each name, and passes with the first name,
// in answer order, whose addresses include the client. At most MaxNames
// (10, SPF's PTR limit of RFC 7208 §4.6.4) names are looked up; more are
// ignored, so a zone cannot make one check cost more than 11 queries.
//
// # Results
//
// RFC 8601 §2.7.3 defines pass, fail, temperror and permerror for
// iprev; Check returns one of them (None is only the zero value):
//
//	pass       a name was confirmed: $sender_host_name is it,
//	           $host_lookup_failed 0, $host_lookup_deferred 0
//	fail       no PTR records (NXDOMAIN or NODATA), no PTR name that is
//	           a host name, or none of the names leads back (their
//	           addresses differ, or they have none): $sender_host_name
//	           empty, $host_lookup_failed 1 (Exim sets it in all these
//	           cases)
//	temperror  a query failed temporarily (timeout, SERVFAIL, the
//	           context ending) and no name was confirmed:
//	           $host_lookup_deferred 1 (Exim's iprev=temperror)
//	permerror  a query failed permanently (REFUSED, FORMERR, a malformed
//	           reply), none failed temporarily, and no name was
//	           confirmed; Exim has no such state and counts it as a
//	           failed lookup, so $host_lookup_failed 1
//
// A confirmed name wins over any failure of the other names. A
// permanent DNS answer is never reported as temporary; a temporary
// failure of one name outranks a permanent failure of another, since a
// retry might confirm it.
//
// # Exim names
//
//	$sender_host_name      Outcome.Name
//	$host_lookup_failed    Outcome.LookupFailed ("0"/"1" in Variables)
//	$host_lookup_deferred  Outcome.LookupDeferred
//	${authresults} iprev   Outcome.ARResult
//
// Outcome.Variables lists them by name (as []eximvar.Variable).
// ARResult gives Exim's text, "iprev=pass (mail.example.com)
// smtp.remote-ip=192.0.2.1"; ARResultRFC gives RFC 8601's registered
// property instead, "iprev=pass policy.iprev=192.0.2.1
// (mail.example.com)". Package authres builds whole headers.
//
// # Hostile PTR names
//
// A PTR zone belongs to whoever holds the address and can publish any
// octets. Names that are not LDH host names (letters, digits, hyphens,
// dots; see RFC 1123 §2.1) are skipped before any forward lookup, so
// they can neither become $sender_host_name nor reach a header, and
// ARResult writes only 7-bit text.
//
// # DNS
//
// WithResolver plugs in the DNS: normally the process's one
// *resolver.Resolver, or any type with the two methods of Resolver.
// Without it Check uses resolver.Default(). Outcome.Authentic reports
// whether every answer the result rests on was DNSSEC-authenticated.
// The context's deadline bounds the whole check.
package iprev
