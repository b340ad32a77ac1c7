package hostlist_test

import (
	"fmt"
	"net/netip"

	"github.com/mailpolicy/mailpolicy/hostlist"
)

func Example() {
	l, err := hostlist.Parse("!192.0.2.66 : 192.0.2.0/24 : *.relay.example")
	if err != nil {
		panic(err)
	}
	fmt.Println(l.Match("", netip.MustParseAddr("192.0.2.7")))
	fmt.Println(l.Match("", netip.MustParseAddr("192.0.2.66")))
	fmt.Println(l.Match("mx1.relay.example", netip.MustParseAddr("198.51.100.1")))
	fmt.Println(l.Match("other.example", netip.MustParseAddr("198.51.100.1")))
	// Output:
	// true
	// false
	// true
	// false
}
