package spf

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"
)

func newTestEvaluator(ip, sender string) *evaluator {
	local, dom := splitSender(sender)
	cfg := newConfig([]Option{WithReceiver("mx.receiver.example"), WithClock(func() time.Time { return time.Unix(1700000000, 0) })})
	return &evaluator{cfg: cfg, ip: netip.MustParseAddr(ip).Unmap(), sender: local + "@" + dom, local: local, senderDomain: dom, helo: "helo.example.org"}
}

// The examples of RFC 7208 §7.4.
func TestMacroRFCExamples(t *testing.T) {
	e4 := newTestEvaluator("192.0.2.3", "strong-bad@email.example.com")
	e6 := newTestEvaluator("2001:db8::cb01", "strong-bad@email.example.com")
	cases := []struct {
		e    *evaluator
		in   string
		want string
	}{
		{e4, "%{s}", "strong-bad@email.example.com"},
		{e4, "%{o}", "email.example.com"},
		{e4, "%{d}", "email.example.com"},
		{e4, "%{d4}", "email.example.com"},
		{e4, "%{d3}", "email.example.com"},
		{e4, "%{d2}", "example.com"},
		{e4, "%{d1}", "com"},
		{e4, "%{dr}", "com.example.email"},
		{e4, "%{d2r}", "example.email"},
		{e4, "%{l}", "strong-bad"},
		{e4, "%{l-}", "strong.bad"},
		{e4, "%{lr}", "strong-bad"},
		{e4, "%{lr-}", "bad.strong"},
		{e4, "%{l1r-}", "strong"},
		{e4, "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
		{e4, "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"},
		{e4, "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
		{e4, "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"},
		{e4, "%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"},
		{e6, "%{ir}.%{v}._spf.%{d2}", "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"},
		{e4, "%{S}", "strong-bad%40email.example.com"},
		{e4, "%%%_%-", "% %20"},
		{e4, "%{h}", "helo.example.org"},
		{e4, "%{c}", "192.0.2.3"},
		{e6, "%{c}", "2001:db8::cb01"},
		{e4, "%{r}", "mx.receiver.example"},
		{e4, "%{t}", "1700000000"},
		{e4, "%{d100}", "email.example.com"},
		{e4, "%{l+-}", "strong.bad"},
		{e4, "%{p}", "unknown"},
	}
	for _, c := range cases {
		if c.e.res == nil {
			c.e.res = nilResolver{}
		}
		if err := checkMacroString(c.in, true); err != nil {
			t.Fatalf("%s: checkMacroString: %v", c.in, err)
		}
		got, err := c.e.expand(context.Background(), c.in, "email.example.com", true)
		if err != nil || got != c.want {
			t.Errorf("expand(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestMacroStringValidation(t *testing.T) {
	bad := []string{"%", "%{", "%{x}", "%{d0}", "%{d", "%a", "%{dr*}", "foo bar", "\x80", "%{}"}
	for _, s := range bad {
		if checkMacroString(s, false) == nil {
			t.Errorf("checkMacroString(%q) accepted", s)
		}
	}
	// c, r and t are explanation-only.
	for _, s := range []string{"%{c}", "%{r}", "%{t}"} {
		if checkMacroString(s, false) == nil {
			t.Errorf("%q accepted outside exp", s)
		}
		if checkMacroString(s, true) != nil {
			t.Errorf("%q rejected in exp", s)
		}
	}
	if checkMacroString("a b", true) != nil {
		t.Error("space rejected in exp text")
	}
}

// nilResolver answers NXDOMAIN for everything: macro tests need no DNS.
type nilResolver struct{}

func (nilResolver) LookupTXT(context.Context, string) ([]string, bool, error) {
	return nil, false, ErrNotFound
}
func (nilResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, bool, error) {
	return nil, false, ErrNotFound
}
func (nilResolver) LookupMX(context.Context, string) ([]*net.MX, bool, error) {
	return nil, false, ErrNotFound
}
func (nilResolver) LookupAddr(context.Context, netip.Addr) ([]string, bool, error) {
	return nil, false, ErrNotFound
}
