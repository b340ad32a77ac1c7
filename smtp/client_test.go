package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

const ehloPRDR = "250-mx.test Hello\r\n250-SIZE 1000\r\n250-PIPELINING\r\n250-prdr\r\n250-CHUNKING\r\n250 STARTTLS\r\n"

func TestClientTransactionPRDR(t *testing.T) {
	var got string
	c := dial(t, func(p *peer) {
		p.send("220 mx.test ESMTP\r\n")
		p.expect("EHLO client.test", ehloPRDR)
		if l := p.expect("MAIL FROM:<a@x.test>", "250 OK, PRDR Requested\r\n"); l != "MAIL FROM:<a@x.test> SIZE=20 BODY=8BITMIME PRDR ENVID=id+2B1" {
			t.Errorf("MAIL line %q", l)
		}
		if l := p.expect("RCPT TO:<b@y.test>", "250 ok\r\n"); l != "RCPT TO:<b@y.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+2B1@y.test" {
			t.Errorf("RCPT line %q", l)
		}
		p.expect("RCPT TO:<c@y.test>", "550 5.1.1 no such user\r\n")
		p.expect("RCPT TO:<d@y.test>", "250 ok\r\n")
		p.expect("DATA", "354 go ahead\r\n")
		got = p.data()
		p.send("353 PRDR content analysis beginning\r\n250 PRDR R=<b@y.test> acceptance\r\n550-5.7.1 no\r\n550 5.7.1 thanks\r\n250 message accepted for some recipients\r\n")
		p.expect("QUIT", "221 bye\r\n")
	})
	var stages []string
	c.OnReply = func(stage string, r Reply) { stages = append(stages, stage+" "+r.String()[:3]) }
	ctx := context.Background()
	if _, err := c.Mail(ctx, "a@x.test", &MailParams{Size: 20, Body: Body8BitMIME, PRDR: true, EnvID: "id+1"}); err != nil {
		t.Fatal(err)
	}
	if !c.Extensions().Has("PRDR") || !c.ESMTP() {
		t.Errorf("extensions %v", c.Extensions())
	}
	if _, err := c.Rcpt(ctx, "b@y.test", &RcptParams{Notify: NotifySuccess | NotifyFailure, ORCPT: OriginalRecipient{"rfc822", "b+1@y.test"}}); err != nil {
		t.Fatal(err)
	}
	r, err := c.Rcpt(ctx, "c@y.test", nil)
	var ce *CommandError
	if !errors.As(err, &ce) || r.Code != 550 || ce.Reply.Enhanced().String() != "5.1.1" || ce.Cmd != "RCPT TO:<c@y.test>" {
		t.Errorf("refused RCPT: %v %v", r, err)
	}
	if _, err := c.Rcpt(ctx, "d@y.test", nil); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Data(ctx, strings.NewReader(".hi\nline\r\n..\rx"))
	if err != nil {
		t.Fatal(err)
	}
	if !resp.PRDR || len(resp.Recipients) != 2 || resp.Recipients[1].String() != "550 5.7.1 no 5.7.1 thanks" || resp.Final.Code != 250 || resp.Command != "DATA" {
		t.Errorf("response %+v", resp)
	}
	if err := c.Quit(ctx); err != nil {
		t.Fatal(err)
	}
	if want := ".hi\r\nline\r\n..\r\nx\r\n"; got != want {
		t.Errorf("server read %q, want %q", got, want)
	}
	want := "connect 220,EHLO 250,MAIL 250,RCPT 250,RCPT 550,RCPT 250,DATA 354," +
		"end of data 353,end of data 250,end of data 550,end of data 250,QUIT 221"
	if s := strings.Join(stages, ","); s != want {
		t.Errorf("stages\n%s\nwant\n%s", s, want)
	}
	if _, err := c.Noop(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("after Quit: %v", err)
	}
}

