package dcc_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/dcc"
	"github.com/mailpolicy/mailpolicy/dcc/dcctest"
)

func Example() {
	// A fake dccifd on a UNIX socket, standing in for /var/dcc/dccifd.
	dir, _ := os.MkdirTemp("", "dcc")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "dccifd")
	ln, err := net.Listen("unix", path)
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := dcctest.Serve(ln, dcc.Address{Network: "unix", Addr: path},
		dcctest.Fixed(dcctest.Reply('S', "AR", "X-DCC-EXAMPLE-Metrics: mx.example.com 1234; Body=1 Fuz1=1\n\n")))
	defer srv.Close()

	addr, err := dcc.ParseAddress(path) // dccifd_address
	if err != nil {
		fmt.Println(err)
		return
	}
	client := &dcc.Client{Address: addr} // dccifd_options = header

	header, body := dcc.SplitMessage([]byte("From: sender@example.net\nSubject: test\n\nbody text\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := client.Check(ctx, dcc.Request{
		ClientIP:   netip.MustParseAddr("192.0.2.25"),
		ClientName: "mail.example.net",
		HELO:       "mail.example.net",
		Sender:     "sender@example.net",
		Recipients: []dcc.Recipient{{Addr: "alice@example.com"}, {Addr: "bob@example.com"}},
		Header:     header,
		Body:       strings.NewReader(string(body)),
	})
	// "dcc = */defer_ok"
	fmt.Println("condition:", dcc.Decide(res, err, true))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("dcc_result:", res.DCCResult)
	fmt.Print("dcc_header: ", res.Header)
	for i, r := range []string{"alice", "bob"} {
		fmt.Printf("%s: %v\n", r, res.RecipientOutcome(i))
	}
	// Output:
	// condition: ok
	// dcc_result: A
	// dcc_header: X-DCC-EXAMPLE-Metrics: mx.example.com 1234; Body=1 Fuz1=1
	// alice: ok
	// bob: fail
}
