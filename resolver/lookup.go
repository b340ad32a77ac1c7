package resolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// The Lookup methods wrap Query for the record types the engines use.
// Their bool result is Response.Authentic; it is also meaningful together
// with ErrNotFound and ErrNoData (authenticated denial of existence).
// Returned names have no trailing dot and are in miekg/dns presentation
// format (unusual octets escaped).

// LookupTXT returns one string per TXT record, its character-strings
// concatenated as SPF and DMARC require (RFC 7208 section 3.3).
func (c *Resolver) LookupTXT(ctx context.Context, name string) ([]string, bool, error) {
	resp, err := c.Query(ctx, name, dns.TypeTXT)
	if err != nil {
		return nil, authentic(resp), err
	}
	txts := make([]string, 0, len(resp.Answer))
	for _, rr := range resp.Answer {
		if t, ok := rr.(*dns.TXT); ok {
			var b strings.Builder
			for _, s := range t.Txt {
				b.WriteString(unescapeTXT(s))
			}
			txts = append(txts, b.String())
		}
	}
	return txts, resp.Authentic, nil
}

// LookupNetIP returns the addresses of host: network "ip4" asks for A
// records, "ip6" for AAAA, and "ip" for both (A first). For "ip", the
// addresses found are returned even if the other query failed, the error
// is ErrNotFound or ErrNoData only when both queries came back empty, and
// the result is authentic only when both answers were. The two queries
// run at the same time, so "ip" is bounded by one query's timeout too.
func (c *Resolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, bool, error) {
	switch network {
	case "ip4":
		return c.lookupIP(ctx, host, dns.TypeA)
	case "ip6":
		return c.lookupIP(ctx, host, dns.TypeAAAA)
	case "ip":
	default:
		return nil, false, &Error{Name: host, Type: dns.TypeNone, Kind: ErrPermanent, Rcode: NoRcode,
			Err: fmt.Errorf("unsupported network %q", network)}
	}
	var (
		v6    []netip.Addr
		auth6 bool
		err6  error
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		v6, auth6, err6 = c.lookupIP(ctx, host, dns.TypeAAAA)
	}()
	v4, auth4, err4 := c.lookupIP(ctx, host, dns.TypeA)
	<-done
	auth := auth4 && auth6
	if addrs := append(v4, v6...); len(addrs) > 0 {
		return addrs, auth, nil
	}
	if err4 == nil && err6 == nil {
		return nil, auth, nil
	}
	return nil, auth, combineIPErrors(err4, err6)
}

// combineIPErrors picks the error to report when neither the A nor the
// AAAA query produced addresses. A real failure beats an empty answer
// (the name might have addresses we could not see), and NODATA beats
// NXDOMAIN because it proves the name exists.
func combineIPErrors(err4, err6 error) error {
	rank := func(err error) int {
		switch {
		case err == nil:
			return 0
		case errors.Is(err, ErrNotFound):
			return 1
		case errors.Is(err, ErrNoData):
			return 2
		case errors.Is(err, ErrPermanent):
			return 3
		default:
			return 4
		}
	}
	if rank(err6) > rank(err4) {
		return err6
	}
	return err4
}

func (c *Resolver) lookupIP(ctx context.Context, host string, qtype uint16) ([]netip.Addr, bool, error) {
	resp, err := c.Query(ctx, host, qtype)
	if err != nil {
		return nil, authentic(resp), err
	}
	addrs := make([]netip.Addr, 0, len(resp.Answer))
	for _, rr := range resp.Answer {
		var ip net.IP
		switch rr := rr.(type) {
		case *dns.A:
			ip = rr.A.To4()
		case *dns.AAAA:
			ip = rr.AAAA.To16()
		}
		if a, ok := netip.AddrFromSlice(ip); ok {
			addrs = append(addrs, a)
		}
	}
	return addrs, resp.Authentic, nil
}

// LookupMX returns the mail exchangers of name sorted by preference,
// keeping the server's order among equal preferences. A null MX (RFC
// 7505) comes back as Host ".".
func (c *Resolver) LookupMX(ctx context.Context, name string) ([]*net.MX, bool, error) {
	resp, err := c.Query(ctx, name, dns.TypeMX)
	if err != nil {
		return nil, authentic(resp), err
	}
	mxs := make([]*net.MX, 0, len(resp.Answer))
	for _, rr := range resp.Answer {
		if mx, ok := rr.(*dns.MX); ok {
			mxs = append(mxs, &net.MX{Host: trimDot(mx.Mx), Pref: mx.Preference})
		}
	}
	slices.SortStableFunc(mxs, func(a, b *net.MX) int { return int(a.Pref) - int(b.Pref) })
	return mxs, resp.Authentic, nil
}

// LookupAddr returns the PTR names of addr's reverse name. IPv4-mapped
// IPv6 addresses are looked up under in-addr.arpa, where their PTR
// records live.
func (c *Resolver) LookupAddr(ctx context.Context, addr netip.Addr) ([]string, bool, error) {
	if !addr.IsValid() {
		return nil, false, &Error{Name: addr.String(), Type: dns.TypePTR, Kind: ErrPermanent, Rcode: NoRcode,
			Err: errors.New("invalid IP address")}
	}
	rev, err := dns.ReverseAddr(addr.Unmap().WithZone("").String())
	if err != nil {
		return nil, false, &Error{Name: addr.String(), Type: dns.TypePTR, Kind: ErrPermanent, Rcode: NoRcode, Err: err}
	}
	resp, err := c.Query(ctx, rev, dns.TypePTR)
	if err != nil {
		return nil, authentic(resp), err
	}
	names := make([]string, 0, len(resp.Answer))
	for _, rr := range resp.Answer {
		if p, ok := rr.(*dns.PTR); ok {
			names = append(names, trimDot(p.Ptr))
		}
	}
	return names, resp.Authentic, nil
}

func authentic(resp *Response) bool { return resp != nil && resp.Authentic }

// unescapeTXT undoes the presentation escaping miekg/dns applies when it
// unpacks a character-string ("\"", "\\" and "\DDD" for unprintable
// octets), so callers see the octets that were on the wire, including
// UTF-8 and literal backslashes in SPF macros.
func unescapeTXT(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch != '\\' || i+1 == len(s) {
			b = append(b, ch)
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			if v := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0'); v <= 0xff {
				b = append(b, byte(v))
				i += 3
				continue
			}
		}
		b = append(b, s[i+1])
		i++
	}
	return string(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// LookupCNAME returns the name host's CNAME chain ends at, host itself
// (without trailing dot) when it is not an alias. It asks for host's A
// records and reads the chain from that answer, as a stub resolver
// sees it; authentic covers the whole chain. A chain ending at a name
// with no addresses or no existence still reports where it ends.
func (c *Resolver) LookupCNAME(ctx context.Context, host string) (string, bool, error) {
	resp, err := c.Query(ctx, host, dns.TypeA)
	if resp == nil {
		return trimDot(host), false, err
	}
	if err != nil && !IsNoRecord(err) {
		return trimDot(host), false, err
	}
	return resp.Target(host), resp.Authentic, nil
}

// NullMX reports whether mxs, as LookupMX returned them, is a null MX
// (RFC 7505): a single record whose exchange is the root, by which a
// domain says it accepts no mail. Mail to it fails at once with 556
// 5.1.10 rather than being queued or sent to the domain's A record.
func NullMX(mxs []*net.MX) bool {
	return len(mxs) == 1 && (mxs[0].Host == "." || mxs[0].Host == "")
}
