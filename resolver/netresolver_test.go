package resolver

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/miekg/dns"
)

// netResolverFor is a NetResolver whose *net.Resolver (the pure Go one)
// asks the test server whatever address it meant to dial.
func netResolverFor(t *testing.T, addr string) NetResolver {
	t.Helper()
	return NetResolver{R: &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}}
}

func netZone(t *testing.T) (*resolvertest.Zone, NetResolver) {
	t.Helper()
	z, s := serve(t,
		`example.com. TXT "v=spf1 " "ip4:192.0.2.0/24 -all"`,
		`example.com. TXT "second"`,
		`example.com. MX 20 backup.example.com.`,
		`example.com. MX 10 mx.example.com.`,
		`null.example.com. MX 0 .`,
		`mx.example.com. A 192.0.2.25`,
		`mx.example.com. AAAA 2001:db8::25`,
		`v4.example.com. A 192.0.2.4`,
		`v6.example.com. AAAA 2001:db8::6`,
		`mapped.example.com. AAAA ::ffff:192.0.2.9`,
		`www.example.com. CNAME mx.example.com.`,
		`25.2.0.192.in-addr.arpa. PTR mx.example.com.`,
		`5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. PTR mx.example.com.`,
		`example.com. SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 60`,
	)
	// The answers are validated; NetResolver must still not say so.
	z.SetAuthentic(true)
	return z, netResolverFor(t, s.Addr)
}

func TestNetResolverLookups(t *testing.T) {
	_, n := netZone(t)
	ctx := ctxT(t)
	check := func(what string, got, want any, auth bool, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
		if auth {
			t.Errorf("%s: authentic through net.Resolver", what)
		}
	}

	txt, auth, err := n.LookupTXT(ctx, "example.com")
	slices.Sort(txt)
	check("TXT", txt, []string{"second", "v=spf1 ip4:192.0.2.0/24 -all"}, auth, err)

	addrs := func(ss ...string) []netip.Addr {
		var out []netip.Addr
		for _, s := range ss {
			out = append(out, netip.MustParseAddr(s))
		}
		return out
	}
	ip, auth, err := n.LookupNetIP(ctx, "ip4", "mx.example.com")
	check("ip4", ip, addrs("192.0.2.25"), auth, err)
	ip, auth, err = n.LookupNetIP(ctx, "ip6", "mx.example.com.")
	check("ip6", ip, addrs("2001:db8::25"), auth, err)
	ip, auth, err = n.LookupNetIP(ctx, "ip", "mx.example.com")
	slices.SortFunc(ip, netip.Addr.Compare)
	check("ip", ip, addrs("192.0.2.25", "2001:db8::25"), auth, err)
	ip, auth, err = n.LookupNetIP(ctx, "ip", "v4.example.com")
	// IPv4 addresses come back as such, not as IPv4-mapped IPv6.
	check("ip, A only", ip, addrs("192.0.2.4"), auth, err)
	// The standard library gives an IPv4-mapped AAAA as ::ffff:a.b.c.d;
	// NetResolver unmaps every address (Resolver keeps it IPv6).
	ip, auth, err = n.LookupNetIP(ctx, "ip", "mapped.example.com")
	check("ip, mapped AAAA", ip, addrs("192.0.2.9"), auth, err)
	ip, auth, err = n.LookupNetIP(ctx, "ip4", "www.example.com")
	check("ip4 through a CNAME", ip, addrs("192.0.2.25"), auth, err)

	mxs, auth, err := n.LookupMX(ctx, "example.com")
	check("MX", mxs, []*net.MX{{Host: "mx.example.com", Pref: 10}, {Host: "backup.example.com", Pref: 20}}, auth, err)
	mxs, auth, err = n.LookupMX(ctx, "null.example.com")
	check("null MX", mxs, []*net.MX{{Host: ".", Pref: 0}}, auth, err)
	if !NullMX(mxs) {
		t.Errorf("NullMX(%v) = false", mxs)
	}

	names, auth, err := n.LookupAddr(ctx, netip.MustParseAddr("192.0.2.25"))
	check("PTR", names, []string{"mx.example.com"}, auth, err)
	names, auth, err = n.LookupAddr(ctx, netip.MustParseAddr("::ffff:192.0.2.25"))
	check("PTR of a mapped address", names, []string{"mx.example.com"}, auth, err)
	names, auth, err = n.LookupAddr(ctx, netip.MustParseAddr("2001:db8::25"))
	check("PTR v6", names, []string{"mx.example.com"}, auth, err)

	// One hop only: the pure Go resolver reports the first CNAME of a
	// longer chain, not its end (golang/go#59943).
	cname, auth, err := n.LookupCNAME(ctx, "www.example.com")
	check("CNAME", cname, "mx.example.com", auth, err)
	cname, auth, err = n.LookupCNAME(ctx, "mx.example.com.")
	check("CNAME of a non-alias", cname, "mx.example.com", auth, err)
}

