//go:build interop

// Interop tests of Client.Send against real servers from the shared
// peers (../shared/peers/README.md):
//
//   - TestInteropSendExim: Exim 4.96 on 127.0.0.1:2525 (PIPELINING,
//     CHUNKING, PRDR; peer-exim.sh), with DATA and with BDAT: a refused
//     RCPT, PRDR per-recipient replies (its PRDR ACL rejects local parts
//     starting "prdr-reject" and defers "prdr-defer"), then RSET and a
//     second Send on the same connection; both messages must be in
//     Exim's maildir, and Exim's mainlog must show the pipelined
//     commands (its smtp_enforce_sync would have cut a client that sent
//     data ahead of the 354).
//   - TestInteropSendSmtpSink: Postfix's smtp-sink (peer-smtp-sink.sh)
//     as a private instance with its own dump directory and port, once
//     offering PIPELINING and once not (-p), two Sends per connection;
//     each transaction's dump must hold the recipients and the message.
//
// Environment: MAILPOLICY_SHARED, MAILPOLICY_INTEROP_REQUIRED,
// EXIM_STATE, EXIM_PORT (see internal/peertest).

package smtp_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/internal/peertest"
	"github.com/mailpolicy/mailpolicy/smtp"
)

func interopDial(t *testing.T, addr string) *smtp.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := smtp.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	c.LocalName = "client.test"
	c.Timeout = 30 * time.Second
	t.Cleanup(func() { c.Close() })
	return c
}

func TestInteropSendExim(t *testing.T) {
	exim := peertest.EximPeer()
	exim.Use(t)
	for _, bdat := range []bool{false, true} {
		t.Run(fmt.Sprint("bdat=", bdat), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			tag := fmt.Sprintf("pipe%d", time.Now().UnixNano())
			c := interopDial(t, exim.Addr)
			var stages []string
			c.OnReply = func(stage string, r smtp.Reply) { stages = append(stages, fmt.Sprintf("%s %d", stage, r.Code)) }
			env := &smtp.Envelope{
				From:       "sender@client.test",
				MailParams: &smtp.MailParams{PRDR: true},
				Rcpts: []string{
					"ok-" + tag + "@exim.test",
					"unqualified-" + tag, // Exim refuses a recipient without a domain
					"prdr-reject-" + tag + "@exim.test",
					"prdr-defer-" + tag + "@exim.test",
				},
			}
			msg := "Subject: " + tag + " first\n\n.a line with a dot\nbody\n"
			res, err := c.Send(ctx, env, strings.NewReader(msg), smtp.SendOptions{BDAT: bdat, ChunkSize: 16})
			if err != nil {
				t.Fatalf("%v (%+v, stages %v)", err, res, stages)
			}
			t.Logf("stages: %s", strings.Join(stages, ", "))
			if !res.Pipelined || res.Chunking != bdat {
				t.Errorf("Pipelined %v Chunking %v: Exim offers PIPELINING and CHUNKING", res.Pipelined, res.Chunking)
			}
			if res.Mail.Class() != 2 || res.Rcpts[0].Code != 250 || res.Rcpts[1].Class() != 5 || res.Rcpts[2].Code != 250 || res.Rcpts[3].Code != 250 || res.Accepted != 3 {
				t.Errorf("envelope replies %v %v", res.Mail, res.Rcpts)
			}
			d := res.Data
			if d == nil || !d.PRDR || len(d.Recipients) != 3 || d.Recipients[0].Code != 250 || d.Recipients[1].Code != 550 || d.Recipients[2].Code != 450 || d.Final.Code != 250 {
				t.Fatalf("data %+v", d)
			}
			if _, err := c.Reset(ctx); err != nil {
				t.Fatal(err)
			}
			res, err = c.Send(ctx, &smtp.Envelope{From: "sender@client.test", Rcpts: []string{"again-" + tag + "@exim.test"}},
				strings.NewReader("Subject: "+tag+" second\n\nbody\n"), smtp.SendOptions{BDAT: bdat})
			if err != nil || res.Data.PRDR || res.Data.Final.Code != 250 {
				t.Fatalf("second Send: %+v %v", res, err)
			}
			if err := c.Quit(ctx); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"ok-" + tag + "@exim.test", "again-" + tag + "@exim.test"} {
				if !eximDelivered(t, exim.State, want, tag, 10*time.Second) {
					t.Errorf("no message for %s in %s/maildir", want, exim.State)
				}
			}
			// Delivered with the others, if at all: no need to wait.
			if eximDelivered(t, exim.State, "prdr-reject-"+tag+"@exim.test", tag, 0) {
				t.Error("the PRDR-rejected recipient got the message")
			}
			// Exim's log_selector +pipelining adds " L" to the <= line,
			// with a trailing "-" when the client did not pipeline
			// (receive.c: !smtp_in_pipelining_used).
			log, _ := os.ReadFile(filepath.Join(exim.State, "log", "mainlog"))
			seen := false
			for _, l := range strings.Split(string(log), "\n") {
				if strings.Contains(l, "synchronization error") && strings.Contains(l, "client.test") {
					t.Errorf("Exim saw a synchronization error: %s", l)
				}
				if !strings.Contains(l, " <= ") || !strings.Contains(l, `T="`+tag+` first"`) {
					continue
				}
				seen = true
				for _, f := range strings.Fields(l) {
					if strings.HasPrefix(f, "L") && len(f) <= 3 && strings.HasSuffix(f, "-") {
						t.Errorf("Exim did not see the commands pipelined (%s): %s", f, l)
					}
				}
				if !strings.Contains(l, " PRDR ") {
					t.Errorf("no PRDR on the <= line: %s", l)
				}
			}
			if !seen {
				t.Errorf("no <= line for %s in the mainlog", tag)
			}
		})
	}
}

