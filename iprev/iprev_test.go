package iprev_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/iprev"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

var (
	_ iprev.Resolver = (*resolver.Resolver)(nil)
	_ iprev.Resolver = resolver.NetResolver{}
)

const zoneText = `
$TTL 300
2.0.192.in-addr.arpa.     IN SOA ns.test. hostmaster.test. 1 3600 600 86400 60
1.2.0.192.in-addr.arpa.   IN PTR mail.example.com.
mail.example.com.         IN A   192.0.2.1
2.2.0.192.in-addr.arpa.   IN PTR liar.example.com.
liar.example.com.         IN A   198.51.100.7
3.2.0.192.in-addr.arpa.   IN PTR nowhere.example.com.
3.2.0.192.in-addr.arpa.   IN PTR ok.example.com.
ok.example.com.           IN A   192.0.2.3
5.2.0.192.in-addr.arpa.   IN PTR slow.example.com.
5.2.0.192.in-addr.arpa.   IN PTR refused.example.com.
slow.example.com.         IN A   192.0.2.5
refused.example.com.      IN A   192.0.2.5
6.2.0.192.in-addr.arpa.   IN PTR refused.example.com.
12.2.0.192.in-addr.arpa.  IN PTR refused.example.com.
12.2.0.192.in-addr.arpa.  IN PTR slow.example.com.
8.2.0.192.in-addr.arpa.   IN PTR Mixed.Example.COM.
mixed.example.com.        IN A   192.0.2.8
9.2.0.192.in-addr.arpa.   IN PTR bad\(name\).example.com.
9.2.0.192.in-addr.arpa.   IN PTR inject\;x=y.example.com.
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. IN PTR v6.example.com.
v6.example.com.           IN AAAA 2001:db8::1
v6.example.com.           IN A    192.0.2.99
`