func TestClientBDAT(t *testing.T) {
	for _, tc := range []struct {
		size int
		cmds string
	}{
		{0, "BDAT 14 LAST"},
		{5, "BDAT 5,BDAT 5,BDAT 4 LAST"},
		{7, "BDAT 7,BDAT 7 LAST"},
	} {
		var cmds []string
		var data string
		c := dial(t, func(p *peer) {
			p.send("220 mx\r\n")
			p.expect("EHLO", ehloPRDR)
			p.expect("MAIL", "250 ok\r\n")
			p.expect("RCPT", "250 ok\r\n")
			for {
				l := p.line()
				cmds = append(cmds, l)
				f := strings.Fields(l)
				n := 0
				for _, c := range f[1] {
					n = n*10 + int(c-'0')
				}
				b := make([]byte, n)
				io.ReadFull(p.r, b)
				data += string(b)
				if len(f) == 3 {
					p.send("250 2.0.0 queued\r\n")
					return
				}
				p.send("250 2.0.0 chunk\r\n")
			}
		})
		ctx := context.Background()
		c.Mail(ctx, "", nil)
		c.Rcpt(ctx, "b@y", nil)
		resp, err := c.BDAT(ctx, strings.NewReader(".a\nb\rc\r\n.d"), tc.size)
		if err != nil || resp.Final.Code != 250 || resp.PRDR {
			t.Fatalf("size %d: %+v %v", tc.size, resp, err)
		}
		if s := strings.Join(cmds, ","); s != tc.cmds || resp.Command != cmds[len(cmds)-1] {
			t.Errorf("size %d: commands %s, want %s", tc.size, s, tc.cmds)
		}
		if data != ".a\r\nb\r\nc\r\n.d\r\n" {
			t.Errorf("size %d: data %q", tc.size, data)
		}
	}
}

func TestClientHELOFallback(t *testing.T) {
	c := dial(t, func(p *peer) {
		p.send("220 mx\r\n")
		p.expect("EHLO client.test", "502 no\r\n")
		p.expect("HELO client.test", "250 mx\r\n")
		p.expect("MAIL FROM:<>", "250 ok\r\n")
		p.line()
	})
	ctx := context.Background()
	r, err := c.Hello(ctx)
	if err != nil || r.Code != 250 || c.ESMTP() || c.Extensions() != nil {
		t.Fatalf("Hello: %v %v", r, err)
	}
	if _, err := c.Mail(ctx, "", &MailParams{PRDR: true}); err == nil {
		t.Error("MAIL parameters sent after HELO")
	}
	if _, err := c.Mail(ctx, "", nil); err != nil {
		t.Error(err)
	}
	if _, err := c.BDAT(ctx, strings.NewReader("x"), 0); !errors.Is(err, ErrNotOffered) {
		t.Errorf("BDAT without CHUNKING: %v", err)
	}
}

func TestClientGreetingRefused(t *testing.T) {
	c := dial(t, func(p *peer) {
		p.send("554 go away\r\n")
		p.expect("QUIT", "221 bye\r\n")
	})
	ctx := context.Background()
	_, err := c.Mail(ctx, "a@b", nil)
	var ce *CommandError
	if !errors.As(err, &ce) || ce.Cmd != "connect" || ce.Reply.Code != 554 {
		t.Fatalf("err = %v", err)
	}
	if err := c.Quit(ctx); err != nil {
		t.Errorf("Quit: %v", err)
	}
}

