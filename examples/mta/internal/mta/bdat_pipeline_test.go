package mta

import (
	"fmt"
	"io"
	"strings"
	"testing"
)

// A whole pipelined exchange in one write (RFC 2920, RFC 3030 §4.2):
// two transactions by BDAT, chunk data that looks like commands, and a
// DATA after BDAT; the replies come in order and only the chunks'
// messages are stored, as sent.
func TestBDATPipelined(t *testing.T) {
	ts := start(t, nil)
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	first := "From: alice@sender.test\r\nSubject: one\r\n\r\nRSET\r\nMAIL FROM:<ceo@sender.test>\r\n"
	second := "From: alice@sender.test\r\nSubject: two\r\n\r\nQUIT\r\n"
	var b strings.Builder
	b.WriteString("MAIL FROM:<alice@sender.test>\r\nRCPT TO:<bob@example.com>\r\n")
	fmt.Fprintf(&b, "BDAT %d\r\n%s", 30, first[:30])
	fmt.Fprintf(&b, "BDAT %d LAST\r\n%s", len(first)-30, first[30:])
	b.WriteString("MAIL FROM:<alice@sender.test>\r\nRCPT TO:<carol@example.org>\r\n")
	fmt.Fprintf(&b, "BDAT %d LAST\r\n%s", len(second), second)
	b.WriteString("MAIL FROM:<alice@sender.test>\r\nRCPT TO:<bob@example.com>\r\nBDAT 6\r\nDATA\r\nDATA\r\nRSET\r\nNOOP\r\n")
	if _, err := io.WriteString(c.c, b.String()); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{250, 250, 250, 250, 250, 250, 250, 250, 250, 250, 503, 250, 250} {
		if code, msg := c.read(); code != want {
			t.Fatalf("reply %d: %d %q, want %d", i, code, msg, want)
		}
	}
	f := ts.files(t, "")
	if len(f) != 2 {
		t.Fatalf("%d messages stored, want 2", len(f))
	}
	got := body(f[0]) + body(f[1])
	for _, m := range []string{first, second} {
		if !strings.Contains(got, strings.ReplaceAll(m, "\r\n", "\n")) {
			t.Errorf("message %.30q not stored as sent: %q", m, got)
		}
	}
}

// BDAT after a transaction DATA ended is outside any transaction: 503,
// and its chunk is read, not run.
func TestBDATAfterDATA(t *testing.T) {
	ts := start(t, nil)
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	if code, msg := c.send("alice@sender.test", []string{"bob@example.com"}, "Subject: data\n\nx\n"); code != 250 {
		t.Fatalf("DATA: %d %s", code, msg)
	}
	if code, msg := c.bdat("QUIT\r\n", true); code != 503 {
		t.Errorf("BDAT after DATA: %d %s", code, msg)
	}
	c.ok("NOOP", 250)
	if n := len(ts.files(t, "")); n != 1 {
		t.Errorf("%d messages", n)
	}
}

// A BDAT transfer cut off, by RSET or by the client going away, gives
// its memory back.
func TestBDATCutOffFreesMemory(t *testing.T) {
	ts := start(t, nil)
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	c.ok("MAIL FROM:<alice@sender.test>", 250)
	c.ok("RCPT TO:<bob@example.com>", 250)
	c.bdat("Subject: x\r\n\r\n", false)
	if ts.srv.SMTP().DataMemoryInUse() == 0 {
		t.Fatal("no memory held during the transfer")
	}
	c.ok("RSET", 250)
	waitBudget(t, ts.srv, 0)
	c.ok("MAIL FROM:<alice@sender.test>", 250)
	c.ok("RCPT TO:<bob@example.com>", 250)
	c.bdat("Subject: x\r\n\r\n", false)
	io.WriteString(c.c, "BDAT 1000\r\nhalf a chunk")
	c.c.Close()
	waitBudget(t, ts.srv, 0)
}
