package dane

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/mailpolicy/mailpolicy/resolver"
)

// Resolver is the DNS access DANE needs. Each method reports whether the
// answer was DNSSEC-authenticated (AD from a trusted validating
// resolver); for NXDOMAIN and NODATA errors, authentic means an
// authenticated denial.
//
// Errors are classified with errors.Is: ErrNotFound and ErrNoData (no
// records), ErrBogus or a *resolver.Error with rcode SERVFAIL (the
// resolver answered SERVFAIL), ErrPermanent and ErrTemporary. Any other
// error counts as temporary. *resolver.Resolver implements it.
//
// Names are passed without a trailing dot.
type Resolver interface {
	// LookupTLSA returns the TLSA records at name, following CNAMEs.
	LookupTLSA(ctx context.Context, name string) (rrs []resolver.TLSA, authentic bool, err error)
	// LookupCNAME returns the name host's CNAME chain ends at (host
	// itself when it is not an alias); authentic covers the whole chain.
	LookupCNAME(ctx context.Context, host string) (cname string, authentic bool, err error)
	// LookupNetIP looks up A ("ip4") or AAAA ("ip6") records.
	LookupNetIP(ctx context.Context, network, host string) (addrs []netip.Addr, authentic bool, err error)
}

// Error classes a Resolver reports; see Resolver.
var (
	ErrNotFound  = resolver.ErrNotFound
	ErrNoData    = resolver.ErrNoData
	ErrTemporary = resolver.ErrTemporary
	ErrPermanent = resolver.ErrPermanent
	// ErrBogus marks a SERVFAIL answer, which a validating resolver gives
	// for DNSSEC-bogus data (see StateBogus).
	ErrBogus = errors.New("dane: resolver answered SERVFAIL (DNSSEC bogus or server failure)")
)

// Option configures LookupTLSA, LookupHost and Policy.Check.
type Option func(*config)

type config struct {
	resolver Resolver
}

func newConfig(opts []Option) *config {
	c := &config{}
	for _, o := range opts {
		o(c)
	}
	return c
}

// WithResolver makes the engine use r for every DNS query. Without it the
// engine uses resolver.Default(), whose AD bits count only from a
// loopback nameserver; a server passes its own *resolver.Resolver.
func WithResolver(r Resolver) Option { return func(c *config) { c.resolver = r } }

func (c *config) dnsResolver() Resolver {
	if c.resolver != nil {
		return c.resolver
	}
	return resolver.Default()
}

// markBogus wraps a SERVFAIL error from any resolver so that errors.Is
// finds ErrBogus in it.
func markBogus(err error) error {
	if err == nil || errors.Is(err, ErrBogus) {
		return err
	}
	var de *resolver.Error
	if errors.As(err, &de) && de.Rcode == dns.RcodeServerFailure {
		return fmt.Errorf("%w: %w", ErrBogus, err)
	}
	return err
}

// LookupHost resolves host's addresses (A, then AAAA) and reports whether
// every answer used was DNSSEC-authenticated: Exim's dnssec_used = yes,
// the precondition for DANE (spec §3.2).
func LookupHost(ctx context.Context, host string, opts ...Option) (addrs []netip.Addr, secure bool, err error) {
	r := newConfig(opts).dnsResolver()
	secure = true
	var firstErr error
	for _, nw := range []string{"ip4", "ip6"} {
		a, auth, err := r.LookupNetIP(ctx, nw, host)
		err = markBogus(err)
		if err != nil {
			if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrNoData) && firstErr == nil {
				firstErr = err
			}
			continue
		}
		if len(a) > 0 {
			addrs = append(addrs, a...)
			secure = secure && auth
		}
	}
	if len(addrs) == 0 {
		if firstErr == nil {
			firstErr = fmt.Errorf("dane: %s: %w", host, ErrNotFound)
		}
		return nil, false, firstErr
	}
	return addrs, secure, nil
}