func TestClientStartTLS(t *testing.T) {
	cert := selfSigned(t, "mx.test")
	c := dial(t, func(p *peer) {
		p.send("220 mx\r\n")
		p.expect("EHLO", ehloPRDR)
		p.expect("STARTTLS", "220 go ahead\r\n")
		p.starttls(cert)
		p.expect("EHLO client.test", "250-mx\r\n250 SIZE\r\n")
		p.expect("MAIL", "250 ok\r\n")
		p.expect("QUIT", "221 bye\r\n")
	})
	ctx := context.Background()
	if _, ok := c.TLSConnectionState(); ok {
		t.Error("TLS before StartTLS")
	}
	if err := c.StartTLS(ctx, &tls.Config{ServerName: "mx.test", InsecureSkipVerify: true}); err != nil {
		t.Fatal(err)
	}
	if cs, ok := c.TLSConnectionState(); !ok || !cs.HandshakeComplete {
		t.Error("no TLS state")
	}
	if c.Extensions() != nil {
		t.Error("extensions kept across STARTTLS")
	}
	if _, err := c.Mail(ctx, "a@b", nil); err != nil { // EHLO again, implicitly
		t.Fatal(err)
	}
	if c.Extensions().Has("STARTTLS") || !c.Extensions().Has("size") {
		t.Errorf("extensions after TLS: %v", c.Extensions())
	}
	if err := c.StartTLS(ctx, &tls.Config{InsecureSkipVerify: true}); err == nil {
		t.Error("second StartTLS")
	}
	if err := c.Quit(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestClientStartTLSErrors(t *testing.T) {
	ctx := context.Background()
	cfg := &tls.Config{InsecureSkipVerify: true}
	// Not offered.
	c := dial(t, func(p *peer) {
		p.send("220 mx\r\n")
		p.expect("EHLO", "250-mx\r\n250 SIZE\r\n")
		p.line()
	})
	if err := c.StartTLS(ctx, cfg); !errors.Is(err, ErrNotOffered) {
		t.Errorf("not offered: %v", err)
	}
	// Refused: the session goes on in clear text.
	c = dial(t, func(p *peer) {
		p.send("220 mx\r\n")
		p.expect("EHLO", ehloPRDR)
		p.expect("STARTTLS", "454 4.7.0 TLS not available\r\n")
		p.expect("NOOP", "250 ok\r\n")
	})
	var ce *CommandError
	if err := c.StartTLS(ctx, cfg); !errors.As(err, &ce) || !ce.Temporary() {
		t.Errorf("refused: %v", err)
	}
	if _, err := c.Noop(ctx); err != nil {
		t.Errorf("after refusal: %v", err)
	}
	// Injection: a command pipelined behind the 220.
	c = dial(t, func(p *peer) {
		p.send("220 mx\r\n")
		p.expect("EHLO", ehloPRDR)
		p.expect("STARTTLS", "220 go ahead\r\n250 injected\r\n")
		p.line()
	})
	var pe *ProtocolError
	if err := c.StartTLS(ctx, cfg); !errors.As(err, &pe) {
		t.Errorf("injection: %v", err)
	}
	if c.Err() == nil {
		t.Error("client still usable after injection")
	}
}

func TestClientTimeouts(t *testing.T) {
	silent := func(p *peer) { p.line() }
	drip := func(p *peer) {
		p.send("220-")
		for range 100 {
			time.Sleep(20 * time.Millisecond)
			if _, err := p.conn.Write([]byte("x")); err != nil {
				return
			}
		}
	}
	for _, tc := range []struct {
		name   string
		script func(*peer)
		ctx    func() (context.Context, context.CancelFunc)
		want   error
	}{
		{"Timeout", silent, func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, os.ErrDeadlineExceeded},
		{"slow drip", drip, func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, os.ErrDeadlineExceeded},
		{"ctx deadline", silent, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}, context.DeadlineExceeded},
		{"ctx cancel", silent, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, tc.script)
			c.Timeout = 300 * time.Millisecond
			ctx, cancel := tc.ctx()
			defer cancel()
			t0 := time.Now()
			_, err := c.Hello(ctx)
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if d := time.Since(t0); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			if _, err2 := c.Noop(context.Background()); err2 == nil {
				t.Error("client usable after a timeout")
			}
		})
	}
}

