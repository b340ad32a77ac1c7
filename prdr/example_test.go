package prdr_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailpolicy/mailpolicy/prdr"
	"github.com/mailpolicy/mailpolicy/prdr/prdrtest"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// The server side: after the message body, one reply per recipient.
func ExampleRespond() {
	t := &prdr.Transaction{
		Requested:  true, // MAIL FROM:<...> PRDR
		Recipients: []string{"alice@example.org", "bob@example.org"},
		MessageID:  "1abcde-000001-AB",
	}
	var wire strings.Builder // the connection
	out, err := prdr.Respond(&wire, t, func(i int, rcpt string) prdr.Decision {
		if strings.HasPrefix(rcpt, "bob") {
			return prdr.Decision{Verdict: prdr.Permanent, Enhanced: "5.7.1", Text: "content refused by bob's policy"}
		}
		return prdr.Decision{Verdict: prdr.Accept}
	})
	if err != nil {
		panic(err)
	}
	fmt.Print(strings.ReplaceAll(wire.String(), "\r\n", "\n"))
	fmt.Println("deliver to:", out.Accepted())
	// Output:
	// 353 PRDR content analysis beginning
	// 250 PRDR R=<alice@example.org> acceptance
	// 550 5.7.1 content refused by bob's policy
	// 250 id=1abcde-000001-AB message accepted for some recipients
	// deliver to: [alice@example.org]
}

// The client side: the end-of-data replies of a PRDR block combined
// into one status per recipient.
func ExampleReadDataReplies() {
	replies := "353 PRDR content analysis beginning\r\n" +
		"250 PRDR R=<a@x> acceptance\r\n" +
		"550 PRDR R=<b@x> refusal\r\n" +
		"250 id=X message accepted for some recipients\r\n"
	r := smtp.NewReplyReader(strings.NewReader(replies)) // the connection
	res, err := prdr.ReadDataReplies(r, []string{"a@x", "b@x"}, "DATA")
	if err != nil {
		panic(err)
	}
	for _, o := range res.Recipients {
		fmt.Println(o.Recipient, o.Status, o.Message)
	}
	// Output:
	// a@x delivered 250 PRDR R=<a@x> acceptance\n250 id=X message accepted for some recipients
	// b@x failed PRDR error after DATA: 550 PRDR R=<b@x> refusal
}

// A whole client transaction against the in-process test server.
func ExampleSend() {
	srv, err := prdrtest.Start(prdrtest.Config{Decide: func(i int, rcpt string) prdr.Decision {
		if i == 1 {
			return prdr.Decision{Verdict: prdr.Temporary}
		}
		return prdr.Decision{}
	}})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	res, err := prdr.Send(context.Background(), srv.Addr, "me@example.com",
		[]string{"a@example.org", "b@example.org"}, strings.NewReader("Subject: hi\n\nhello\n"), prdr.WithBDAT(0))
	if err != nil {
		panic(err)
	}
	fmt.Println("PRDR offered:", res.Offered, "data command:", res.DataCmd)
	for _, o := range res.Recipients {
		fmt.Println(o.Recipient, o.Status, o.Reply)
	}
	// Output:
	// PRDR offered: true data command: BDAT 22 LAST
	// a@example.org delivered 250 PRDR R=<a@example.org> acceptance
	// b@example.org deferred 450 PRDR R=<b@example.org> temporary refusal
}