func TestNetResolverNotFound(t *testing.T) {
	_, n := netZone(t)
	ctx := ctxT(t)
	wantNotFound := func(what string, auth bool, err error) {
		t.Helper()
		e := asError(t, err, ErrNotFound)
		if auth || !IsNoRecord(err) {
			t.Errorf("%s: authentic %v, IsNoRecord %v", what, auth, IsNoRecord(err))
		}
		var de *net.DNSError
		if !errors.As(err, &de) {
			t.Errorf("%s: %v does not wrap the *net.DNSError", what, err)
		}
		if e.Temporary() {
			t.Errorf("%s: not found reported as temporary", what)
		}
	}
	// NXDOMAIN and NODATA both: the standard library does not tell them
	// apart.
	for _, name := range []string{"missing.example.com", "v4.example.com"} {
		_, auth, err := n.LookupTXT(ctx, name)
		wantNotFound("TXT "+name, auth, err)
		_, auth, err = n.LookupMX(ctx, name)
		wantNotFound("MX "+name, auth, err)
	}
	_, auth, err := n.LookupNetIP(ctx, "ip", "missing.example.com")
	wantNotFound("ip", auth, err)
	_, auth, err = n.LookupNetIP(ctx, "ip6", "missing.example.com")
	wantNotFound("ip6", auth, err)
	_, auth, err = n.LookupAddr(ctx, netip.MustParseAddr("192.0.2.99"))
	wantNotFound("PTR", auth, err)
	cname, auth, err := n.LookupCNAME(ctx, "missing.example.com.")
	wantNotFound("CNAME", auth, err)
	if cname != "missing.example.com" {
		t.Errorf("CNAME of a missing name = %q, want the name itself", cname)
	}
}

func TestNetResolverFailures(t *testing.T) {
	z, n := netZone(t)
	z.SetFault("example.com", dns.TypeTXT, resolvertest.FaultServFail)
	_, auth, err := n.LookupTXT(ctxT(t), "example.com")
	e := asError(t, err, ErrTemporary)
	if auth || e.Name != "example.com" || e.Type != dns.TypeTXT || e.Rcode != NoRcode {
		t.Errorf("SERVFAIL: authentic %v, %+v", auth, e)
	}

	z.SetFault("v4.example.com", 0, resolvertest.FaultTimeout)
	ctx, cancel := context.WithTimeout(ctxT(t), 300*time.Millisecond)
	defer cancel()
	_, _, err = n.LookupNetIP(ctx, "ip4", "v4.example.com")
	asError(t, err, ErrTemporary)

	_, _, err = n.LookupNetIP(ctxT(t), "tcp", "v4.example.com")
	asError(t, err, ErrPermanent)
}

func TestNetResolverTLSAUnsupported(t *testing.T) {
	_, n := netZone(t)
	recs, auth, err := n.LookupTLSA(ctxT(t), "_25._tcp.mx.example.com")
	e := asError(t, err, ErrPermanent)
	if recs != nil || auth {
		t.Errorf("got %v, authentic %v", recs, auth)
	}
	if !errors.Is(err, errors.ErrUnsupported) || !errors.Is(err, ErrUnsupported) {
		t.Errorf("%v is not ErrUnsupported", err)
	}
	if e.Type != dns.TypeTLSA || e.Name != "_25._tcp.mx.example.com" || e.Temporary() {
		t.Errorf("error details %+v", e)
	}
}

func TestNetResolverDefault(t *testing.T) {
	if (NetResolver{}).r() != net.DefaultResolver {
		t.Error("the zero NetResolver does not use net.DefaultResolver")
	}
	r := &net.Resolver{}
	if (NetResolver{R: r}).r() != r {
		t.Error("NetResolver.R not used")
	}
}