func TestClientHostileReplies(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		greeting string
		want     error
	}{
		{"endless line", "220 " + strings.Repeat("x", 200<<10), ErrLineTooLong},
		{"too many lines", strings.Repeat("220-x\r\n", 2000), ErrReplyTooLarge},
		{"bare LF", "220 a\n220 b\r\n", ErrMalformed},
		{"cut short", "220-a\r\n", io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, func(p *peer) { p.send(tc.greeting); p.conn.(interface{ CloseWrite() error }).CloseWrite(); p.line() })
			if _, err := c.Greet(ctx); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestClientPRDRProtocolError(t *testing.T) {
	c := dial(t, func(p *peer) {
		p.send("220 mx\r\n")
		p.expect("EHLO", ehloPRDR)
		p.expect("MAIL", "250 ok\r\n")
		p.expect("RCPT", "250 ok\r\n")
		p.expect("RCPT", "250 ok\r\n")
		p.expect("DATA", "354 go\r\n")
		p.data()
		p.send("353 go\r\n250 a\r\n354 what\r\n")
		p.line()
	})
	ctx := context.Background()
	c.Mail(ctx, "a@b", &MailParams{PRDR: true})
	c.Rcpt(ctx, "x@y", nil)
	c.Rcpt(ctx, "z@y", nil)
	resp, err := c.Data(ctx, strings.NewReader("x"))
	var pe *ProtocolError
	if !errors.As(err, &pe) || resp == nil || len(resp.Recipients) != 1 || c.Err() == nil {
		t.Errorf("%+v %v", resp, err)
	}
}

func TestClientDataSourceError(t *testing.T) {
	var got string
	addr, done := serve(t, func(p *peer) {
		p.send("220 mx\r\n")
		p.expect("EHLO", ehloPRDR)
		p.expect("MAIL", "250 ok\r\n")
		p.expect("RCPT", "250 ok\r\n")
		p.expect("DATA", "354 go\r\n")
		b, _ := io.ReadAll(p.r)
		got = string(b)
	})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(conn)
	ctx := context.Background()
	c.Mail(ctx, "a@b", nil)
	c.Rcpt(ctx, "x@y", nil)
	_, err = c.Data(ctx, io.MultiReader(strings.NewReader("half\n"), iotest.ErrReader(errors.New("disk"))))
	if err == nil || !strings.Contains(err.Error(), "disk") {
		t.Fatalf("err = %v", err)
	}
	c.Close()
	<-done
	if got != "" && got != "half\r\n" {
		t.Errorf("server got %q after a read error (no final dot wanted)", got)
	}
}

func TestClientRefusesInjection(t *testing.T) {
	c := dial(t, func(p *peer) { p.line() })
	ctx := context.Background()
	for _, a := range []string{"a@b>\r\nRSET", "a\x00@b", "<a@b"} {
		var pe *PathError
		if _, err := c.Mail(ctx, a, nil); !errors.As(err, &pe) {
			t.Errorf("Mail(%q): %v", a, err)
		}
	}
	if _, err := c.Mail(ctx, "a@b", &MailParams{Others: []Param{{Keyword: "X", Value: "a\r\nRSET", HasValue: true}}}); err == nil {
		t.Error("parameter with CRLF accepted")
	}
	c.LocalName = "bad name"
	if _, err := c.Hello(ctx); err == nil {
		t.Error("bad LocalName accepted")
	}
}

// endless yields 'x' lines for ever.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
		if i%70 == 69 {
			p[i] = '\n'
		}
	}
	return len(p), nil
}

// A server that stops reading in the middle of the data cannot hold
// the client past Timeout.
func TestClientStalledWrite(t *testing.T) {
	stop := make(chan struct{})
	c := dial(t, func(p *peer) {
		p.send("220 mx\r\n")
		p.expect("EHLO", ehloPRDR)
		p.expect("MAIL", "250 ok\r\n")
		p.expect("RCPT", "250 ok\r\n")
		p.expect("DATA", "354 go\r\n")
		<-stop // read nothing more
	})
	defer close(stop)
	c.Timeout = 300 * time.Millisecond
	ctx := context.Background()
	c.Mail(ctx, "a@b", nil)
	c.Rcpt(ctx, "x@y", nil)
	t0 := time.Now()
	_, err := c.Data(ctx, endless{})
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}
