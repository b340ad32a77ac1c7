package prdr_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/prdr"
	"github.com/mailpolicy/mailpolicy/prdr/prdrtest"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// policy rejects local parts starting "reject", defers "defer", like
// the Exim peer's PRDR ACL.
func policy(_ int, rcpt string) prdr.Decision {
	switch {
	case strings.HasPrefix(rcpt, "reject"):
		return prdr.Decision{Verdict: prdr.Permanent, Enhanced: "5.7.1", Text: "refused for " + rcpt}
	case strings.HasPrefix(rcpt, "defer"):
		return prdr.Decision{Verdict: prdr.Temporary}
	}
	return prdr.Decision{}
}

func start(t *testing.T, cfg prdrtest.Config) *prdrtest.Server {
	t.Helper()
	if cfg.Decide == nil {
		cfg.Decide = policy
	}
	s, err := prdrtest.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

const body = "Subject: test\n\n.leading dot\r\nline\n..two\n"
const wire = "Subject: test\r\n\r\n.leading dot\r\nline\r\n..two\r\n"

func statuses(res *prdr.SendResult) string {
	var b []string
	for _, o := range res.Recipients {
		code := "---"
		if o.Reply.Code != 0 {
			code = o.Reply.String()[:3]
		}
		b = append(b, o.Status.String()+"/"+code)
	}
	return strings.Join(b, " ")
}

func TestSendRoundTrip(t *testing.T) {
	to := []string{"ok@x.test", "reject1@x.test", "defer1@x.test"}
	tests := []struct {
		name     string
		cfg      prdrtest.Config
		opts     []prdr.Option
		to       []string
		want     string
		prdrUsed bool
		bdat     bool
		dataCmd  string
	}{
		{"DATA", prdrtest.Config{}, nil, to, "delivered/250 failed/550 deferred/450", true, false, "DATA"},
		{"BDAT one chunk", prdrtest.Config{}, []prdr.Option{prdr.WithBDAT(0)}, to, "delivered/250 failed/550 deferred/450", true, true, "BDAT 44 LAST"},
		{"BDAT chunks", prdrtest.Config{}, []prdr.Option{prdr.WithBDAT(7)}, to, "delivered/250 failed/550 deferred/450", true, true, "BDAT 2 LAST"},
		{"BDAT not offered", prdrtest.Config{NoChunking: true}, []prdr.Option{prdr.WithBDAT(0)}, to, "delivered/250 failed/550 deferred/450", true, false, "DATA"},
		{"PRDR not offered", prdrtest.Config{NoPRDR: true}, nil, to, "delivered/250 delivered/250 delivered/250", false, false, "DATA"},
		{"NoPRDR option", prdrtest.Config{}, []prdr.Option{prdr.WithoutPRDR()}, to, "delivered/250 delivered/250 delivered/250", false, false, "DATA"},
		{"one recipient", prdrtest.Config{}, nil, []string{"reject@x.test"}, "failed/550", false, false, "DATA"},
		{"all refused", prdrtest.Config{}, nil, []string{"reject1@x", "reject2@x"}, "failed/550 failed/550", true, false, "DATA"},
		{"all deferred (Exim would say 250)", prdrtest.Config{}, nil, []string{"defer1@x", "defer2@x"}, "deferred/450 deferred/450", true, false, "DATA"},
		{"RCPT refused", prdrtest.Config{RejectRcpt: func(r string) smtp.Reply {
			if r == "ok@x.test" {
				return smtp.Reply{Code: 550, Text: []string{"5.1.1 no such user"}}
			}
			return smtp.Reply{}
		}}, nil, to, "failed/550 failed/550 deferred/450", true, false, "DATA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, tt.cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := prdr.Send(ctx, s.Addr, "sender@y.test", tt.to, strings.NewReader(body), tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if got := statuses(res); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if res.Requested != tt.prdrUsed || res.Chunking != tt.bdat || res.DataCmd != tt.dataCmd {
				t.Errorf("Requested %v Chunking %v DataCmd %q", res.Requested, res.Chunking, res.DataCmd)
			}
			msgs := s.Messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages", len(msgs))
			}
			if string(msgs[0].Data) != wire {
				t.Errorf("data %q, want %q", msgs[0].Data, wire)
			}
			if msgs[0].Outcome.PRDR != (tt.prdrUsed && len(msgs[0].Recipients) > 1) {
				t.Errorf("server PRDR = %v", msgs[0].Outcome.PRDR)
			}
		})
	}
}

