package dane

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mailpolicy/mailpolicy/resolver"
)

// Resolver is the DNS access DANE needs. Each method reports whether the
// answer was DNSSEC-authenticated (AD from a trusted validating
// resolver); for NXDOMAIN and NODATA errors, authentic means an
// authenticated denial.
//
// Errors are classified with errors.Is: ErrNotFound and ErrNoData (no
// records), ErrBogus (the resolver answered SERVFAIL), ErrPermanent and
// ErrTemporary. Any other error counts as temporary.
//
// Names are passed without a trailing dot.
type Resolver interface {
	// LookupTLSA returns the TLSA records at name, following CNAMEs.
	LookupTLSA(ctx context.Context, name string) (rrs []TLSA, authentic bool, err error)
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
	resolver   Resolver
	nameserver string
	timeout    time.Duration
}

func newConfig(opts []Option) *config {
	c := &config{timeout: resolver.DefaultTimeout}
	for _, o := range opts {
		o(c)
	}
	return c
}

// WithResolver makes the engine use r for every DNS query.
func WithResolver(r Resolver) Option { return func(c *config) { c.resolver = r } }

// WithNameserver sends queries to addr ("host:port", or a host for port
// 53) instead of the /etc/resolv.conf nameservers. AD bits are believed
// only from a loopback address. Ignored when WithResolver is given.
func WithNameserver(addr string) Option { return func(c *config) { c.nameserver = addr } }

// WithTimeout bounds each whole query of the built-in DNS client, retries
// and TCP fallback included.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

func (c *config) dnsResolver() (Resolver, error) {
	if c.resolver != nil {
		return c.resolver, nil
	}
	cl, err := resolver.ForEngine(c.nameserver, c.timeout)
	if err != nil {
		return nil, fmt.Errorf("dane: %w", err)
	}
	return clientResolver{cl}, nil
}

// clientResolver adapts the internal DNS client.
type clientResolver struct{ c *resolver.Resolver }

func (r clientResolver) LookupTLSA(ctx context.Context, name string) ([]TLSA, bool, error) {
	resp, err := r.c.Query(ctx, name, dns.TypeTLSA)
	auth := resp != nil && resp.Authentic
	if err != nil {
		return nil, auth, classify(err)
	}
	var out []TLSA
	for _, rr := range resp.Answer {
		if t, ok := rr.(*dns.TLSA); ok {
			if rec, ok := tlsaFromRR(t); ok {
				out = append(out, rec)
			}
		}
	}
	return out, auth, nil
}

func (r clientResolver) LookupCNAME(ctx context.Context, host string) (string, bool, error) {
	resp, err := r.c.Query(ctx, host, dns.TypeA)
	if resp == nil {
		return host, false, classify(err)
	}
	name := dns.Fqdn(host)
	if resp.Msg != nil {
		for range 8 {
			next := ""
			for _, rr := range resp.Msg.Answer {
				if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, name) {
					next = c.Target
				}
			}
			if next == "" {
				break
			}
			name = next
		}
	}
	if err != nil && !resolver.IsNoRecord(err) {
		return host, false, classify(err)
	}
	return strings.TrimSuffix(name, "."), resp.Authentic, nil
}

func (r clientResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, bool, error) {
	addrs, auth, err := r.c.LookupNetIP(ctx, network, host)
	return addrs, auth, classify(err)
}

// classify adds ErrBogus to SERVFAIL errors.
func classify(err error) error {
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
	r, err := newConfig(opts).dnsResolver()
	if err != nil {
		return nil, false, err
	}
	secure = true
	var firstErr error
	for _, nw := range []string{"ip4", "ip6"} {
		a, auth, err := r.LookupNetIP(ctx, nw, host)
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
