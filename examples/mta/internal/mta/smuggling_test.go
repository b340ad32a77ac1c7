package mta

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// The tests here attack the SMTP framing (SMTP smuggling, CVE-2023-51766
// and its Postfix and Sendmail siblings) and the reply writer over a
// real socket.

var lineEnds = []struct{ name, s string }{{"CR", "\r"}, {"LF", "\n"}, {"CRLF", "\r\n"}}

// smuggled is a complete forged transaction, sent right after a
// candidate end of data in the same write.
const smuggled = "MAIL FROM:<ceo@sender.test>\r\nRCPT TO:<carol@example.com>\r\nDATA\r\n" +
	"From: ceo@sender.test\r\nSubject: smuggled\r\n\r\nwire the money\r\n.\r\n"

func TestSmugglingEveryDotVariant(t *testing.T) {
	for _, pre := range lineEnds {
		for _, post := range lineEnds {
			t.Run(pre.name+"."+post.name, func(t *testing.T) {
				ts := start(t, nil)
				c := dial(t, ts.addr)
				c.ok("EHLO client.test", 250)
				c.ok("MAIL FROM:<alice@sender.test>", 250)
				c.ok("RCPT TO:<bob@example.com>", 250)
				c.ok("DATA", 354)
				io.WriteString(c.c, "From: alice@sender.test\r\nSubject: first\r\n\r\nfirst body"+pre.s+"."+post.s+smuggled)
				if pre.s == "\r\n" && post.s == "\r\n" {
					// The real end of data: what follows is a second
					// transaction of the client's own, and both land.
					for _, want := range []int{250, 250, 250, 354, 250} {
						c.expect(want)
					}
					if n := len(ts.files(t, "")); n != 2 {
						t.Fatalf("%d messages, want 2", n)
					}
					return
				}
				code, msg := c.read()
				if code != 554 || !strings.HasPrefix(msg, "5.5.2 ") || !strings.Contains(msg, "bare <") {
					t.Fatalf("end of data: got %d %q, want 554 5.5.2 bare <CR|LF>", code, msg)
				}
				// Nothing ran as a command: no transaction is open, the
				// session is usable and nothing was delivered.
				c.ok("RCPT TO:<bob@example.com>", 503)
				c.ok("NOOP", 250)
				if f := ts.files(t, ""); len(f) != 0 {
					t.Fatalf("%d messages delivered: %q", len(f), f)
				}
				if code, msg := c.send("alice@sender.test", []string{"bob@example.com"}, "Subject: next\n\nok\n"); code != 250 {
					t.Fatalf("next message: %d %q", code, msg)
				}
				f := ts.files(t, "")
				if len(f) != 1 || strings.Contains(f[0], "smuggled") || strings.Contains(f[0], "first body") {
					t.Fatalf("stored %q", f)
				}
			})
		}
	}
}

// A bare CR or LF inside a header line must not split it into two
// fields (nor end up in the stored message): the message is refused.
func TestSmugglingBareInHeader(t *testing.T) {
	for _, tc := range []struct{ name, msg, want string }{
		{"LF", "Subject: x\nX-Forged: lf\r\n\r\nbody\r\n", "bare <LF>"},
		{"CR", "Subject: x\rX-Forged: cr\r\n\r\nbody\r\n", "bare <CR>"},
		{"CRCRLF", "Subject: x\r\r\n\r\nbody\r\n", "bare <CR>"},
		{"body LF", "Subject: x\r\n\r\nbody\nmore\r\n", "bare <LF>"},
		{"last line CR", "Subject: x\r\n\r\nbody\r", "bare <CR>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := start(t, nil)
			c := dial(t, ts.addr)
			c.ok("EHLO client.test", 250)
			c.ok("MAIL FROM:<alice@sender.test>", 250)
			c.ok("RCPT TO:<bob@example.com>", 250)
			c.ok("DATA", 354)
			end := "\r\n.\r\n"
			if strings.HasSuffix(tc.msg, "\r\n") {
				end = ".\r\n"
			}
			io.WriteString(c.c, tc.msg+end)
			code, msg := c.read()
			if code != 554 || !strings.Contains(msg, tc.want) {
				t.Fatalf("got %d %q, want 554 %s", code, msg, tc.want)
			}
			c.ok("NOOP", 250)
			if f := ts.files(t, ""); len(f) != 0 {
				t.Fatalf("delivered %q", f)
			}
		})
	}
}

