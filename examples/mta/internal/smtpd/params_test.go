package smtpd

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/prdr"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// paramBackend accepts everything and keeps the parameters it is given.
type paramBackend struct {
	mu    sync.Mutex
	mail  []smtp.MailParams
	rcpts map[string]smtp.RcptParams
	// The last message as the Backend saw it.
	stored, header, body []byte
}

func (b *paramBackend) Mail(_ context.Context, _ *Conn, _ string, p *smtp.MailParams) (Transaction, *Reply) {
	b.mu.Lock()
	b.mail = append(b.mail, *p)
	b.mu.Unlock()
	return b, nil
}

func (b *paramBackend) Rcpt(_ context.Context, _ *Conn, rcpt string, p *smtp.RcptParams) *Reply {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rcpts == nil {
		b.rcpts = map[string]smtp.RcptParams{}
	}
	b.rcpts[rcpt] = *p
	return nil
}

func (b *paramBackend) Data(_ context.Context, _ *Conn, m *Message) *DataResult {
	stored, _ := io.ReadAll(m.Reader())
	body, _ := io.ReadAll(m.Body())
	b.mu.Lock()
	b.stored, b.header, b.body = stored, bytes.Clone(m.Header()), body
	b.mu.Unlock()
	return &DataResult{Decisions: []prdr.Decision{{}}, MessageID: "1"}
}

func (b *paramBackend) lastMail() smtp.MailParams {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.mail[len(b.mail)-1]
}

func (b *paramBackend) rcpt(a string) (smtp.RcptParams, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.rcpts[a]
	return p, ok
}

type paramClient struct {
	t  *testing.T
	tp *textproto.Conn
}

// startParams serves a Server with b on 127.0.0.1 and says EHLO; it
// returns the EHLO reply.
func startParams(t *testing.T, b Backend) (*paramClient, string) {
	t.Helper()
	srv, err := New(Config{Hostname: "mx.example", Backend: b, MaxErrors: 50, ReadTimeout: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	tp, err := textproto.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.Close() })
	c := &paramClient{t: t, tp: tp}
	if _, _, err := tp.ReadResponse(220); err != nil {
		t.Fatal(err)
	}
	return c, c.ok("EHLO client.test", 250)
}

// ok sends line and wants code; it returns the reply text.
func (c *paramClient) ok(line string, code int) string {
	c.t.Helper()
	if err := c.tp.PrintfLine("%s", line); err != nil {
		c.t.Fatal(err)
	}
	got, msg, err := c.tp.ReadResponse(0)
	if got != code {
		c.t.Fatalf("%q: %d %s (%v), want %d", line, got, msg, err, code)
	}
	return msg
}

func TestEHLOOffersDSNAndSMTPUTF8(t *testing.T) {
	_, ehlo := startParams(t, &paramBackend{})
	for _, kw := range []string{"DSN", "SMTPUTF8", "8BITMIME"} {
		if !strings.Contains("\n"+ehlo+"\n", "\n"+kw+"\n") {
			t.Errorf("EHLO lacks %s:\n%s", kw, ehlo)
		}
	}
}

