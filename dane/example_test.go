package dane_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/mailpolicy/mailpolicy/dane"
	"github.com/mailpolicy/mailpolicy/hostlist"
	"github.com/mailpolicy/mailpolicy/smtp"
)

func ExamplePolicy_Decide() {
	rec, _ := dane.ParseTLSA("3 1 1 1a6652a0c1f4c4a4d3e5d1b3a2c0b6e1f0d9c8b7a6f5e4d3c2b1a09f8e7d6c5b")
	set := &dane.TLSASet{Host: "mx.example.com", Port: 25, State: dane.StateSecure, Records: []dane.TLSA{rec}}
	p := &dane.Policy{
		RequireHosts: hostlist.MustParse("*.example.com"),
		Event:        func(name, data string) { fmt.Println("event", name, data) },
	}
	ip := netip.MustParseAddr("192.0.2.25")

	d := p.Decide("mx.example.com", ip, true, set)
	fmt.Println(d.Action, set.UsageBits())

	d = p.Decide("mx.example.com", ip, false, nil)
	fmt.Println(d.Action, d.Message)
	// Output:
	// dane 8
	// event dane:fail dane-required
	// fail DANE error: mx.example.com lookup not DNSSEC
}

// Delivery to one host under DANE on an smtp.Client: the caller reads
// the greeting and says EHLO (raising its own events), Connect starts
// TLS verified by DANE, and the transaction goes on over TLS.
func ExamplePolicy_Connect() {
	ctx := context.Background()
	p := &dane.Policy{Event: func(name, data string) { fmt.Println("event", name, data) }}
	ip := netip.MustParseAddr("192.0.2.25")
	addrs, secure, _ := dane.LookupHost(ctx, "mx.example.com")
	if len(addrs) > 0 {
		ip = addrs[0]
	}
	d := p.Check(ctx, "mx.example.com", ip, 25, secure)
	if d.Action != dane.ActionDANE && d.Action != dane.ActionNoDANE {
		fmt.Println("not connecting:", d.Action, d.Message)
		return
	}
	c, err := smtp.Dial(ctx, net.JoinHostPort(ip.String(), "25"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	c.LocalName = "client.example.org"
	c.OnReply = func(stage string, r smtp.Reply) {
		// smtp:connect and smtp:ehlo events go here.
	}
	if _, err := c.Hello(ctx); err != nil {
		fmt.Println(err)
		return
	}
	s, err := p.Connect(ctx, c, d, nil)
	if err != nil {
		fmt.Println(err) // the dane:fail event has been raised
		return
	}
	fmt.Println("tls_out_dane:", s.TLSOutDane(), "CV="+s.CV())
	if _, err := c.Hello(ctx); err != nil { // EHLO again, over TLS
		fmt.Println(err)
		return
	}
	// c.Mail, c.Rcpt, c.Data, c.Quit ...
}
