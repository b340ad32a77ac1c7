//go:build interop

package resolver

// Interop with the shared peers' DNSSEC setup (../shared/peers/peer-dns.sh,
// started by scripts/interop.sh): nsd serves dane.test (signed),
// bogus.test (expired signatures) and insecure.test (unsigned); unbound
// validates them. The client must report Authentic only for secure
// answers from the validating resolver, and a bogus answer is a
// temporary failure, never data.

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/internal/peertest"
	"github.com/miekg/dns"
)

func peerAddr(t *testing.T, env, def string) string {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", peertest.Env(env, def))
	c, err := New(WithNameservers(addr), WithTimeout(time.Second), WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.LookupNetIP(context.Background(), "ip4", "mx.insecure.test"); err != nil {
		peertest.Unavailable(t, "DNS", "%s not usable: %v", addr, err)
	}
	return addr
}

func TestInteropUnboundAD(t *testing.T) {
	resolver := peerAddr(t, "DNS_RESOLVER_PORT", "5354")
	ctx := context.Background()
	c, err := New(WithNameservers(resolver), WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}

	// Secure: AD from a loopback validating resolver is trusted.
	resp, err := c.Query(ctx, "_25._tcp.mx.dane.test", dns.TypeTLSA)
	if err != nil {
		t.Fatalf("TLSA dane.test: %v", err)
	}
	if !resp.Authentic || len(resp.Answer) == 0 {
		t.Errorf("dane.test TLSA: Authentic=%v answers=%d, want authentic data", resp.Authentic, len(resp.Answer))
	}
	if _, ok := resp.Answer[0].(*dns.TLSA); !ok {
		t.Errorf("answer is %T, want TLSA (RRSIGs must not leak into Answer)", resp.Answer[0])
	}

	// Authenticated denial: NXDOMAIN in a signed zone carries AD too.
	resp, err = c.Query(ctx, "nosuchname.dane.test", dns.TypeA)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("nosuchname.dane.test: err %v, want ErrNotFound", err)
	}
	if resp == nil || !resp.Authentic {
		t.Errorf("signed NXDOMAIN not reported authentic")
	}

	// Insecure: data without AD.
	addrs, auth, err := c.LookupNetIP(ctx, "ip4", "mx.insecure.test")
	if err != nil || len(addrs) == 0 || auth {
		t.Errorf("insecure.test: %v auth=%v err=%v, want data without AD", addrs, auth, err)
	}

	// Bogus: the validator answers SERVFAIL, which is temporary.
	_, _, err = c.LookupNetIP(ctx, "ip4", "mx.bogus.test")
	if !errors.Is(err, ErrTemporary) {
		t.Errorf("bogus.test: err %v, want ErrTemporary", err)
	}
}

func TestInteropAuthoritativeNoAD(t *testing.T) {
	auth := peerAddr(t, "DNS_AUTH_PORT", "5353")
	c, err := New(WithNameservers(auth), WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// nsd is authoritative and does not validate: signed data without AD
	// must not be called authentic.
	resp, err := c.Query(context.Background(), "mx.dane.test", dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Authentic {
		t.Error("authoritative answer without AD reported authentic")
	}
	if len(resp.Answer) != 1 {
		t.Errorf("answers %v, want the A record only", resp.Answer)
	}
}
