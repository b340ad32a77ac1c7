package dmarc

import (
	"context"

	"github.com/mailpolicy/mailpolicy/resolver"
)

// Resolver is the DNS access DMARC needs: TXT records, with
// whether the answer was DNSSEC-authenticated. Errors are classified with
// errors.Is against ErrNotFound / ErrNoData (no record) and ErrTemporary;
// a *net.DNSError is understood too. Other errors count as temporary.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) (txt []string, authentic bool, err error)
}

// Error classes a Resolver reports.
var (
	ErrNotFound  = resolver.ErrNotFound
	ErrNoData    = resolver.ErrNoData
	ErrTemporary = resolver.ErrTemporary
	ErrPermanent = resolver.ErrPermanent
)

// isNoRecord reports whether a lookup error means "no such record"
// rather than a failure to find out.
func isNoRecord(err error) bool { return resolver.IsNoRecord(err) }
