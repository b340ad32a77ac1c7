package mtasts_test

import (
	"fmt"
	"log"

	"github.com/mailpolicy/mailpolicy/mtasts"
)

// A policy as fetched from https://mta-sts.example.com/.well-known/mta-sts.txt,
// and which MX hosts it allows. A delivery gets it from a Cache:
//
//	c := &mtasts.Cache{Resolver: res, File: "/var/spool/mta/mta-sts.json"}
//	r := c.Get(ctx, "example.com")
//	if r.Enforce() && !r.Policy.Match(mxHost) { /* skip the host */ }
func Example() {
	rec, err := mtasts.ParseRecord("v=STSv1; id=20240131T120000;")
	if err != nil {
		log.Fatal(err)
	}
	p, err := mtasts.ParsePolicy([]byte("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("id", rec.ID, "mode", p.Mode, "max_age", p.MaxAge)
	for _, mx := range []string{"mail.example.com", "mx1.example.net", "a.b.example.net", "evil.example.org"} {
		fmt.Println(mx, p.Match(mx))
	}
	_, err = mtasts.ParsePolicy([]byte("version: STSv1\nmode: enforce\nmax_age: 86400\n"))
	fmt.Println(err)
	// Output:
	// id 20240131T120000 mode enforce max_age 168h0m0s
	// mail.example.com true
	// mx1.example.net true
	// a.b.example.net false
	// evil.example.org false
	// mtasts: invalid policy: no mx (required unless the mode is none)
}
