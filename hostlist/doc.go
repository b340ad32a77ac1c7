// Package hostlist matches hosts against Exim host lists, the syntax of
// options such as hosts_require_dane, hosts_request_ocsp and
// hosts_proxy. dane.Policy, ocsp.Client and proxyproto.Config take a
// *List.
//
// A list is colon-separated items; "<x" at the start makes x the
// separator instead, and a doubled separator stands for a literal one
// (so IPv6 addresses are written "<; 2001:db8::1 ; 192.0.2.0/24" or
// with doubled colons). Each item may be negated with "!":
//
//	item              matches
//	*                 every host
//	192.0.2.1         an IP address (IPv4-mapped IPv6 matches the IPv4 form)
//	192.0.2.0/24      a network, IPv4 or IPv6 CIDR
//	mx.example.com    a host name, compared without case
//	*.example.com     any name ending in ".example.com", at any depth
//	*example.com      any name ending in "example.com"
//
// The first item that matches decides: a plain item makes the host a
// member, a negated one not. A host matching no item is not a member,
// and the zero List and a nil *List match nothing.
//
// Items that need lookups (net-lsearch;..., @mx_any, +named lists) are
// not supported and make Parse fail, so that a configuration never
// silently matches less than it says.
package hostlist
