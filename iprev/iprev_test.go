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
2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. IN PTR v6liar.example.com.
v6liar.example.com.       IN A    192.0.2.2
v6liar.example.com.       IN AAAA 2001:db8::99
13.2.0.192.in-addr.arpa.  IN PTR nowhere.example.com.
13.2.0.192.in-addr.arpa.  IN PTR noaddr.example.com.
noaddr.example.com.       IN TXT  "no address here"
14.2.0.192.in-addr.arpa.  IN PTR v4.example.com.
v4.example.com.           IN AAAA ::ffff:192.0.2.14
15.2.0.192.in-addr.arpa.  IN TXT  "PTR name exists, no PTR"
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
		{ip: "2001:db8::1", want: iprev.Pass, name: "v6.example.com"},  // AAAA asked for IPv6
		{ip: "2001:db8::2", want: iprev.Fail, failed: true},            // AAAA leads elsewhere
		{ip: "fe80::1%eth0", want: iprev.Fail, failed: true},           // zone dropped, no PTR
		{ip: "192.0.2.13", want: iprev.Fail, failed: true},             // NXDOMAIN and NODATA names
		{ip: "192.0.2.14", want: iprev.Fail, failed: true},             // only a mapped AAAA: IPv4 asks for A
		{ip: "192.0.2.15", want: iprev.Fail, failed: true},             // NODATA for PTR
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

// fakeResolver answers from maps and counts forward queries.
type fakeResolver struct {
	ptr     []string
	ptrErr  error
	ptrAuth bool
	fwd     map[string][]netip.Addr
	fwdErr  map[string]error
	asked   []string
}

func (f *fakeResolver) LookupAddr(ctx context.Context, addr netip.Addr) ([]string, bool, error) {
	return f.ptr, f.ptrAuth, f.ptrErr
}

func (f *fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, bool, error) {
	f.asked = append(f.asked, network+" "+host)
	if err := f.fwdErr[host]; err != nil {
		return nil, f.ptrAuth, err
	}
	if a, ok := f.fwd[host]; ok {
		return a, f.ptrAuth, nil
	}
	return nil, f.ptrAuth, &resolver.Error{Name: host, Kind: resolver.ErrNotFound, Rcode: resolver.NoRcode}
}

func TestHostileAndDuplicateNames(t *testing.T) {
	ip := netip.MustParseAddr("192.0.2.1")
	f := &fakeResolver{
		ptr: []string{
			"evil.example.com.\r\nX-Injected: yes", "a(b).example.com", "semi;colon.example.com",
			"under_score.example.com", "mail.example.com..", "-lead.example.com", "trail-.example.com",
			"ex\u00e4mple.com", "", ".", "a..b", strings.Repeat("a", 64) + ".com", "x\\032y.example.com",
			"dup.example.com.", "DUP.example.com", "dup.example.com",
		},
		fwd: map[string][]netip.Addr{"dup.example.com": {netip.MustParseAddr("198.51.100.1")}},
	}
	for i := range 12 {
		f.ptr = append(f.ptr, fmt.Sprintf("n%d.example.com", i))
	}
	f.fwd["n9.example.com"] = []netip.Addr{ip}
	f.fwd["n10.example.com"] = []netip.Addr{ip}
	o := iprev.Check(context.Background(), ip, iprev.WithResolver(f))
	// dup once, then n0..n8: n9 would be the 11th name.
	if o.Result != iprev.Fail || len(o.Names) != iprev.MaxNames || o.Names[0] != "dup.example.com" {
		t.Fatalf("got %v, names %q", o.Result, o.Names)
	}
	if len(f.asked) != iprev.MaxNames {
		t.Errorf("%d forward queries: %q", len(f.asked), f.asked)
	}
	for _, q := range f.asked {
		if !strings.HasPrefix(q, "ip4 ") || strings.ContainsAny(q[4:], "()_;\r\n\\ ") || strings.Contains(q, "..") {
			t.Errorf("queried %q", q)
		}
	}
	if ar := o.ARResult(); ar != "iprev=fail smtp.remote-ip=192.0.2.1" {
		t.Errorf("ARResult %q", ar)
	}
}

func TestMappedAnswers(t *testing.T) {
	// An IPv4-mapped client asks for A records and matches them.
	f := &fakeResolver{ptr: []string{"mail.example.com"}, fwd: map[string][]netip.Addr{
		"mail.example.com": {netip.MustParseAddr("::ffff:192.0.2.1")}}}
	o := iprev.Check(context.Background(), netip.MustParseAddr("::ffff:192.0.2.1"), iprev.WithResolver(f))
	if o.Result != iprev.Pass || o.IP.String() != "192.0.2.1" || f.asked[0] != "ip4 mail.example.com" {
		t.Errorf("got %v ip %v asked %q", o.Result, o.IP, f.asked)
	}
}

