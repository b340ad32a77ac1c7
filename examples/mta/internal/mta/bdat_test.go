package mta

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/prdr"
)

// bdat sends one chunk and returns the reply.
func (c *client) bdat(chunk string, last bool) (int, string) {
	c.t.Helper()
	cmd := fmt.Sprintf("BDAT %d", len(chunk))
	if last {
		cmd += " LAST"
	}
	io.WriteString(c.c, cmd+"\r\n"+chunk)
	return c.read()
}

// body is what follows our added fields: the message as the client
// sent it.
func body(stored string) string {
	i := strings.Index(stored, "\nFrom: ")
	if i < 0 {
		return stored
	}
	return stored[i+1:]
}

// A message sent in chunks, one boundary inside a CRLF and one after
// the whole, arrives as the same message sent with DATA.
func TestBDATSameAsDATA(t *testing.T) {
	ts := start(t, nil)
	c := dial(t, ts.addr)
	if ehlo := c.ok("EHLO client.test", 250); !strings.Contains(ehlo, "\nCHUNKING") {
		t.Fatalf("CHUNKING not offered: %q", ehlo)
	}
	msg := strings.ReplaceAll(plainMsg, "\n", "\r\n") + ".leading dot stays\r\n"
	if code, text := c.send("alice@sender.test", []string{"bob@example.com"}, plainMsg+"..leading dot stays\n"); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	c.ok("MAIL FROM:<alice@sender.test>", 250)
	c.ok("RCPT TO:<bob@example.com>", 250)
	cut := strings.Index(msg, "\r\n") + 1 // between CR and LF
	if code, text := c.bdat(msg[:cut], false); code != 250 || !strings.Contains(text, fmt.Sprintf("%d octets", cut)) {
		t.Fatalf("first chunk: %d %s", code, text)
	}
	c.ok("NOOP", 250) // commands between chunks are fine
	c.bdat(msg[cut:], false)
	if code, text := c.bdat("", true); code != 250 {
		t.Fatalf("BDAT 0 LAST: %d %s", code, text)
	}
	c.ok("QUIT", 221)
	f := ts.files(t, "")
	if len(f) != 2 || body(f[0]) != body(f[1]) || !strings.HasSuffix(f[0], "\n.leading dot stays\n") {
		t.Errorf("DATA and BDAT copies differ:\n%q\n%q", f[0], f[1])
	}
}

func TestBDATRefusals(t *testing.T) {
	ts := start(t, func(c *Config) { c.MaxSize = 2000 })
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	// Without a transaction: 503, and the chunk is read, not run.
	if code, _ := c.bdat("RSET\r\n", false); code != 503 {
		t.Errorf("BDAT without MAIL: %d", code)
	}
	c.ok("NOOP", 250)
	// A bare LF anywhere refuses the message at LAST.
	c.ok("MAIL FROM:<alice@sender.test>", 250)
	c.ok("RCPT TO:<bob@example.com>", 250)
	c.bdat("Subject: x\r\n\r\nline\nsmuggled\r\n", false)
	if code, text := c.bdat("end\r\n", true); code != 554 || !strings.Contains(text, "bare <LF>") {
		t.Errorf("bare LF: %d %s", code, text)
	}
	// A bare CR at the very end, too.
	c.ok("MAIL FROM:<alice@sender.test>", 250)
	c.ok("RCPT TO:<bob@example.com>", 250)
	if code, text := c.bdat("Subject: x\r\n\r\nend\r", true); code != 554 || !strings.Contains(text, "bare <CR>") {
		t.Errorf("bare CR: %d %s", code, text)
	}
	// A long line.
	c.ok("MAIL FROM:<alice@sender.test>", 250)
	c.ok("RCPT TO:<bob@example.com>", 250)
	if code, _ := c.bdat("Subject: x\r\n\r\n"+strings.Repeat("y", 999)[:990], false); code != 250 {
		t.Fatal(code)
	}
	if code, text := c.bdat("zzzzzzzzz\r\n", true); code != 554 || !strings.Contains(text, "998") {
		t.Errorf("long line across chunks: %d %s", code, text)
	}
	// Past the size limit: 552 at once, the transaction is gone.
	c.ok("MAIL FROM:<alice@sender.test>", 250)
	c.ok("RCPT TO:<bob@example.com>", 250)
	if code, _ := c.bdat(strings.Repeat("a\r\n", 800), false); code != 552 {
		t.Errorf("too big: %d", code)
	}
	if code, _ := c.bdat("more\r\n", true); code != 503 {
		t.Errorf("BDAT after the size refusal: %d", code)
	}
	// DATA after BDAT in one transaction.
	c.ok("MAIL FROM:<alice@sender.test>", 250)
	c.ok("RCPT TO:<bob@example.com>", 250)
	c.bdat("Subject: x\r\n", false)
	c.ok("DATA", 503)
	c.ok("RSET", 250)
	// A size argument that is not a number ends the session: its
	// octets cannot be told from commands.
	if code, _ := c.cmd("BDAT ten"); code != 501 {
		t.Errorf("BDAT ten: %d", code)
	}
	if n := len(ts.files(t, "")); n != 0 {
		t.Errorf("%d messages delivered", n)
	}
	if ts.srv.SMTP().DataMemoryInUse() != 0 {
		t.Errorf("data memory held after the refusals: %d", ts.srv.SMTP().DataMemoryInUse())
	}
}

// Pipelined BDAT with PRDR: the per-recipient replies follow LAST.
func TestBDATPipelinedPRDR(t *testing.T) {
	ts := start(t, func(c *Config) { c.Scanner = stubScanner })
	to := []string{"bob@example.com", "spam1@example.com"}
	res, err := prdr.Send(context.Background(), ts.addr, "a@sender.test", to, strings.NewReader("Subject: prdr\n\n"+strings.Repeat("body line\n", 500)),
		prdr.WithHelo("client.test"), prdr.WithBDAT(1000))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Data.PRDR || res.Recipients[0].Status != prdr.Delivered || res.Recipients[1].Status != prdr.Failed {
		t.Errorf("PRDR over BDAT: %+v", res)
	}
	if f := ts.files(t, ""); len(f) != 1 || strings.Count(f[0], "body line\n") != 500 {
		t.Errorf("inbox %d files", len(f))
	}
}
