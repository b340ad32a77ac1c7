package smtp_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/smtp"
)

// fakeServer answers one client on conn with canned replies, reading
// the message data with a DataReader.
func fakeServer(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	fmt.Fprint(conn, "220 mx.example.org ESMTP\r\n")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch verb, _, _ := strings.Cut(strings.TrimSpace(line), " "); strings.ToUpper(verb) {
		case "EHLO":
			fmt.Fprint(conn, "250-mx.example.org\r\n250-SIZE 1000000\r\n250 PRDR\r\n")
		case "DATA":
			fmt.Fprint(conn, "354 go ahead\r\n")
			var body strings.Builder
			d := smtp.NewDataReader(r)
			d.MaxSize = 1000000
			if _, err := bufio.NewReader(d).WriteTo(&body); err != nil {
				fmt.Fprint(conn, "552 5.3.4 too big\r\n")
				continue
			}
			fmt.Fprint(conn, "353 PRDR content analysis beginning\r\n",
				"250 PRDR R=<alice@example.org> acceptance\r\n",
				"550 5.7.1 bob does not want this\r\n",
				"250 message accepted for some recipients\r\n")
		case "QUIT":
			fmt.Fprint(conn, "221 bye\r\n")
			return
		default:
			fmt.Fprint(conn, "250 OK\r\n")
		}
	}
}

// A whole transaction with PRDR, the replies seen through OnReply.
func Example() {
	clientConn, serverConn := net.Pipe()
	go fakeServer(serverConn)

	c := smtp.NewClient(clientConn) // or smtp.Dial(ctx, "mx.example.org:25")
	c.LocalName = "client.example.com"
	c.Timeout = 10 * time.Second
	c.OnReply = func(stage string, r smtp.Reply) {
		if stage == smtp.StageConnect || stage == smtp.StageEHLO {
			fmt.Printf("%s: %s\n", stage, r.Text[0]) // raise smtp:connect, smtp:ehlo here
		}
	}
	ctx := context.Background()
	if _, err := c.Hello(ctx); err != nil {
		panic(err)
	}
	size, _ := c.Extensions().Size()
	fmt.Println("PRDR offered:", c.Extensions().Has("prdr"), "size limit:", size)

	msg := "Subject: hello\n\n.a line with a leading dot\n"
	params := &smtp.MailParams{Size: int64(len(msg)), PRDR: true}
	if _, err := c.Mail(ctx, "sender@example.com", params); err != nil {
		panic(err)
	}
	for _, rcpt := range []string{"alice@example.org", "bob@example.org"} {
		if _, err := c.Rcpt(ctx, rcpt, nil); err != nil {
			fmt.Println("refused:", err)
		}
	}
	resp, err := c.Data(ctx, strings.NewReader(msg))
	if err != nil {
		panic(err)
	}
	for i, r := range resp.Recipients {
		fmt.Printf("recipient %d: %s (enhanced code %q)\n", i+1, r, r.Enhanced())
	}
	fmt.Println("final:", resp.Final)
	if err := c.Quit(ctx); err != nil {
		panic(err)
	}
	// Output:
	// connect: mx.example.org ESMTP
	// EHLO: mx.example.org
	// PRDR offered: true size limit: 1000000
	// recipient 1: 250 PRDR R=<alice@example.org> acceptance (enhanced code "")
	// recipient 2: 550 5.7.1 bob does not want this (enhanced code "5.7.1")
	// final: 250 message accepted for some recipients
}

func ExampleParsePath() {
	p, err := smtp.ParsePath("<@relay.example:joe@example.com> SIZE=1200 BODY=8BITMIME")
	if err != nil {
		panic(err)
	}
	mp, err := smtp.ParseMailParams(p.Params)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Mailbox, mp.Size, mp.Body)

	_, err = smtp.ParsePath("<jöe@example.com>")
	fmt.Println(err)
	p, _ = smtp.ParsePath("<jöe@example.com> SMTPUTF8", smtp.WithUTF8(true))
	fmt.Println(p.Mailbox)
	// Output:
	// joe@example.com 1200 8BITMIME
	// smtp: invalid address "jöe@example.com": invalid local part
	// jöe@example.com
}

func ExampleNewDataWriter() {
	var wire strings.Builder // the connection, buffered
	dw := smtp.NewDataWriter(&wire)
	fmt.Fprint(dw, "line one\n.leading dot\r\nno final line end")
	dw.Close()
	fmt.Printf("%q\n", wire.String())
	// Output:
	// "line one\r\n..leading dot\r\nno final line end\r\n.\r\n"
}
