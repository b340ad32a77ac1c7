package resolver

import (
	"context"
	"errors"
	"net"
	"net/netip"

	"github.com/miekg/dns"
)

// NetResolver adapts a *net.Resolver (the system's, or one with its own
// Dial) to the engines' resolver interfaces, for programs that want the
// platform's resolution (nsswitch, /etc/hosts, search rules aside: names
// are made absolute). It can never report an answer as authentic, so
// DANE never applies through it, and it has no TLSA lookups.
//
// Errors are *Error values with the same kinds as Resolver's: a
// *net.DNSError that says "not found" becomes ErrNotFound (the standard
// library does not tell NXDOMAIN from NODATA), a timeout or temporary
// one ErrTemporary, anything else ErrTemporary too, since it cannot be
// told apart from a transient failure.
type NetResolver struct {
	// R is the resolver used; nil means net.DefaultResolver.
	R *net.Resolver
}

func (n NetResolver) r() *net.Resolver {
	if n.R == nil {
		return net.DefaultResolver
	}
	return n.R
}

// LookupTXT returns the TXT records of name, one string per record.
func (n NetResolver) LookupTXT(ctx context.Context, name string) ([]string, bool, error) {
	txt, err := n.r().LookupTXT(ctx, dns.Fqdn(name))
	return txt, false, netError(name, dns.TypeTXT, err)
}

// LookupNetIP looks up A ("ip4"), AAAA ("ip6") or both ("ip").
func (n NetResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, bool, error) {
	qtype := dns.TypeA
	switch network {
	case "ip4":
	case "ip6":
		qtype = dns.TypeAAAA
	case "ip":
		qtype = dns.TypeNone
	default:
		return nil, false, &Error{Name: host, Kind: ErrPermanent, Rcode: NoRcode, Err: errors.New("unsupported network " + network)}
	}
	addrs, err := n.r().LookupNetIP(ctx, network, dns.Fqdn(host))
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	return addrs, false, netError(host, qtype, err)
}

// LookupMX returns the exchanges sorted by preference.
func (n NetResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, bool, error) {
	mxs, err := n.r().LookupMX(ctx, dns.Fqdn(name))
	for _, mx := range mxs {
		mx.Host = trimDot(mx.Host)
	}
	return mxs, false, netError(name, dns.TypeMX, err)
}

// LookupAddr returns the PTR names of addr.
func (n NetResolver) LookupAddr(ctx context.Context, addr netip.Addr) ([]string, bool, error) {
	names, err := n.r().LookupAddr(ctx, addr.Unmap().String())
	for i, s := range names {
		names[i] = trimDot(s)
	}
	return names, false, netError(addr.String(), dns.TypePTR, err)
}

// LookupCNAME returns the canonical name of host.
func (n NetResolver) LookupCNAME(ctx context.Context, host string) (string, bool, error) {
	cname, err := n.r().LookupCNAME(ctx, dns.Fqdn(host))
	if err != nil {
		return trimDot(host), false, netError(host, dns.TypeCNAME, err)
	}
	return trimDot(cname), false, nil
}

// ErrUnsupported is the cause of the error NetResolver.LookupTLSA
// returns: the standard library cannot ask for TLSA records.
var ErrUnsupported = errors.ErrUnsupported

// LookupTLSA always fails with ErrPermanent (cause ErrUnsupported).
func (n NetResolver) LookupTLSA(ctx context.Context, name string) ([]TLSA, bool, error) {
	return nil, false, &Error{Name: name, Type: dns.TypeTLSA, Kind: ErrPermanent, Rcode: NoRcode, Err: ErrUnsupported}
}

// netError classifies the standard library's errors.
func netError(name string, qtype uint16, err error) error {
	if err == nil {
		return nil
	}
	e := &Error{Name: trimDot(name), Type: qtype, Kind: ErrTemporary, Rcode: NoRcode, Err: err}
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		e.Kind = ErrNotFound
	}
	return e
}
