package resolvertest

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// Load adds the records of an RFC 1035 master file read from r:
// $ORIGIN, $TTL, relative names, "@", parentheses and comments as the
// format allows ($INCLUDE is refused). origin is the starting $ORIGIN
// ("" for the root); file names the source in error messages.
func (z *Zone) Load(r io.Reader, origin, file string) error {
	zp := dns.NewZoneParser(r, dns.Fqdn(origin), file)
	zp.SetIncludeAllowed(false)
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		return fmt.Errorf("resolvertest: %w", err)
	}
	z.AddRR(rrs...)
	return nil
}

// ParseZone returns a zone holding the records of master-file text, for
// tests that write their DNS data as a zone file:
//
//	z, err := resolvertest.ParseZone(`
//	$ORIGIN example.com.
//	$TTL 300
//	@    IN SOA ns hostmaster 1 3600 600 86400 60
//	@    IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
//	mail IN A   192.0.2.25
//	`)
func ParseZone(text string) (*Zone, error) {
	z := NewZone()
	if err := z.Load(strings.NewReader(text), "", "zone"); err != nil {
		return nil, err
	}
	return z, nil
}

// MustParseZone is ParseZone that fails the test on an error.
func MustParseZone(tb testing.TB, text string) *Zone {
	tb.Helper()
	z, err := ParseZone(text)
	if err != nil {
		tb.Fatal(err)
	}
	return z
}
