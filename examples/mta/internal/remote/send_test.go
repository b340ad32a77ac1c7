package remote

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/queue"
)

// A server offering PIPELINING gets MAIL, the RCPTs and DATA in one
// group; one offering CHUNKING too gets the message with BDAT (Exim's
// hosts_try_chunking = *), in chunks, whole; one offering neither is
// spoken to in lock step.
func TestSendPipeliningAndChunking(t *testing.T) {
	msg := bigMessage(300 << 10)
	for _, tc := range []struct {
		ext             []string
		pipelined, bdat bool
	}{
		{nil, false, false},
		{[]string{"PIPELINING"}, true, false},
		{[]string{"PIPELINING", "CHUNKING"}, true, true},
	} {
		t.Run(strings.Join(tc.ext, "+"), func(t *testing.T) {
			p := startPeer(t, &peer{ext: tc.ext, rcpt: func(a string) string {
				if strings.HasPrefix(a, "no") {
					return "550 5.1.1 no such user"
				}
				return ""
			}})
			q := courierFor(t, p.port(), "remote.test")
			env := envelope("s1", "alice@example.com", "bob@remote.test", "nobody@remote.test", "carol@remote.test")
			q.Deliver(context.Background(), delivery(env, spoolFile(t, msg)))
			got := ""
			for _, r := range env.Rcpts {
				got += r.State + " "
			}
			if got != "delivered failed delivered " || !strings.Contains(env.Rcpts[1].Message, "after RCPT TO:<nobody@remote.test>: 550 5.1.1") {
				t.Fatalf("results %s %+v", got, env.Rcpts[1])
			}
			ms := p.messages()
			if len(ms) != 1 {
				t.Fatalf("%d messages", len(ms))
			}
			m := ms[0]
			if m.pipelined != tc.pipelined || m.bdat != tc.bdat || m.size != int64(len(msg)) || !bytes.HasPrefix(msg, []byte(m.head)) {
				t.Errorf("pipelined %v bdat %v size %d of %d", m.pipelined, m.bdat, m.size, len(msg))
			}
			if strings.Join(m.rcpts, " ") != "bob@remote.test carol@remote.test" {
				t.Errorf("recipients %v", m.rcpts)
			}
			var bdats int
			for _, c := range p.commands(1) {
				if strings.HasPrefix(c, "BDAT") {
					bdats++
				}
			}
			if tc.bdat && bdats < 2 {
				t.Errorf("%d BDAT chunks for %d bytes", bdats, len(msg))
			}
		})
	}
}

// With every recipient refused, nothing is sent, pipelined or not.
func TestSendAllRefused(t *testing.T) {
	for _, ext := range [][]string{nil, {"PIPELINING"}, {"PIPELINING", "CHUNKING"}} {
		p := startPeer(t, &peer{ext: ext, rcpt: func(string) string { return "450 4.2.1 busy" }})
		q := courierFor(t, p.port(), "remote.test")
		env := envelope("s2", "alice@example.com", "bob@remote.test")
		q.Deliver(context.Background(), delivery(env, spoolFile(t, []byte("Subject: x\r\n\r\nbody\r\n"))))
		if r := env.Rcpts[0]; r.State != queue.Pending || !strings.Contains(r.Message, "450 4.2.1 busy") {
			t.Errorf("%v: %+v", ext, r)
		}
		if len(p.messages()) != 0 {
			t.Errorf("%v: a message was delivered", ext)
		}
	}
}
