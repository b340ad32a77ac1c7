package tlsrpt

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

var _ Resolver = (*resolver.Resolver)(nil)

const lookupZone = `
$ORIGIN example.com.
$TTL 300
@                 IN SOA ns hostmaster 1 3600 600 86400 60
_smtp._tls.good   IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@good.example.com,https://r.example.com/tlsrpt"
_smtp._tls.good   IN TXT "v=spf1 -all"
_smtp._tls.split  IN TXT "v=TLSRPTv1; " "rua=mailto:tlsrpt@split.example.com"
_smtp._tls.two    IN TXT "v=TLSRPTv1; rua=mailto:a@two.example.com"
_smtp._tls.two    IN TXT "v=TLSRPTv1;rua=mailto:b@two.example.com"
_smtp._tls.twobad IN TXT "v=TLSRPTv1; rua=mailto:a@twobad.example.com"
_smtp._tls.twobad IN TXT "v=TLSRPTv1; broken"
_smtp._tls.other  IN TXT "v=TLSRPTv2; rua=mailto:a@other.example.com"
_smtp._tls.other  IN TXT "hello"
_smtp._tls.bad    IN TXT "v=TLSRPTv1; rua=mailto:a@bad.example.com!10m"
_smtp._tls.nodata IN A   192.0.2.1
_smtp._tls.fail   IN TXT "v=TLSRPTv1; rua=mailto:never@fail.example.com"
_smtp._tls.slow   IN TXT "v=TLSRPTv1; rua=mailto:never@slow.example.com"
_smtp._tls.refuse IN TXT "v=TLSRPTv1; rua=mailto:never@refuse.example.com"
`

func TestLookup(t *testing.T) {
	z := resolvertest.MustParseZone(t, lookupZone)
	z.SetFault("_smtp._tls.fail.example.com", 0, resolvertest.FaultServFail)
	z.SetFault("_smtp._tls.slow.example.com", 0, resolvertest.FaultTimeout)
	z.SetFault("_smtp._tls.refuse.example.com", 0, resolvertest.FaultRefused)
	srv := resolvertest.Start(t, z)
	r, err := resolver.New(resolver.WithNameservers(srv.Addr), resolver.WithTimeout(time.Second), resolver.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	for _, c := range []struct {
		domain string
		rua    []string
	}{
		{"good.example.com", []string{"mailto:tlsrpt@good.example.com", "https://r.example.com/tlsrpt"}},
		{"Good.Example.com.", []string{"mailto:tlsrpt@good.example.com", "https://r.example.com/tlsrpt"}},
		{"split.example.com", []string{"mailto:tlsrpt@split.example.com"}},
	} {
		rec, err := Lookup(ctx, r, c.domain)
		if err != nil {
			t.Errorf("Lookup(%s): %v", c.domain, err)
			continue
		}
		if !slices.Equal(rec.RUA, c.rua) {
			t.Errorf("Lookup(%s).RUA = %q, want %q", c.domain, rec.RUA, c.rua)
		}
	}

	for _, c := range []struct {
		domain string
		is     []error
		not    []error
		syntax bool
	}{
		{"two.example.com", []error{ErrMultipleRecords}, []error{ErrNoRecord, ErrTemporary}, false},
		// Counted before parsing: one broken record still makes two.
		{"twobad.example.com", []error{ErrMultipleRecords}, []error{ErrNoRecord}, false},
		{"other.example.com", []error{ErrNoRecord}, []error{ErrTemporary, ErrMultipleRecords}, false},
		{"missing.example.com", []error{ErrNoRecord, resolver.ErrNotFound}, []error{ErrTemporary}, false},
		{"nodata.example.com", []error{ErrNoRecord, resolver.ErrNoData}, []error{ErrTemporary}, false},
		{"fail.example.com", []error{ErrTemporary}, []error{ErrNoRecord, ErrPermanent}, false},
		{"slow.example.com", []error{ErrTemporary}, []error{ErrNoRecord}, false},
		{"refuse.example.com", []error{ErrPermanent}, []error{ErrNoRecord, ErrTemporary}, false},
		{"bad.example.com", nil, []error{ErrNoRecord, ErrTemporary, ErrMultipleRecords}, true},
	} {
		rec, err := Lookup(ctx, r, c.domain)
		if err == nil {
			t.Errorf("Lookup(%s) = %+v, want an error", c.domain, rec)
			continue
		}
		for _, want := range c.is {
			if !errors.Is(err, want) {
				t.Errorf("Lookup(%s) = %v; not %v", c.domain, err, want)
			}
		}
		for _, not := range c.not {
			if errors.Is(err, not) {
				t.Errorf("Lookup(%s) = %v; is %v", c.domain, err, not)
			}
		}
		var se *SyntaxError
		if got := errors.As(err, &se); got != c.syntax {
			t.Errorf("Lookup(%s) = %v; *SyntaxError %v, want %v", c.domain, err, got, c.syntax)
		}
	}
}

// oddResolver fails with an error that is none of package resolver's.
type oddResolver struct{ err error }

func (o oddResolver) LookupTXT(context.Context, string) ([]string, bool, error) {
	return nil, false, o.err
}

func TestLookupForeignError(t *testing.T) {
	cause := errors.New("socket on fire")
	_, err := Lookup(context.Background(), oddResolver{cause}, "example.com")
	if !errors.Is(err, ErrTemporary) || !errors.Is(err, cause) || errors.Is(err, ErrNoRecord) {
		t.Errorf("Lookup with a foreign error = %v; want ErrTemporary wrapping the cause", err)
	}
}

func TestLookupCancelled(t *testing.T) {
	srv := resolvertest.Start(t, resolvertest.MustParseZone(t, lookupZone))
	r, err := resolver.New(resolver.WithNameservers(srv.Addr))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Lookup(ctx, r, "good.example.com"); !errors.Is(err, ErrTemporary) || !errors.Is(err, context.Canceled) {
		t.Errorf("Lookup with a cancelled context = %v; want ErrTemporary and context.Canceled", err)
	}
}