// Only CRLF ends a command line: a bare LF or CR makes the whole line
// (up to the CRLF) one refused command, never two.
func TestSmugglingBareInCommand(t *testing.T) {
	ts := start(t, func(c *Config) { c.MaxErrors = 4 })
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	io.WriteString(c.c, "MAIL FROM:<a@sender.test>\nRCPT TO:<bob@example.com>\r\nNOOP\r\n")
	if msg := c.expect(500); !strings.Contains(msg, "5.5.2") || !strings.Contains(msg, "bare <LF>") {
		t.Errorf("bare LF: %q", msg)
	}
	c.expect(250) // the NOOP, and no reply for MAIL or RCPT
	c.ok("RCPT TO:<bob@example.com>", 503)
	io.WriteString(c.c, "NOOP\rMAIL FROM:<a@sender.test>\r\n")
	if msg := c.expect(500); !strings.Contains(msg, "bare <CR>") {
		t.Errorf("bare CR: %q", msg)
	}
	// Counted as syntax errors: the fourth ends the session.
	io.WriteString(c.c, "NOOP\n\r\n")
	c.expect(500)
	c.expect(421)
	if _, err := c.tp.ReadLine(); err == nil {
		t.Error("connection still open")
	}
	if n := len(ts.files(t, "")); n != 0 {
		t.Errorf("%d files", n)
	}
}

// A line that never sees its CRLF because of bare LFs is still bounded by
// the line limit and read to its end.
func TestSmugglingBareLFLongLine(t *testing.T) {
	ts := start(t, nil)
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	io.WriteString(c.c, strings.Repeat("NOOP\n", 2000)+"\r\nNOOP\r\n")
	c.expect(500)
	c.expect(250)
}

// rawReplies reads replies byte by byte up to and including the one
// whose last line has code want, and checks the framing: every line
// ends CRLF, has no other CR, LF or control, is 7-bit and at most 512
// octets.
func rawReplies(t *testing.T, r *bufio.Reader) [][]byte {
	t.Helper()
	var lines [][]byte
	for {
		l, err := r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("reading reply: %v (so far %q)", err, lines)
		}
		lines = append(lines, l)
		if !bytes.HasSuffix(l, []byte("\r\n")) {
			t.Errorf("reply line %q does not end CRLF", l)
		}
		if len(l) > 512 {
			t.Errorf("reply line of %d octets: %.80q...", len(l), l)
		}
		for _, b := range l[:len(l)-2] {
			if b < ' ' || b > '~' {
				t.Errorf("reply line %q has byte %#x", l, b)
				break
			}
		}
		if len(l) >= 4 && l[3] == ' ' {
			return lines
		}
	}
}

func TestRepliesSevenBit(t *testing.T) {
	ts := start(t, nil)
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(conn)
	rawReplies(t, r)
	hostile := []string{"\u0085", "\u202e", "\xff", "\xc3", "\x7f", "\x1b[31m"}
	var cmds []string
	for _, h := range hostile {
		cmds = append(cmds,
			"EHLO evil"+h+".test",
			"HELO "+h,
			"MAIL FROM:<a"+h+"@sender.test>",
			"MAIL FROM:<a@sender.test> X-"+h+"=1",
			"MAIL FROM:<a@sender.test> SIZE="+h,
			"MAIL FROM:<a@sender.test> BODY="+h,
			"MAIL FROM:<a@sender.test> AUTH=<"+h+">",
			"RCPT TO:<b"+h+"@example.com>",
			"VRFY "+h,
			h+"NOOP",
		)
	}
	cmds = append(cmds, "EHLO client.test", "MAIL FROM:<a@sender.test> "+strings.Repeat("X", 1500), "MAIL FROM:<a@sender.test> "+strings.Repeat("A", 1900)+"=1")
	for _, cmd := range cmds {
		fmt.Fprintf(conn, "%s\r\n", cmd)
		lines := rawReplies(t, r)
		if t.Failed() {
			t.Fatalf("after %q: %q", cmd, lines)
		}
		if bytes.HasPrefix(lines[len(lines)-1], []byte("421")) {
			// Too many errors: start again.
			conn.Close()
			if conn, err = net.Dial("tcp", ts.addr); err != nil {
				t.Fatal(err)
			}
			conn.SetDeadline(time.Now().Add(20 * time.Second))
			r = bufio.NewReader(conn)
			rawReplies(t, r)
		}
	}
}
