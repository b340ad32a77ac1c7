package spf_test

import (
	"context"
	"net"
	"net/netip"
	"strings"

	"github.com/mailpolicy/mailpolicy/spf"
)

// memZone is an in-memory DNS zone that answers both spf.Resolver (this
// engine) and blitiri.com.ar/go/spf's DNSResolver from the same data.
//
// Every answer is a slice built once by the memZone constructor and
// returned as is, and every error is a preallocated value, so a lookup
// costs one map access and allocates nothing: the benchmarks then measure
// the SPF engines, not the resolver. Callers must not modify what they
// are given (neither engine does).
//
// Names are looked up as given, less one trailing dot; keys are
// lower-case, and a name with upper-case letters is lowered (the only
// allocating path, not taken by the benchmarks).
type memZone struct {
	txt  map[string][]string
	a    map[string][]netip.Addr
	aaaa map[string][]netip.Addr
	ip   map[string][]net.IPAddr // A then AAAA, for LookupIPAddr
	mx   map[string][]*net.MX
	ptr  map[netip.Addr][]string // by address, for spf.Resolver
	ptrS map[string][]string     // by address text, for blitiri
	// exists holds every name that owns at least one record, so that a
	// missing type is NODATA rather than NXDOMAIN.
	exists map[string]bool

	// Preallocated errors: ours classifies with errors.Is, blitiri reads
	// *net.DNSError fields.
	nxErr *net.DNSError
}

// memRecords is the source data of a memZone.
type memRecords struct {
	TXT  map[string][]string
	A    map[string][]string // name -> IPv4 or IPv6 addresses (split by family)
	MX   map[string][]string // name -> exchanges, in preference order
	PTR  map[string][]string // address -> names
	Name []string            // names that exist without records
}

func newMemZone(src memRecords) *memZone {
	z := &memZone{
		txt:    map[string][]string{},
		a:      map[string][]netip.Addr{},
		aaaa:   map[string][]netip.Addr{},
		ip:     map[string][]net.IPAddr{},
		mx:     map[string][]*net.MX{},
		ptr:    map[netip.Addr][]string{},
		ptrS:   map[string][]string{},
		exists: map[string]bool{},
		nxErr:  &net.DNSError{Err: "no such host", Name: "memzone", IsNotFound: true},
	}
	key := func(s string) string { return strings.ToLower(strings.TrimSuffix(s, ".")) }
	for n, v := range src.TXT {
		z.txt[key(n)] = v
		z.exists[key(n)] = true
	}
	for n, v := range src.A {
		k := key(n)
		z.exists[k] = true
		for _, s := range v {
			ip := netip.MustParseAddr(s)
			if ip.Is4() {
				z.a[k] = append(z.a[k], ip)
			} else {
				z.aaaa[k] = append(z.aaaa[k], ip)
			}
		}
		for _, ip := range z.a[k] {
			z.ip[k] = append(z.ip[k], net.IPAddr{IP: ip.AsSlice()})
		}
		for _, ip := range z.aaaa[k] {
			z.ip[k] = append(z.ip[k], net.IPAddr{IP: ip.AsSlice()})
		}
	}
	for n, v := range src.MX {
		k := key(n)
		z.exists[k] = true
		for i, h := range v {
			z.mx[k] = append(z.mx[k], &net.MX{Host: h + ".", Pref: uint16(10 * (i + 1))})
		}
	}
	for a, names := range src.PTR {
		ip := netip.MustParseAddr(a)
		fq := make([]string, len(names))
		for i, n := range names {
			fq[i] = n + "."
		}
		z.ptr[ip] = fq
		z.ptrS[ip.String()] = fq
	}
	for _, n := range src.Name {
		z.exists[key(n)] = true
	}
	return z
}

// norm returns the map key for name without allocating in the common
// case of a lower-case name.
func (z *memZone) norm(name string) string {
	name = strings.TrimSuffix(name, ".")
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(name)
		}
	}
	return name
}

// voidErr is the error for a name with no records of the asked type.
func (z *memZone) voidErrOurs(name string) error {
	if z.exists[name] {
		return spf.ErrNoData
	}
	return spf.ErrNotFound
}

// --- spf.Resolver (this engine) ---

// memOurs adapts a memZone to spf.Resolver.
type memOurs struct{ z *memZone }

func (m memOurs) LookupTXT(_ context.Context, name string) ([]string, bool, error) {
	k := m.z.norm(name)
	if v, ok := m.z.txt[k]; ok {
		return v, false, nil
	}
	return nil, false, m.z.voidErrOurs(k)
}

func (m memOurs) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, bool, error) {
	k := m.z.norm(host)
	tab := m.z.a
	if network == "ip6" {
		tab = m.z.aaaa
	}
	if v, ok := tab[k]; ok {
		return v, false, nil
	}
	return nil, false, m.z.voidErrOurs(k)
}

func (m memOurs) LookupMX(_ context.Context, name string) ([]*net.MX, bool, error) {
	k := m.z.norm(name)
	if v, ok := m.z.mx[k]; ok {
		return v, false, nil
	}
	return nil, false, m.z.voidErrOurs(k)
}

func (m memOurs) LookupAddr(_ context.Context, addr netip.Addr) ([]string, bool, error) {
	if v, ok := m.z.ptr[addr]; ok {
		return v, false, nil
	}
	return nil, false, spf.ErrNotFound
}

// --- blitiri DNSResolver ---

// memBlitiri adapts a memZone to blitiri's DNSResolver, which has the
// method set of *net.Resolver: not-found (NXDOMAIN or NODATA) is a
// *net.DNSError with IsNotFound, as net.Resolver reports it.
type memBlitiri struct{ z *memZone }

func (m memBlitiri) LookupTXT(_ context.Context, name string) ([]string, error) {
	if v, ok := m.z.txt[m.z.norm(name)]; ok {
		return v, nil
	}
	return nil, m.z.nxErr
}

func (m memBlitiri) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	if v, ok := m.z.mx[m.z.norm(name)]; ok {
		return v, nil
	}
	return nil, m.z.nxErr
}

func (m memBlitiri) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	if v, ok := m.z.ip[m.z.norm(host)]; ok {
		return v, nil
	}
	return nil, m.z.nxErr
}

func (m memBlitiri) LookupAddr(_ context.Context, addr string) ([]string, error) {
	if v, ok := m.z.ptrS[addr]; ok {
		return v, nil
	}
	return nil, m.z.nxErr
}
