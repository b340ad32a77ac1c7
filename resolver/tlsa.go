package resolver

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/miekg/dns"
)

// TLSA is one TLSA record's data (RFC 6698), as DANE uses it.
type TLSA struct {
	Usage        uint8
	Selector     uint8
	MatchingType uint8
	Data         []byte // certificate association data
}

// String gives the record in presentation format, "3 1 1 <hex>".
func (r TLSA) String() string {
	return fmt.Sprintf("%d %d %d %x", r.Usage, r.Selector, r.MatchingType, r.Data)
}

// LookupTLSA returns the TLSA records at name (for SMTP,
// "_25._tcp.<host>"), following CNAMEs. Records whose data is not valid
// hex are dropped rather than failing the lookup, so one broken record
// leaves the others usable. The bool is the answer's authentic flag,
// which DANE requires.
func (c *Resolver) LookupTLSA(ctx context.Context, name string) ([]TLSA, bool, error) {
	resp, err := c.Query(ctx, name, dns.TypeTLSA)
	if err != nil {
		return nil, authentic(resp), err
	}
	out := make([]TLSA, 0, len(resp.Answer))
	for _, rr := range resp.Answer {
		t, ok := rr.(*dns.TLSA)
		if !ok {
			continue
		}
		data, err := hex.DecodeString(t.Certificate)
		if err != nil {
			continue
		}
		out = append(out, TLSA{Usage: t.Usage, Selector: t.Selector, MatchingType: t.MatchingType, Data: data})
	}
	return out, resp.Authentic, nil
}
