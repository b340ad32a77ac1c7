//go:build interop

// Interop test: LookupTLSA, Policy and the DANE handshake against the
// shared DNSSEC peer (peer-dns.sh: nsd on 127.0.0.1:5353 serving the
// signed dane.test, the expired bogus.test and the unsigned
// insecure.test, behind the validating unbound on 127.0.0.1:5354).
//
// Run it with `make interop` (scripts/interop.sh starts the peer), or by
// hand: ../shared/peers/peer-dns.sh start; go test -tags interop ./dane.
//
// Environment:
//
//	MAILPOLICY_INTEROP_REQUIRED  non-empty: fail instead of skipping when the
//	                             peer is not reachable
//	DNS_STATE                    as for peer-dns.sh (/tmp/peers/dns); the
//	                             server cert and key are $DNS_STATE/tls/mx.{crt,key}
//	DNS_RESOLVER_PORT            unbound's port (5354)

package dane

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/hostlist"
	"github.com/mailpolicy/mailpolicy/internal/peertest"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// interopPeer returns unbound's address and the TLSA cert/key, skipping
// (or failing, with MAILPOLICY_INTEROP_REQUIRED) when the peer is down.
func interopPeer(t *testing.T) (string, tls.Certificate) {
	t.Helper()
	state := peertest.Env("DNS_STATE", "/tmp/peers/dns")
	ns := "127.0.0.1:" + peertest.Env("DNS_RESOLVER_PORT", "5354")
	cert, err := tls.LoadX509KeyPair(filepath.Join(state, "tls", "mx.crt"), filepath.Join(state, "tls", "mx.key"))
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		var set *TLSASet
		set, err = LookupTLSA(ctx, "mx.dane.test", 25, WithResolver(nsResolver(t, ns, 0)))
		cancel()
		if err == nil && set.State != StateSecure {
			err = errors.New("_25._tcp.mx.dane.test is " + set.State.String() + ", not secure")
		}
	}
	if err != nil {
		peertest.Unavailable(t, "DNSSEC", "%v", err)
	}
	return ns, cert
}

func TestInteropDNSSEC(t *testing.T) {
	ns, cert := interopPeer(t)
	addr := serveTLS(t, cert)
	ip := netip.MustParseAddr("127.0.0.1")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	opts := []Option{WithResolver(nsResolver(t, ns, 0))}

	t.Run("secure match", func(t *testing.T) {
		addrs, secure, err := LookupHost(ctx, "mx.dane.test", opts...)
		if err != nil || !secure || len(addrs) == 0 {
			t.Fatalf("address: %v %v %v", addrs, secure, err)
		}
		for _, port := range []int{25, 2525} {
			var ev eventLog
			p := &Policy{RequireHosts: hostlist.MustParse("*.dane.test"), Event: ev.add}
			d := p.Check(ctx, "mx.dane.test", ip, port, secure, opts...)
			if d.Action != ActionDANE || d.Set.UsageBits() != 8 || len(ev) != 0 {
				t.Fatalf("port %d: decision %+v set %+v events %v", port, d, d.Set, ev)
			}
			v, err := dialDANE(t, addr, d.Set, d.Set.Names)
			if err != nil || !v.Verified || v.Usage != UsageDANEEE || v.MatchDepth != 0 {
				t.Errorf("port %d: handshake %v, %+v", port, err, v)
			}
		}
	})

	t.Run("secure mismatch", func(t *testing.T) {
		set, err := LookupTLSA(ctx, "mx-badtlsa.dane.test", 25, opts...)
		if err != nil || set.State != StateSecure {
			t.Fatalf("lookup: %+v %v", set, err)
		}
		v, err := dialDANE(t, addr, set, set.Names)
		if !errors.Is(err, ErrNoMatch) || v == nil || v.Verified {
			t.Errorf("handshake %v, %+v", err, v)
		}
	})

	t.Run("bogus", func(t *testing.T) {
		_, secure, _ := LookupHost(ctx, "mx.bogus.test", opts...)
		if secure {
			t.Error("bogus address reported secure")
		}
		set, err := LookupTLSA(ctx, "mx.bogus.test", 25, opts...)
		if !errors.Is(err, ErrBogus) || set.State != StateBogus {
			t.Fatalf("lookup: %+v %v", set, err)
		}
		var ev eventLog
		p := &Policy{RequireHosts: hostlist.MustParse("*"), Event: ev.add}
		if d := p.Decide("mx.bogus.test", ip, true, set); d.Action != ActionFail || d.EventData != DataDANERequired {
			t.Errorf("required: %+v", d)
		}
		if d := p.Check(ctx, "mx.bogus.test", ip, 25, secure, opts...); d.Action != ActionFail {
			t.Errorf("required, via Check: %+v", d)
		}
		try := &Policy{Event: ev.add}
		if d := try.Decide("mx.bogus.test", ip, true, set); d.Action != ActionDefer || d.EventData != DataDNSSECInvalid {
			t.Errorf("try: %+v", d)
		}
	})

	t.Run("insecure", func(t *testing.T) {
		_, secure, err := LookupHost(ctx, "mx.insecure.test", opts...)
		if err != nil || secure {
			t.Fatalf("address: secure=%v %v", secure, err)
		}
		set, err := LookupTLSA(ctx, "mx.insecure.test", 25, opts...)
		if err != nil || set.State != StateInsecure || set.UsageBits() != 0 {
			t.Fatalf("lookup: %+v %v", set, err)
		}
		var ev eventLog
		try := &Policy{Event: ev.add}
		if d := try.Check(ctx, "mx.insecure.test", ip, 25, secure, opts...); d.Action != ActionNoDANE {
			t.Errorf("try: %+v", d)
		}
		if d := try.Decide("mx.insecure.test", ip, true, set); d.Action != ActionNoDANE {
			t.Errorf("try, TLSA insecure: %+v", d)
		}
		req := &Policy{RequireHosts: hostlist.MustParse("*"), Event: ev.add}
		if d := req.Check(ctx, "mx.insecure.test", ip, 25, secure, opts...); d.Action != ActionFail || d.EventData != DataDANERequired {
			t.Errorf("require: %+v", d)
		}
		if d := req.Decide("mx.insecure.test", ip, true, set); d.Action != ActionFail || d.EventData != DataDANERequired {
			t.Errorf("require, TLSA insecure: %+v", d)
		}
	})

	// The SMTP path end to end: a STARTTLS server with the peer's cert.
	t.Run("smtp", func(t *testing.T) {
		set, err := LookupTLSA(ctx, "mx.dane.test", 25, opts...)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := net.Dial("tcp", smtpServer(t, &cert, false))
		if err != nil {
			t.Fatal(err)
		}
		c := smtp.NewClient(conn)
		c.LocalName = "client.test"
		defer c.Close()
		p := &Policy{}
		s, err := p.Connect(ctx, c, p.Decide("mx.dane.test", ip, true, set), nil)
		if err != nil || s.TLSOutDane() != "yes" || s.CV() != "dane" || s.UsageBits() != 8 {
			t.Errorf("connect: %v %+v", err, s)
		}
	})
}