func TestPermanentNeverTemporary(t *testing.T) {
	perm := &resolver.Error{Kind: resolver.ErrPermanent, Rcode: 5}
	temp := &resolver.Error{Kind: resolver.ErrTemporary, Rcode: 2}
	ip := netip.MustParseAddr("192.0.2.1")
	for _, tc := range []struct {
		errs map[string]error
		want iprev.Result
	}{
		{map[string]error{"a.example": perm}, iprev.PermError},
		{map[string]error{"a.example": perm, "b.example": temp}, iprev.TempError},
		{map[string]error{"a.example": temp, "b.example": perm}, iprev.TempError},
		{map[string]error{"a.example": perm, "b.example": perm}, iprev.PermError},
	} {
		f := &fakeResolver{ptr: []string{"a.example", "b.example"}, fwdErr: tc.errs}
		if o := iprev.Check(context.Background(), ip, iprev.WithResolver(f)); o.Result != tc.want {
			t.Errorf("%v: got %v", tc.errs, o.Result)
		}
		// A confirmed name wins over any failure.
		f = &fakeResolver{ptr: []string{"a.example", "b.example", "ok.example"}, fwdErr: tc.errs,
			fwd: map[string][]netip.Addr{"ok.example": {ip}}}
		if o := iprev.Check(context.Background(), ip, iprev.WithResolver(f)); o.Result != iprev.Pass || o.Err != nil || o.LookupDeferred || o.LookupFailed {
			t.Errorf("%v then a confirming name: got %+v", tc.errs, o)
		}
	}
	f := &fakeResolver{ptrErr: perm}
	if o := iprev.Check(context.Background(), ip, iprev.WithResolver(f)); o.Result != iprev.PermError || !o.LookupFailed || o.LookupDeferred {
		t.Errorf("PTR REFUSED: got %+v", o)
	}
	// A *net.DNSError NXDOMAIN from a custom resolver is a fail.
	f = &fakeResolver{ptrErr: &net.DNSError{Err: "no such host", IsNotFound: true}}
	if o := iprev.Check(context.Background(), ip, iprev.WithResolver(f)); o.Result != iprev.Fail || o.Err != nil {
		t.Errorf("net NXDOMAIN: got %+v", o)
	}
}

func TestAuthenticNegative(t *testing.T) {
	z, r := setup(t)
	z.SetAuthentic(true)
	// NXDOMAIN for the PTR, authenticated: an authentic fail.
	if o := iprev.Check(context.Background(), netip.MustParseAddr("192.0.2.200"), iprev.WithResolver(r)); o.Result != iprev.Fail || !o.Authentic {
		t.Errorf("authenticated NXDOMAIN: %v authentic %v", o.Result, o.Authentic)
	}
	if o := iprev.Check(context.Background(), netip.MustParseAddr("192.0.2.4"), iprev.WithResolver(r)); o.Authentic {
		t.Error("temperror reported authentic")
	}
}

func TestContextDeadline(t *testing.T) {
	z, _ := setup(t)
	z.SetFault("100.2.0.192.in-addr.arpa", 0, resolvertest.FaultTimeout)
	srv := resolvertest.Start(t, z)
	r, err := resolver.New(resolver.WithNameservers(srv.Addr), resolver.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	o := iprev.Check(ctx, netip.MustParseAddr("192.0.2.100"), iprev.WithResolver(r))
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v past a 150ms deadline", d)
	}
	if o.Result != iprev.TempError || !o.LookupDeferred || !errors.Is(o.Err, context.DeadlineExceeded) {
		t.Errorf("got %v, %v", o.Result, o.Err)
	}
}

func TestZeroOutcome(t *testing.T) {
	var o iprev.Outcome
	if o.Result != iprev.None || o.Result.String() != "none" || o.ARResult() != "" || o.ARResultRFC() != "" {
		t.Errorf("zero Outcome: %v %q %q", o.Result, o.ARResult(), o.ARResultRFC())
	}
	if got := iprev.Result(99).String(); got != "permerror" {
		t.Errorf("undefined Result: %q", got)
	}
	// A hand-built Outcome cannot put a hostile name into the header.
	h := iprev.Outcome{Result: iprev.Pass, Name: "x) smtp.auth=admin (\r\n", IP: netip.MustParseAddr("::ffff:192.0.2.1")}
	if ar := h.ARResult(); ar != "iprev=pass smtp.remote-ip=192.0.2.1" {
		t.Errorf("hand-built ARResult %q", ar)
	}
}

func TestARResultRFC(t *testing.T) {
	_, r := setup(t)
	o := iprev.Check(context.Background(), netip.MustParseAddr("192.0.2.1"), iprev.WithResolver(r))
	if ar, want := o.ARResultRFC(), "iprev=pass policy.iprev=192.0.2.1 (mail.example.com)"; ar != want {
		t.Errorf("ARResultRFC %q, want %q", ar, want)
	}
	o = iprev.Check(context.Background(), netip.MustParseAddr("192.0.2.6"), iprev.WithResolver(r))
	if ar, want := o.ARResultRFC(), "iprev=permerror policy.iprev=192.0.2.6"; ar != want {
		t.Errorf("ARResultRFC %q, want %q", ar, want)
	}
}