func TestSendMessages(t *testing.T) {
	s := start(t, prdrtest.Config{})
	res, err := prdr.Send(context.Background(), s.Addr, "", []string{"ok@x", "reject@x"}, strings.NewReader("x\n"), prdr.WithBDAT(0))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Recipients[1].Message; got != "PRDR error after BDAT 3 LAST: 550 5.7.1 refused for reject@x" {
		t.Errorf("Message = %q", got)
	}
	if got := res.Recipients[0].Message; got != `250 PRDR R=<ok@x> acceptance\n250 message accepted for some recipients` {
		t.Errorf("Message = %q", got)
	}
}

func TestSendSlowServer(t *testing.T) {
	s := start(t, prdrtest.Config{Delay: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	_, err := prdr.Send(ctx, s.Addr, "a@x", []string{"b@x", "c@x"}, strings.NewReader("x"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(t0); d > 1500*time.Millisecond {
		t.Errorf("took %v", d)
	}
}

func TestSendCancel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accept, never greet
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.Copy(io.Discard, c) // until the client gives up
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err = prdr.Send(ctx, ln.Addr().String(), "a@x", []string{"b@x"}, strings.NewReader("x"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want canceled", err)
	}
}

// fakeServer answers with a fixed script, one reply per line read by
// its verb; a reply ending in "<close>" is followed by a hang-up.
func fakeServer(t *testing.T, greeting string, replies map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte(greeting))
		buf := make([]byte, 4096)
		var acc string
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			acc += string(buf[:n])
			for {
				line, rest, ok := strings.Cut(acc, "\r\n")
				if !ok {
					break
				}
				acc = rest
				verb, _, _ := strings.Cut(line, " ")
				verb, _, _ = strings.Cut(verb, ":")
				if r, ok := replies[strings.ToUpper(verb)]; ok {
					r, hangUp := strings.CutSuffix(r, "<close>")
					c.Write([]byte(r))
					if hangUp {
						return
					}
				}
			}
		}
	}()
	return ln.Addr().String()
}

func TestSendErrors(t *testing.T) {
	std := map[string]string{
		"EHLO": "250-fake\r\n250 PRDR\r\n", "MAIL": "250 ok\r\n", "RCPT": "250 ok\r\n",
		"DATA": "354 go\r\n", ".": "353 go\r\n250 a\r\n", "QUIT": "221 bye\r\n",
	}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for a, b := range std {
			m[a] = b
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	var ce *smtp.CommandError
	if _, err := prdr.Send(context.Background(), fakeServer(t, "554 go away\r\n", std), "a@x", []string{"b@x"}, strings.NewReader("x")); !errors.As(err, &ce) || ce.Reply.Code != 554 {
		t.Errorf("greeting: %v", err)
	}
	if _, err := prdr.Send(context.Background(), fakeServer(t, "220 hi\r\n", with("EHLO", "502 no\r\n", "HELO", "502 no\r\n")), "a@x", []string{"b@x"}, strings.NewReader("x")); !errors.As(err, &ce) {
		t.Errorf("EHLO: %v", err)
	}
	// Truncated PRDR block: the server closes after one recipient reply.
	res, err := prdr.Send(context.Background(), fakeServer(t, "220 hi\r\n", with(".", "353 go\r\n250 a\r\n<close>")), "a@x", []string{"b@x", "c@x"}, strings.NewReader("x"))
	if err == nil || res == nil || res.Recipients[0].Status != prdr.Deferred || res.Recipients[0].Err == nil {
		t.Errorf("truncated: %v %+v", err, res)
	}
	// MAIL refused: not an error, every recipient gets the reply.
	res, err = prdr.Send(context.Background(), fakeServer(t, "220 hi\r\n", with("MAIL", "452 full\r\n")), "a@x", []string{"b@x", "c@x"}, strings.NewReader("x"))
	if err != nil || statuses(res) != "deferred/452 deferred/452" {
		t.Errorf("MAIL refused: %v %s", err, statuses(res))
	}
	if _, err := prdr.Send(context.Background(), fakeServer(t, "220 "+strings.Repeat("x", 200<<10), std), "a@x", []string{"b@x"}, strings.NewReader("x")); !errors.Is(err, smtp.ErrLineTooLong) {
		t.Errorf("endless line: %v", err)
	}
	if _, err := prdr.Send(context.Background(), "127.0.0.1:1", "a@x", []string{"b@x"}, strings.NewReader("x")); err == nil {
		t.Error("no error for a refused connection")
	}
	if _, err := prdr.Send(context.Background(), "127.0.0.1:1", "a@x", []string{"b>@x"}, strings.NewReader("x")); err == nil {
		t.Error("no error for a bad address")
	}
}
