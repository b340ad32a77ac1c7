package dsninfo_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"time"

	"github.com/mailpolicy/mailpolicy/dsninfo"
)

func Example() {
	msg, err := dsninfo.Compose(dsninfo.Report{
		ReportingMTA: "mx.example.org",
		To:           "sender@example.com",
		Date:         time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		MessageID:    "<1@mx.example.org>",
		Boundary:     "b1",
		Recipients: []dsninfo.Recipient{{
			FinalRecipient: dsninfo.Rfc822("user@remote.example"),
			Action:         dsninfo.Failed,
			RemoteMTA:      "mx.remote.example",
			RemoteIP:       netip.MustParseAddr("192.0.2.25"),
			RemotePort:     25,
			Greeting:       "220 mx.remote.example ESMTP",
			Diagnostic:     "SMTP error from remote mail server after RCPT TO:<user@remote.example>: 550 5.1.1 no such user",
		}},
	})
	if err != nil {
		panic(err)
	}
	r, err := dsninfo.Parse(bytes.NewReader(msg))
	if err != nil {
		panic(err)
	}
	rc := r.Recipients[0]
	fmt.Println(rc.Action, rc.Status, rc.FinalRecipient)
	fmt.Println(rc.RemoteMTA, rc.RemoteIP, rc.RemotePort)
	fmt.Println(rc.Greeting)
	fmt.Println(rc.DiagnosticCode)
	// Output:
	// failed 5.0.0 rfc822;user@remote.example
	// mx.remote.example 192.0.2.25 25
	// 220 mx.remote.example ESMTP
	// smtp;550 5.1.1 no such user
}