// eximDelivered reports whether Exim's maildir holds a message for rcpt
// whose text has tag, waiting up to wait for the delivery process.
func eximDelivered(t *testing.T, state, rcpt, tag string, wait time.Duration) bool {
	t.Helper()
	for deadline := time.Now().Add(wait); ; {
		for _, sub := range []string{"new", "cur"} {
			files, _ := filepath.Glob(filepath.Join(state, "maildir", sub, "*"))
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err == nil && strings.Contains(string(b), tag) && strings.Contains(string(b), "Envelope-to: "+rcpt) {
					return true
				}
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// sink is a private smtp-sink: its own state directory and port.
type sink struct {
	state, addr string
}

func startSink(t *testing.T, args string) sink {
	t.Helper()
	script := peertest.SharedScript("peer-smtp-sink.sh")
	if _, err := os.Stat(script); err != nil {
		peertest.Unavailable(t, "smtp-sink", "%v", err)
	}
	// smtp-sink runs as nobody, who must reach the dump directory: not
	// under t.TempDir(), whose parents are private.
	if err := os.MkdirAll("/tmp/peers", 0o755); err != nil {
		t.Fatal(err)
	}
	state, err := os.MkdirTemp("/tmp/peers", "smtp-sink-pipeline-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(state, 0o755)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	env := []string{"SINK_STATE=" + state, "SINK_PORT=" + port, "SINK_ARGS=" + args}
	t.Cleanup(func() {
		peertest.Run(script, env, "stop")
		os.RemoveAll(state)
	})
	if _, err := peertest.Run(script, env, "start"); err != nil {
		peertest.Unavailable(t, "smtp-sink", "%v", err)
	}
	if !peertest.Listening(addr) {
		peertest.Unavailable(t, "smtp-sink", "not listening on %s", addr)
	}
	return sink{state: state, addr: addr}
}

// dumps returns the text of the sink's transaction dumps.
func (s sink) dumps(t *testing.T) []string {
	t.Helper()
	var out []string
	filepath.Walk(filepath.Join(s.state, "mail"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			if b, err := os.ReadFile(p); err == nil {
				out = append(out, string(b))
			}
		}
		return nil
	})
	return out
}

func TestInteropSendSmtpSink(t *testing.T) {
	for _, tc := range []struct {
		name string
		args string
		pipe bool
	}{{"pipelining", "", true}, {"lock step", "-p", false}} {
		t.Run(tc.name, func(t *testing.T) {
			s := startSink(t, tc.args)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			c := interopDial(t, s.addr)
			tag := fmt.Sprintf("sink%d", time.Now().UnixNano())
			var rcpts []string
			for i := range 12 {
				rcpts = append(rcpts, fmt.Sprintf("r%d-%s@sink.test", i, tag))
			}
			bdat := false
			for i, env := range []*smtp.Envelope{
				{From: "a@client.test", MailParams: &smtp.MailParams{Body: smtp.Body8BitMIME}, Rcpts: rcpts},
				{From: "b@client.test", Rcpts: rcpts[:1]},
			} {
				res, err := c.Send(ctx, env, strings.NewReader(fmt.Sprintf("Subject: %s %d\n\n.dot\nbody\n", tag, i)), smtp.SendOptions{BDAT: true})
				if err != nil {
					t.Fatalf("Send %d: %v (%+v)", i, err, res)
				}
				bdat = res.Chunking
				if res.Pipelined != tc.pipe || res.Accepted != len(env.Rcpts) || res.Data.Final.Class() != 2 {
					t.Errorf("Send %d: %+v", i, res)
				}
				if _, err := c.Reset(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.Quit(ctx); err != nil {
				t.Fatal(err)
			}
			t.Logf("CHUNKING offered and used: %v", bdat)
			var found [2]bool
			deadline := time.Now().Add(10 * time.Second)
			for !(found[0] && found[1]) && time.Now().Before(deadline) {
				for _, d := range s.dumps(t) {
					for i := range found {
						if strings.Contains(d, fmt.Sprintf("Subject: %s %d", tag, i)) && strings.Contains(d, "\n.dot\n") {
							found[i] = true
							if i == 0 {
								for _, r := range rcpts {
									if !strings.Contains(d, r) {
										t.Errorf("dump of the first message lacks %s:\n%s", r, d)
									}
								}
							}
						}
					}
				}
				if !(found[0] && found[1]) {
					time.Sleep(100 * time.Millisecond)
				}
			}
			if !found[0] || !found[1] {
				t.Errorf("dumps found %v; dumps: %q", found, s.dumps(t))
			}
		})
	}
}
