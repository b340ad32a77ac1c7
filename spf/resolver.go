package spf

import (
	"context"
	"net"
	"net/netip"

	"github.com/mailpolicy/mailpolicy/resolver"
)

// Resolver is the DNS access the engine needs. Each method reports
// whether the answer was DNSSEC-authenticated.
//
// Errors are classified with errors.Is: ErrNotFound (NXDOMAIN) and
// ErrNoData (no records of the type) count as void lookups;
// ErrTemporary gives temperror. A *net.DNSError is understood too
// (IsNotFound, IsTimeout, IsTemporary), so an adapter over net.Resolver
// needs no translation. Any other error is treated as temporary.
//
// Names are passed without a trailing dot; names returned may have one.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) (txt []string, authentic bool, err error)
	// LookupNetIP looks up A ("ip4") or AAAA ("ip6") records.
	LookupNetIP(ctx context.Context, network, host string) (addrs []netip.Addr, authentic bool, err error)
	// LookupMX returns the exchanges sorted by preference.
	LookupMX(ctx context.Context, name string) (mx []*net.MX, authentic bool, err error)
	// LookupAddr returns the PTR names of addr.
	LookupAddr(ctx context.Context, addr netip.Addr) (names []string, authentic bool, err error)
}

// Error classes a Resolver reports; see Resolver.
var (
	ErrNotFound  = resolver.ErrNotFound
	ErrNoData    = resolver.ErrNoData
	ErrTemporary = resolver.ErrTemporary
	ErrPermanent = resolver.ErrPermanent
)

type dnsClass int

const (
	dnsOK dnsClass = iota
	dnsVoid
	dnsTemp
)

// classify maps a resolver error to what SPF makes of it.
func classify(err error) dnsClass {
	if err == nil {
		return dnsOK
	}
	if resolver.IsNoRecord(err) {
		return dnsVoid
	}
	return dnsTemp
}