func setup(t *testing.T) (*resolvertest.Zone, *resolver.Resolver) {
	t.Helper()
	z := resolvertest.MustParseZone(t, zoneText)
	// 10.2.0.192: 12 PTR names, only the last one confirms.
	for i := range 12 {
		z.MustAdd(t, fmt.Sprintf("10.2.0.192.in-addr.arpa. PTR n%d.example.com.", i))
		z.MustAdd(t, fmt.Sprintf("n%d.example.com. A 198.51.100.%d", i, i))
	}
	z.MustAdd(t, "n11.example.com. A 192.0.2.10")
	// 11.2.0.192: the 10th name confirms.
	for i := range 10 {
		z.MustAdd(t, fmt.Sprintf("11.2.0.192.in-addr.arpa. PTR m%d.example.com.", i))
	}
	z.MustAdd(t, "m9.example.com. A 192.0.2.11")
	z.SetFault("slow.example.com", 0, resolvertest.FaultTimeout)
	z.SetFault("refused.example.com", 0, resolvertest.FaultRefused)
	z.SetFault("4.2.0.192.in-addr.arpa", 0, resolvertest.FaultServFail)
	z.SetFault("7.2.0.192.in-addr.arpa", 0, resolvertest.FaultRefused)
	srv := resolvertest.Start(t, z)
	r, err := resolver.New(resolver.WithNameservers(srv.Addr), resolver.WithTimeout(300*time.Millisecond), resolver.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	return z, r
}

func TestCheck(t *testing.T) {
	_, r := setup(t)
	for _, tc := range []struct {
		ip                string
		want              iprev.Result
		name              string
		failed, deferred  bool
		permanent, hasErr bool
	}{
		{ip: "192.0.2.1", want: iprev.Pass, name: "mail.example.com"},
		{ip: "::ffff:192.0.2.1", want: iprev.Pass, name: "mail.example.com"}, // mapped: checked as IPv4
		{ip: "192.0.2.2", want: iprev.Fail, failed: true},                    // forward leads elsewhere
		{ip: "192.0.2.3", want: iprev.Pass, name: "ok.example.com"},          // first name NXDOMAIN, second confirms
		{ip: "192.0.2.4", want: iprev.TempError, deferred: true, hasErr: true},
		{ip: "192.0.2.5", want: iprev.TempError, deferred: true, hasErr: true},  // timeout beats REFUSED
		{ip: "192.0.2.12", want: iprev.TempError, deferred: true, hasErr: true}, // in either order
		{ip: "192.0.2.6", want: iprev.PermError, failed: true, permanent: true, hasErr: true},
		{ip: "192.0.2.7", want: iprev.PermError, failed: true, permanent: true, hasErr: true},
		{ip: "192.0.2.8", want: iprev.Pass, name: "mixed.example.com"}, // lower-cased
		{ip: "192.0.2.9", want: iprev.Fail, failed: true},              // hostile names skipped
		{ip: "192.0.2.10", want: iprev.Fail, failed: true},             // the confirming name is the 12th
		{ip: "192.0.2.11", want: iprev.Pass, name: "m9.example.com"},   // the 10th still counts
		{ip: "192.0.2.200", want: iprev.Fail, failed: true},            // no PTR at all
		{ip: "2001:db8::1", want: iprev.Pass, name: "v6.example.com"},
	} {
		t.Run(tc.ip, func(t *testing.T) {
			o := iprev.Check(context.Background(), netip.MustParseAddr(tc.ip), iprev.WithResolver(r))
			if o.Result != tc.want || o.Name != tc.name || o.LookupFailed != tc.failed || o.LookupDeferred != tc.deferred {
				t.Fatalf("got %v name %q failed %v deferred %v (err %v)", o.Result, o.Name, o.LookupFailed, o.LookupDeferred, o.Err)
			}
			if (o.Err != nil) != tc.hasErr {
				t.Errorf("Err = %v", o.Err)
			}
			if tc.permanent && !errors.Is(o.Err, resolver.ErrPermanent) {
				t.Errorf("permerror from %v", o.Err)
			}
			if tc.deferred && !errors.Is(o.Err, resolver.ErrTemporary) {
				t.Errorf("temperror from %v", o.Err)
			}
		})
	}
}

func TestNamesCappedAndClean(t *testing.T) {
	_, r := setup(t)
	o := iprev.Check(context.Background(), netip.MustParseAddr("192.0.2.10"), iprev.WithResolver(r))
	if len(o.Names) != iprev.MaxNames {
		t.Errorf("%d names kept, want %d", len(o.Names), iprev.MaxNames)
	}
	o = iprev.Check(context.Background(), netip.MustParseAddr("192.0.2.9"), iprev.WithResolver(r))
	if len(o.Names) != 0 {
		t.Errorf("hostile names kept: %q", o.Names)
	}
	if ar := o.ARResult(); strings.ContainsAny(ar, "();\r\n") || ar != "iprev=fail smtp.remote-ip=192.0.2.9" {
		t.Errorf("ARResult %q", ar)
	}
}

func TestVariablesAndAR(t *testing.T) {
	_, r := setup(t)
	o := iprev.Check(context.Background(), netip.MustParseAddr("192.0.2.1"), iprev.WithResolver(r))
	got := fmt.Sprint(o.Variables())
	if want := "[{sender_host_name mail.example.com} {host_lookup_failed 0} {host_lookup_deferred 0}]"; got != want {
		t.Errorf("Variables %s, want %s", got, want)
	}
	if ar, want := o.ARResult(), "iprev=pass (mail.example.com) smtp.remote-ip=192.0.2.1"; ar != want {
		t.Errorf("ARResult %q, want %q", ar, want)
	}
	o = iprev.Check(context.Background(), netip.MustParseAddr("192.0.2.4"), iprev.WithResolver(r))
	if got := fmt.Sprint(o.Variables()); got != "[{sender_host_name } {host_lookup_failed 0} {host_lookup_deferred 1}]" {
		t.Errorf("deferred Variables %s", got)
	}
	if ar := o.ARResult(); ar != "iprev=temperror smtp.remote-ip=192.0.2.4" {
		t.Errorf("ARResult %q", ar)
	}
}

func TestAuthentic(t *testing.T) {
	z, r := setup(t)
	z.SetAuthentic(true)
	if o := iprev.Check(context.Background(), netip.MustParseAddr("192.0.2.1"), iprev.WithResolver(r)); !o.Authentic {
		t.Error("all answers had AD from loopback, Authentic false")
	}
	z.SetAuthentic(false)
	if o := iprev.Check(context.Background(), netip.MustParseAddr("192.0.2.1"), iprev.WithResolver(r)); o.Authentic {
		t.Error("Authentic without AD")
	}
}

func TestContextCancelled(t *testing.T) {
	_, r := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := iprev.Check(ctx, netip.MustParseAddr("192.0.2.1"), iprev.WithResolver(r))
	if o.Result != iprev.TempError || !errors.Is(o.Err, context.Canceled) {
		t.Errorf("got %v, %v", o.Result, o.Err)
	}
}

func TestInvalidAddress(t *testing.T) {
	if o := iprev.Check(context.Background(), netip.Addr{}); o.Result != iprev.PermError || o.Err == nil {
		t.Errorf("got %v, %v", o.Result, o.Err)
	}
}

func TestResultStrings(t *testing.T) {
	for r, want := range map[iprev.Result]string{iprev.Pass: "pass", iprev.Fail: "fail", iprev.TempError: "temperror", iprev.PermError: "permerror"} {
		if r.String() != want {
			t.Errorf("%d: %q", r, r.String())
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	z := resolvertest.MustParseZone(b, zoneText)
	srv := resolvertest.Start(b, z)
	ip := netip.MustParseAddr("192.0.2.1")
	for _, cached := range []bool{false, true} {
		opts := []resolver.Option{resolver.WithNameservers(srv.Addr)}
		name := "uncached"
		if cached {
			opts, name = append(opts, resolver.WithCache(100)), "cached"
		}
		r, err := resolver.New(opts...)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if o := iprev.Check(context.Background(), ip, iprev.WithResolver(r)); o.Result != iprev.Pass {
					b.Fatal(o.Result, o.Err)
				}
			}
		})
	}
}

// BenchmarkCheckNetPeer is the peer: the same forward-confirmed reverse
// lookup written on the standard library (net.Resolver, PreferGo,
// dialling the same server): LookupAddr, then LookupNetIP of each name.
func BenchmarkCheckNetPeer(b *testing.B) {
	z := resolvertest.MustParseZone(b, zoneText)
	srv := resolvertest.Start(b, z)
	nr := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, srv.Addr)
	}}
	ip := netip.MustParseAddr("192.0.2.1")
	check := func() string {
		names, err := nr.LookupAddr(context.Background(), ip.String())
		if err != nil {
			return ""
		}
		for _, n := range names {
			addrs, err := nr.LookupNetIP(context.Background(), "ip4", n)
			if err == nil && slices.Contains(addrs, ip) {
				return n
			}
		}
		return ""
	}
	if check() != "mail.example.com." {
		b.Fatal("peer did not confirm")
	}
	b.ReportAllocs()
	for b.Loop() {
		check()
	}
}
