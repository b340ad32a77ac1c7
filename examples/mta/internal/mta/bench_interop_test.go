//go:build interop

package mta

import (
	"fmt"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// Inbound cost per message, ours against Exim 4.96 (the shared peer) on
// the same loopback with the same client: one SMTP session, then per
// message MAIL, RCPT, DATA and the 2 KB message up to the 250 after the
// dot, for one local recipient. Ours runs SPF (loopback: no DNS), DKIM
// (unsigned), DMARC (one TXT lookup in the in-process zone) and an
// fsynced Maildir delivery before its 250; Exim (the peer's config: no
// SPF/DKIM/DMARC ACLs) writes and fsyncs its spool before its 250 and
// delivers to its maildir afterwards, in a process of its own. The
// session's connect, EHLO and QUIT are outside the timing (Exim holds
// its QUIT reply about 200 ms, which would swamp the figure).

const benchBody = "From: alice@sender.test\r\nTo: bob@example.com\r\nSubject: bench\r\n\r\n"

func benchSession(b *testing.B, addr string, rcpt func(i int) string) {
	msg := benchBody + strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n", 32)
	c, err := textproto.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	expect := func(code int) {
		if _, _, err := c.ReadResponse(code); err != nil {
			b.Fatal(err)
		}
	}
	expect(220)
	c.PrintfLine("EHLO client.test")
	expect(250)
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.PrintfLine("MAIL FROM:<alice@sender.test>")
		expect(250)
		c.PrintfLine("RCPT TO:<%s>", rcpt(i))
		expect(250)
		c.PrintfLine("DATA")
		expect(354)
		w := c.DotWriter()
		w.Write([]byte(msg))
		w.Close()
		expect(250)
	}
	b.StopTimer()
	c.PrintfLine("QUIT")
}

func BenchmarkInboundMTA(b *testing.B) {
	ts := start(b, nil)
	benchSession(b, ts.addr, func(int) string { return "bob@example.com" })
}

func BenchmarkInboundExim(b *testing.B) {
	exim.Use(b)
	tag := time.Now().UnixNano()
	benchSession(b, exim.Addr, func(i int) string { return fmt.Sprintf("bench-%d-%d@exim.test", tag, i) })
}
