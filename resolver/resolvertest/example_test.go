package resolvertest_test

import (
	"fmt"
	"log"
	"time"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/miekg/dns"
)

// A zone from master-file text, served on loopback, with a fault
// injected; any DNS client can ask it (a test would use Start, which
// closes the server when the test ends).
func Example() {
	z, err := resolvertest.ParseZone(`
$ORIGIN example.com.
$TTL 300
@    IN SOA ns hostmaster 1 3600 600 86400 60
@    IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
mail IN A   192.0.2.25
`)
	if err != nil {
		log.Fatal(err)
	}
	z.SetFault("broken.example.com", 0, resolvertest.FaultServFail)
	srv, err := resolvertest.NewServer(z)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	c := &dns.Client{Timeout: 2 * time.Second}
	for _, name := range []string{"mail.example.com.", "missing.example.com.", "broken.example.com."} {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		r, _, err := c.Exchange(m, srv.Addr)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Print(name, " ", dns.RcodeToString[r.Rcode])
		for _, rr := range r.Answer {
			fmt.Print(" ", rr.(*dns.A).A)
		}
		for _, rr := range r.Ns {
			fmt.Print(" (SOA ", rr.Header().Name, ")")
		}
		fmt.Println()
	}
	fmt.Println("queries:", z.Queries())
	// Output:
	// mail.example.com. NOERROR 192.0.2.25
	// missing.example.com. NXDOMAIN (SOA example.com.)
	// broken.example.com. SERVFAIL
	// queries: 3
}