func TestDSNParams(t *testing.T) {
	b := &paramBackend{}
	c, _ := startParams(t, b)
	c.ok("MAIL FROM:<a@sender.test> RET=FULL ENVID=QQ+2B1", 250)
	if mp := b.lastMail(); mp.Ret != smtp.RetFull || mp.EnvID != "QQ+1" {
		t.Errorf("MAIL params %+v", mp)
	}
	c.ok("RCPT TO:<b@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig+40x@example.org", 250)
	if rp, _ := b.rcpt("b@example.com"); rp.Notify != smtp.NotifySuccess|smtp.NotifyFailure || rp.ORCPT != (smtp.OriginalRecipient{Type: "rfc822", Addr: "orig@x@example.org"}) {
		t.Errorf("RCPT params %+v", rp)
	}
	c.ok("RCPT TO:<c@example.com> NOTIFY=never", 250)
	if rp, _ := b.rcpt("c@example.com"); rp.Notify != smtp.NotifyNever {
		t.Errorf("NOTIFY=never: %+v", rp)
	}
	for line, code := range map[string]int{
		"RCPT TO:<d@example.com> NOTIFY=NEVER,SUCCESS":        501, // NEVER excludes the others
		"RCPT TO:<d@example.com> NOTIFY=SOMETIMES":            501,
		"RCPT TO:<d@example.com> NOTIFY=FAILURE NOTIFY=DELAY": 501,
		"RCPT TO:<d@example.com> ORCPT=rfc822":                501,
		"RCPT TO:<d@example.com> ORCPT=rfc822;+C3+A9@x.test":  501, // not ASCII once decoded
		"RCPT TO:<d@example.com> ORCPT=utf-8;+C3+A9@x.test":   501, // UTF-8 needs SMTPUTF8
		"RCPT TO:<d@example.com> FOO=1":                       555,
	} {
		msg := c.ok(line, code)
		if !strings.HasPrefix(msg, "5.5.4 ") {
			t.Errorf("%q: %q, want 5.5.4", line, msg)
		}
	}
	if _, ok := b.rcpt("d@example.com"); ok {
		t.Error("a refused RCPT reached the backend")
	}
	c.ok("RSET", 250)
	c.ok("MAIL FROM:<a@sender.test> RET=SOME", 501)
	c.ok("MAIL FROM:<a@sender.test> ENVID="+strings.Repeat("x", 101), 501)
}

func TestSMTPUTF8(t *testing.T) {
	b := &paramBackend{}
	c, _ := startParams(t, b)
	if msg := c.ok("MAIL FROM:<ünï@sender.test>", 550); !strings.HasPrefix(msg, "5.6.7 ") {
		t.Errorf("non-ASCII sender without SMTPUTF8: %q", msg)
	}
	c.ok("MAIL FROM:<ünï@sender.test> SMTPUTF8", 250)
	if !b.lastMail().SMTPUTF8 {
		t.Error("SMTPUTF8 not passed to the backend")
	}
	c.ok(`RCPT TO:<bøb@exämple.com> ORCPT=utf-8;b\x{F8}b@ex\x{E4}mple.com`, 250)
	if rp, ok := b.rcpt("bøb@exämple.com"); !ok || rp.ORCPT.Addr != `b\x{F8}b@ex\x{E4}mple.com` {
		t.Errorf("UTF-8 recipient %+v %v", rp, ok)
	}
	// UTF-8 in the decoded ORCPT of the utf-8 type: with SMTPUTF8 only.
	c.ok("RCPT TO:<carl@example.com> ORCPT=utf-8;c+C3+A4rl@example.com", 250)
	c.ok("RCPT TO:<b\xffb@example.com>", 501) // not UTF-8
	c.ok("RSET", 250)
	c.ok("MAIL FROM:<a@sender.test>", 250)
	if msg := c.ok("RCPT TO:<bøb@example.com>", 553); !strings.HasPrefix(msg, "5.6.7 ") {
		t.Errorf("non-ASCII recipient without SMTPUTF8: %q", msg)
	}
	c.ok("RCPT TO:<bob@example.com>", 250)
}

func FuzzRcptParams(f *testing.F) {
	for _, s := range []string{"NOTIFY=NEVER", "NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a@b", "ORCPT=utf-8;\xc3\xa9", "X=1", "NOTIFY=NEVER,FAILURE"} {
		f.Add(s, false)
	}
	s := &session{}
	f.Fuzz(func(t *testing.T, params string, utf8 bool) {
		rp, r := s.rcptParams(params, utf8)
		if (rp == nil) == (r == nil) {
			t.Fatalf("%q: params %v and reply %v", params, rp, r)
		}
		if r != nil {
			if r.Code != 501 && r.Code != 555 {
				t.Fatalf("%q: code %d", params, r.Code)
			}
			return
		}
		if rp.Notify&smtp.NotifyNever != 0 && rp.Notify != smtp.NotifyNever || len(rp.Others) > 0 {
			t.Fatalf("%q accepted as %+v", params, rp)
		}
		if !utf8 && !printableASCII(rp.ORCPT.Addr) {
			t.Fatalf("%q: ORCPT %q accepted without SMTPUTF8", params, rp.ORCPT.Addr)
		}
	})
}
