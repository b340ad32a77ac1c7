package dane_test

import (
	"fmt"
	"net/netip"

	"github.com/mailpolicy/mailpolicy/dane"
	"github.com/mailpolicy/mailpolicy/hostlist"
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
