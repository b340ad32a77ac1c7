package iprev_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/mailpolicy/mailpolicy/iprev"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

func ExampleCheck() {
	z, _ := resolvertest.ParseZone(`
1.2.0.192.in-addr.arpa. 300 IN PTR mail.example.com.
mail.example.com.       300 IN A   192.0.2.1
`)
	srv, _ := resolvertest.NewServer(z)
	defer srv.Close()
	r, _ := resolver.New(resolver.WithNameservers(srv.Addr))

	o := iprev.Check(context.Background(), netip.MustParseAddr("192.0.2.1"), iprev.WithResolver(r))
	fmt.Println(o.Result, o.Name)
	fmt.Println(o.ARResult())
	// Output:
	// pass mail.example.com
	// iprev=pass (mail.example.com) smtp.remote-ip=192.0.2.1
}
