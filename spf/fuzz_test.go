package spf

import (
	"context"
	"net/netip"
	"strings"
	"testing"
)

func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{
		"v=spf1 -all", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 mx -all",
		"v=spf1 a:%{d}/24//64 mx:example.com//128 ptr exists:%{ir}.%{v}._spf.%{d2} ~include:x.example",
		"v=spf1 redirect=_spf.example.com exp=explain.%{d}", "v=spf1 foo=bar", "v=spf1 a/33",
		"v=spf1 ip4:1.2.3.4/", "v=spf1 %{", "v=spf1 a:%{d0}.x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseRecord(s)
		if err != nil {
			return
		}
		terms := directives(r)
		if len(terms) != r.nterms || len(terms) > strings.Count(s, " ")+1 {
			t.Fatalf("%d/%d terms from %q", len(terms), r.nterms, s)
		}
		for _, tm := range terms {
			if tm.domain != "" && checkMacroString(tm.domain, false) != nil {
				t.Fatalf("accepted bad domain-spec %q", tm.domain)
			}
			if tm.cidr4 > 32 || tm.cidr6 > 128 {
				t.Fatalf("cidr out of range in %q", s)
			}
		}
	})
}

func FuzzExpand(f *testing.F) {
	for _, s := range []string{"%{s}", "%{ir}.%{v}._spf.%{d2}", "%{L-r2}", "%%%_%-", "%{c} %{r} %{t}", "%{p}", "%{d200r+-.}"} {
		f.Add(s, "user@example.com", "192.0.2.3")
	}
	f.Fuzz(func(t *testing.T, s, sender, ipText string) {
		ip, err := netip.ParseAddr(ipText)
		if err != nil {
			ip = netip.MustParseAddr("2001:db8::1")
		}
		e := newTestEvaluator(ip.String(), "u@example.com")
		e.res = nilResolver{}
		e.sender = sender
		e.local, e.senderDomain = splitSender(sender)
		valid := checkMacroString(s, true) == nil
		out, err := e.expand(context.Background(), s, "example.com", true)
		if valid && err != nil {
			t.Fatalf("valid macro-string %q failed: %v", s, err)
		}
		if !strings.Contains(s, "%") && out != s {
			t.Fatalf("literal %q changed to %q", s, out)
		}
	})
}

func FuzzMatch(f *testing.F) {
	for _, s := range []string{"fail : softfail", "!pass", "<; fail;!none", "*", "^(soft)?fail$", "err_perm", "bogus", "!", "a::b"} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, list string, r int) {
		res := Result(((r % 8) + 8) % 8)
		a, errA := Match(res, list)
		b, errB := MatchList(res, list)
		if errA != nil && a || errB != nil && b {
			t.Fatal("true with error")
		}
	})
}

func FuzzReceived(f *testing.F) {
	f.Add("user@example.com", "mail.example.com", "why %{s}", "203.0.113.9")
	f.Add("evil\r\nX: y@example.com", "h\n", "x", "2001:db8::1")
	f.Add("\"a;b\"@ex(ample).com", "h ( ) ; x=y", "%{L}", "192.0.2.1")
	f.Fuzz(func(t *testing.T, sender, helo, expl, ipText string) {
		ip, err := netip.ParseAddr(ipText)
		if err != nil {
			ip = netip.MustParseAddr("192.0.2.1")
		}
		cfg := newConfig([]Option{WithReceiver("mx.receiver.test"), WithDefaultExplanation(expl)})
		local, dom := splitSender(sender)
		e := &evaluator{cfg: cfg, res: nilResolver{}, ip: ip.Unmap(), sender: local + "@" + dom, local: local, senderDomain: dom, helo: helo}
		for _, res := range []Result{Pass, Fail, SoftFail, Neutral, None, TempError, PermError} {
			o := &Outcome{Result: res, UsedDomain: sanitize(dom), Identity: "mfrom", Mechanism: "-all"}
			e.finish(context.Background(), o, hostResult{result: res, reason: reasonMechanism})
			if len(o.Received) > maxReceived {
				t.Fatalf("Received-SPF is %d bytes", len(o.Received))
			}
			if len(o.SMTPComment) > maxSMTPComment {
				t.Fatalf("smtp comment is %d bytes", len(o.SMTPComment))
			}
			for _, v := range o.Variables() {
				if strings.ContainsAny(v.Value, "\r\n\x00") {
					t.Fatalf("%s contains a control: %q", v.Name, v.Value)
				}
			}
			if !strings.HasPrefix(o.Received, "Received-SPF: "+res.String()+" (") {
				t.Fatalf("bad start: %q", o.Received)
			}
		}
	})
}
