package tlsrpt

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mailpolicy/mailpolicy/resolver"
)

// Resolver is the DNS access Lookup needs; *resolver.Resolver satisfies
// it. Errors are classified as package resolver does: errors.Is against
// resolver.ErrNotFound or resolver.ErrNoData (no record; a
// *net.DNSError with IsNotFound is understood too), anything else is a
// failure to find out.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) (txt []string, authentic bool, err error)
}

// Lookup errors. A temporary DNS failure is neither: errors.Is(err,
// ErrTemporary) (resolver.ErrTemporary) tells it apart, and so does
// ErrPermanent for a REFUSED or malformed reply. A *SyntaxError is a
// TLSRPT record that is broken.
var (
	// ErrNoRecord means the domain publishes no TLSRPT record: the name
	// does not exist, has no TXT records, or none starts with
	// v=TLSRPTv1.
	ErrNoRecord = errors.New("tlsrpt: no TLSRPT record")
	// ErrMultipleRecords means more than one TXT record starts with
	// v=TLSRPTv1; RFC 8460 §3 says the domain then does not implement
	// TLSRPT.
	ErrMultipleRecords = errors.New("tlsrpt: more than one TLSRPT record")

	ErrTemporary = resolver.ErrTemporary
	ErrPermanent = resolver.ErrPermanent
)

// Lookup finds and parses the TLSRPT record of domain, the TXT record
// at _smtp._tls.<domain> (RFC 8460 §3). TXT records not starting with
// v=TLSRPTv1 are ignored. An error from r that is not one of package
// resolver's classes is reported as ErrTemporary as well as itself, so
// that errors.Is(err, ErrTemporary) holds for every failure to find
// out, whatever resolver the caller plugs in.
func Lookup(ctx context.Context, r Resolver, domain string) (*Record, error) {
	name := "_smtp._tls." + strings.TrimSuffix(domain, ".")
	txts, _, err := r.LookupTXT(ctx, name)
	switch {
	case err == nil:
	case resolver.IsNoRecord(err):
		return nil, fmt.Errorf("%w at %s: %w", ErrNoRecord, name, err)
	case errors.Is(err, resolver.ErrTemporary), errors.Is(err, resolver.ErrPermanent):
		return nil, fmt.Errorf("tlsrpt: looking up %s: %w", name, err)
	default:
		return nil, fmt.Errorf("tlsrpt: looking up %s: %w: %w", name, ErrTemporary, err)
	}
	var found string
	n := 0
	for _, t := range txts {
		if isTLSRPT(t) {
			found = t
			n++
		}
	}
	switch n {
	case 0:
		return nil, fmt.Errorf("%w at %s", ErrNoRecord, name)
	case 1:
		return ParseRecord(found)
	default:
		return nil, fmt.Errorf("%w at %s (%d)", ErrMultipleRecords, name, n)
	}
}
