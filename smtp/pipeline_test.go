package smtp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	ehloPipe  = "250-mx.test Hello\r\n250-SIZE 100000\r\n250-PIPELINING\r\n250-PRDR\r\n250 CHUNKING\r\n"
	ehloLock  = "250-mx.test Hello\r\n250-SIZE 100000\r\n250-PRDR\r\n250 CHUNKING\r\n" // no PIPELINING
	greetEHLO = "220 mx.test ESMTP\r\n"
)

// group reads once from the connection, as a server does that sees a
// pipelined group arrive, and returns the command lines of that one
// read. Anything after the last CRLF is an error: a group is whole
// lines.
func (p *peer) group() []string {
	p.t.Helper()
	buf := make([]byte, 64<<10) // larger than p.r's buffer: one read of the socket
	n, err := p.r.Read(buf)
	if err != nil {
		p.t.Errorf("server read: %v", err)
		return nil
	}
	s := string(buf[:n])
	if !strings.HasSuffix(s, "\r\n") {
		p.t.Errorf("group does not end with CRLF: %q", s)
	}
	lines := strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
	p.mu.Lock()
	p.log = append(p.log, lines...)
	p.mu.Unlock()
	return lines
}

// lockstep reads one command line and fails when more was sent behind
// it: a client that does not pipeline waits for the reply first.
func (p *peer) lockstep(prefix, reply string) string {
	p.t.Helper()
	l := p.line()
	if !strings.HasPrefix(l, prefix) {
		p.t.Errorf("server got %q, want %q...", l, prefix)
	}
	if n := p.r.Buffered(); n > 0 {
		rest, _ := p.r.Peek(n)
		p.t.Errorf("client sent %q before the reply to %q", rest, l)
	}
	p.send(reply)
	return l
}

// chunk reads one command line and, for BDAT, its data.
func (p *peer) chunk() (line, data string) {
	p.t.Helper()
	line = p.line()
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "BDAT" {
		return line, ""
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		p.t.Errorf("BDAT size in %q", line)
		return line, ""
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(p.r, b); err != nil {
		p.t.Errorf("chunk data: %v", err)
	}
	return line, string(b)
}

func joinLines(l []string) string { return strings.Join(l, "|") }

func codes(rs []Reply) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = strconv.Itoa(r.Code)
	}
	return strings.Join(s, ",")
}

// MAIL, the RCPTs and DATA reach the server in one read, before it has
// answered anything; the replies, mixed, are reported per recipient.
func TestSendPipelinesOneGroup(t *testing.T) {
	var got []string
	var body string
	c := dial(t, func(p *peer) {
		p.send(greetEHLO)
		p.expect("EHLO client.test", ehloPipe)
		got = p.group()
		p.send("250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 no such user\r\n450 4.2.1 try later\r\n250 2.1.5 ok\r\n354 go ahead\r\n")
		body = p.data()
		p.send("250 2.0.0 queued as X\r\n")
		p.expect("QUIT", "221 bye\r\n")
	})
	var stages []string
	c.OnReply = func(stage string, r Reply) { stages = append(stages, fmt.Sprintf("%s %d", stage, r.Code)) }
	ctx := context.Background()
	env := &Envelope{
		From:       "a@x.test",
		MailParams: &MailParams{Size: 30, Body: Body8BitMIME},
		Rcpts:      []string{"b@y.test", "c@y.test", "d@y.test", "e@y.test"},
		RcptParams: []*RcptParams{{Notify: NotifyFailure}, nil, nil, nil},
	}
	res, err := c.Send(ctx, env, strings.NewReader(".dot\nline\n"), SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := "MAIL FROM:<a@x.test> SIZE=30 BODY=8BITMIME|RCPT TO:<b@y.test> NOTIFY=FAILURE|RCPT TO:<c@y.test>|RCPT TO:<d@y.test>|RCPT TO:<e@y.test>|DATA"
	if joinLines(got) != want {
		t.Errorf("one read held\n%s\nwant\n%s", joinLines(got), want)
	}
	if !res.Pipelined || res.Chunking || res.Mail.Code != 250 || codes(res.Rcpts) != "250,550,450,250" || res.Accepted != 2 || res.DataReply.Code != 354 {
		t.Errorf("result %+v", res)
	}
	if res.Rcpts[1].Enhanced().String() != "5.1.1" || res.Rcpts[2].Enhanced().String() != "4.2.1" {
		t.Errorf("enhanced codes %v", res.Rcpts)
	}
	if res.Data == nil || res.Data.Final.String() != "250 2.0.0 queued as X" || res.Data.PRDR || res.Data.Command != "DATA" {
		t.Errorf("data %+v", res.Data)
	}
	if err := c.Quit(ctx); err != nil {
		t.Fatal(err)
	}
	if body != "..dot\r\nline\r\n" && body != ".dot\r\nline\r\n" {
		t.Errorf("body %q", body)
	}
	if s := strings.Join(stages, ","); s != "connect 220,EHLO 250,MAIL 250,RCPT 250,RCPT 550,RCPT 450,RCPT 250,DATA 354,end of data 250,QUIT 221" {
		t.Errorf("stages %s", s)
	}
}

// Without PIPELINING the server answers each command before it reads
// the next, and the same transaction still goes through.
func TestSendLockStep(t *testing.T) {
	var body string
	c := dial(t, func(p *peer) {
		p.send(greetEHLO)
		p.expect("EHLO", ehloLock)
		p.lockstep("MAIL FROM:<a@x.test>", "250 ok\r\n")
		p.lockstep("RCPT TO:<b@y.test>", "550 no\r\n")
		p.lockstep("RCPT TO:<c@y.test>", "250 ok\r\n")
		p.lockstep("DATA", "354 go\r\n")
		body = p.data()
		p.send("250 queued\r\n")
		p.lockstep("QUIT", "221 bye\r\n")
	})
	ctx := context.Background()
	res, err := c.Send(ctx, &Envelope{From: "a@x.test", Rcpts: []string{"b@y.test", "c@y.test"}}, strings.NewReader("hi"), SendOptions{BDAT: false})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pipelined || codes(res.Rcpts) != "550,250" || res.Accepted != 1 || res.Data.Final.Code != 250 {
		t.Errorf("result %+v", res)
	}
	c.Quit(ctx)
	if body != "hi\r\n" {
		t.Errorf("body %q", body)
	}
}

// Every RCPT refused: the message is never sent, whether DATA is
// refused, accepted anyway (a lone dot ends it, RFC 2920 §3.1) or, in
// lock step, not sent at all.
func TestSendAllRecipientsRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script func(p *peer)
		want   []string // what the server read after the envelope
		data   int
	}{
		{"DATA refused", func(p *peer) {
			p.send(greetEHLO)
			p.expect("EHLO", ehloPipe)
			p.group()
			p.send("250 ok\r\n550 no\r\n450 later\r\n554 5.5.1 no valid recipients\r\n")
		}, []string{"RSET"}, 554},
		{"DATA accepted anyway", func(p *peer) {
			p.send(greetEHLO)
			p.expect("EHLO", ehloPipe)
			p.group()
			p.send("250 ok\r\n550 no\r\n450 later\r\n354 go ahead\r\n")
		}, []string{".", "RSET"}, 354},
		{"lock step", func(p *peer) {
			p.send(greetEHLO)
			p.expect("EHLO", ehloLock)
			p.lockstep("MAIL", "250 ok\r\n")
			p.lockstep("RCPT", "550 no\r\n")
			p.lockstep("RCPT", "450 later\r\n")
		}, []string{"RSET"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var after []string
			c := dial(t, func(p *peer) {
				tc.script(p)
				for {
					switch l := p.line(); l {
					case "QUIT", "":
						p.send("221 bye\r\n")
						return
					case ".":
						after = append(after, l)
						p.send("554 5.5.1 no valid recipients\r\n")
					case "RSET":
						after = append(after, l)
						p.send("250 reset\r\n")
					default:
						after = append(after, l)
						p.send("500 what\r\n")
					}
				}
			})
			var stages []string
			c.OnReply = func(stage string, r Reply) { stages = append(stages, stage) }
			ctx := context.Background()
			res, err := c.Send(ctx, &Envelope{From: "a@x.test", Rcpts: []string{"b@y.test", "c@y.test"}}, strings.NewReader("secret content\n"), SendOptions{})
			if !errors.Is(err, ErrNoRecipients) {
				t.Fatalf("err = %v", err)
			}
			if codes(res.Rcpts) != "550,450" || res.Accepted != 0 || res.Data != nil || res.DataReply.Code != tc.data {
				t.Errorf("result %+v", res)
			}
			if tc.data == 354 && stages[len(stages)-1] != StageEndOfData {
				t.Errorf("the reply to the lone dot was not read: %v", stages)
			}
			if _, err := c.Reset(ctx); err != nil {
				t.Fatal(err)
			}
			if err := c.Quit(ctx); err != nil {
				t.Fatal(err)
			}
			if joinLines(after) != joinLines(tc.want) {
				t.Errorf("server read %q after the envelope, want %q", after, tc.want)
			}
		})
	}
}

// A refused MAIL: with pipelining the RCPTs' replies are read and
// reported; in lock step no RCPT is sent.
func TestSendMailRefused(t *testing.T) {
	for _, pipe := range []bool{true, false} {
		t.Run(fmt.Sprint("pipelining=", pipe), func(t *testing.T) {
			var next string
			c := dial(t, func(p *peer) {
				p.send(greetEHLO)
				if pipe {
					p.expect("EHLO", ehloPipe)
					p.group()
					p.send("550 5.7.1 sender refused\r\n503 5.5.1 MAIL first\r\n503 5.5.1 MAIL first\r\n503 5.5.1 no valid recipients\r\n")
				} else {
					p.expect("EHLO", ehloLock)
					p.lockstep("MAIL", "550 5.7.1 sender refused\r\n")
				}
				next = p.line() // before the reply that the client waits for
				p.send("221 bye\r\n")
			})
			ctx := context.Background()
			res, err := c.Send(ctx, &Envelope{From: "a@x.test", Rcpts: []string{"b@y.test", "c@y.test"}}, strings.NewReader("x"), SendOptions{})
			var ce *CommandError
			if !errors.As(err, &ce) || ce.Cmd != "MAIL FROM:<a@x.test>" || ce.Reply.Code != 550 {
				t.Fatalf("err = %v", err)
			}
			want := "0,0"
			if pipe {
				want = "503,503"
			}
			if res.Mail.Code != 550 || codes(res.Rcpts) != want || res.Accepted != 0 || res.Data != nil {
				t.Errorf("result %+v", res)
			}
			// No transaction is open: Send or Quit go on without Reset.
			if err := c.Quit(ctx); err != nil || next != "QUIT" {
				t.Errorf("quit: %v, server read %q", err, next)
			}
		})
	}
}

// PRDR with pipelining: the per-recipient replies after the data are
// one per RCPT accepted in the group.
func TestSendPRDRPipelined(t *testing.T) {
	var got []string
	c := dial(t, func(p *peer) {
		p.send(greetEHLO)
		p.expect("EHLO", ehloPipe)
		got = p.group()
		p.send("250 OK, PRDR Requested\r\n250 ok\r\n550 no\r\n250 ok\r\n354 go\r\n")
		p.data()
		p.send("353 PRDR content analysis beginning\r\n250 PRDR R=<b@y.test> acceptance\r\n550 5.7.1 PRDR per-recipient rejection\r\n250 message accepted for some recipients\r\n")
		p.expect("QUIT", "221 bye\r\n")
	})
	ctx := context.Background()
	res, err := c.Send(ctx, &Envelope{From: "a@x.test", MailParams: &MailParams{PRDR: true}, Rcpts: []string{"b@y.test", "c@y.test", "d@y.test"}}, strings.NewReader("x\n"), SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != "MAIL FROM:<a@x.test> PRDR" || len(got) != 5 || got[4] != "DATA" {
		t.Errorf("group %q", got)
	}
	d := res.Data
	if d == nil || !d.PRDR || len(d.Recipients) != 2 || d.Recipients[0].Code != 250 || d.Recipients[1].Code != 550 || d.Final.Code != 250 {
		t.Errorf("data %+v", d)
	}
	c.Quit(ctx)
}

// BDAT with CHUNKING: MAIL and the RCPTs in one group, then the chunks,
// all of them (LAST too) sent before the server answers any.
func TestSendBDATPipelined(t *testing.T) {
	var env []string
	var cmds []string
	var data string
	c := dial(t, func(p *peer) {
		p.send(greetEHLO)
		p.expect("EHLO", ehloPipe)
		env = p.group()
		p.send("250 ok\r\n250 ok\r\n550 no\r\n")
		for {
			l, d := p.chunk()
			cmds = append(cmds, l)
			data += d
			if strings.HasSuffix(l, " LAST") || l == "" {
				break
			}
		}
		p.send("250 2.0.0 chunk\r\n250 2.0.0 chunk\r\n250 2.0.0 chunk\r\n250 2.0.0 queued\r\n")
		p.expect("QUIT", "221 bye\r\n")
	})
	ctx := context.Background()
	msg := "Subject: x\n\n.line one\nline two\n"
	res, err := c.Send(ctx, &Envelope{From: "a@x.test", Rcpts: []string{"b@y.test", "c@y.test"}}, strings.NewReader(msg), SendOptions{BDAT: true, ChunkSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	if joinLines(env) != "MAIL FROM:<a@x.test>|RCPT TO:<b@y.test>|RCPT TO:<c@y.test>" {
		t.Errorf("envelope group %q", env)
	}
	if joinLines(cmds) != "BDAT 10|BDAT 10|BDAT 10|BDAT 5 LAST" {
		t.Errorf("chunks %q", cmds)
	}
	if want := "Subject: x\r\n\r\n.line one\r\nline two\r\n"; data != want {
		t.Errorf("data %q, want %q", data, want)
	}
	if !res.Chunking || res.Accepted != 1 || res.DataReply.Code != 0 || res.Data.Command != "BDAT 5 LAST" || res.Data.Final.Code != 250 {
		t.Errorf("result %+v %+v", res, res.Data)
	}
	c.Quit(ctx)
}

// BDAT without PIPELINING: each chunk waits for its reply; and BDAT is
// not used when the caller does not ask for it.
func TestSendBDATLockStep(t *testing.T) {
	c := dial(t, func(p *peer) {
		p.send(greetEHLO)
		p.expect("EHLO", ehloLock)
		p.lockstep("MAIL", "250 ok\r\n")
		p.lockstep("RCPT", "250 ok\r\n")
		for {
			l, _ := p.chunk()
			if n := p.r.Buffered(); n > 0 {
				t.Errorf("client sent more before the reply to %q", l)
			}
			if strings.HasSuffix(l, "LAST") || l == "" {
				p.send("250 queued\r\n")
				break
			}
			p.send("250 chunk\r\n")
		}
		p.lockstep("MAIL", "250 ok\r\n")
		p.lockstep("RCPT", "250 ok\r\n")
		p.lockstep("DATA", "354 go\r\n")
		p.data()
		p.send("250 queued\r\n")
	})
	ctx := context.Background()
	env := &Envelope{From: "a@x.test", Rcpts: []string{"b@y.test"}}
	res, err := c.Send(ctx, env, strings.NewReader("0123456789abcdef"), SendOptions{BDAT: true, ChunkSize: 6})
	if err != nil || !res.Chunking || res.Pipelined || res.Data.Command != "BDAT 6 LAST" {
		t.Fatalf("%+v %v", res, err)
	}
	res, err = c.Send(ctx, env, strings.NewReader("x"), SendOptions{})
	if err != nil || res.Chunking || res.Data.Command != "DATA" {
		t.Fatalf("%+v %v", res, err)
	}
}

// No recipient accepted: no chunk is sent.
func TestSendBDATNoRecipients(t *testing.T) {
	var next string
	c := dial(t, func(p *peer) {
		p.send(greetEHLO)
		p.expect("EHLO", ehloPipe)
		p.group()
		p.send("250 ok\r\n550 no\r\n")
		next = p.line() // before the reply that the client waits for
		p.send("250 ok\r\n")
	})
	ctx := context.Background()
	res, err := c.Send(ctx, &Envelope{From: "a@x.test", Rcpts: []string{"b@y.test"}}, strings.NewReader("content"), SendOptions{BDAT: true})
	if !errors.Is(err, ErrNoRecipients) || res.Data != nil {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := c.Reset(ctx); err != nil || next != "RSET" {
		t.Errorf("reset: %v; server read %q", err, next)
	}
}

// A refused chunk stops the message (RFC 3030: no more chunks after a
// refusal): the chunks in flight are answered, LAST is never sent.
func TestSendBDATChunkRefused(t *testing.T) {
	const size = 64 << 10
	msg := bytes.Repeat([]byte("0123456789abcde\n"), 3<<20/16) // 3 MiB, 48 chunks
	var chunks int
	var last bool
	c := dial(t, func(p *peer) {
		p.send(greetEHLO)
		p.expect("EHLO", ehloPipe)
		p.group()
		p.send("250 ok\r\n250 ok\r\n")
		for {
			l, _ := p.chunk()
			if l == "RSET" {
				p.send("250 reset\r\n")
				return
			}
			if l == "" {
				return
			}
			chunks++
			last = last || strings.HasSuffix(l, "LAST")
			p.send("552 5.3.4 message too big\r\n")
		}
	})
	c.OnReply = func(string, Reply) {}
	ctx := context.Background()
	res, err := c.Send(ctx, &Envelope{From: "a@x.test", Rcpts: []string{"b@y.test"}}, bytes.NewReader(msg), SendOptions{BDAT: true, ChunkSize: size})
	var ce *CommandError
	if !errors.As(err, &ce) || ce.Cmd != "BDAT 65536" || ce.Reply.Code != 552 || res.Data != nil {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if total := len(bytes.ReplaceAll(msg, []byte("\n"), []byte("\r\n"))) / size; chunks == 0 || chunks >= total || last {
		t.Errorf("the server got %d chunks (LAST %v) of %d", chunks, last, total)
	}
}

// Replies that do not fit: a typed error, no hang, and the client out
// of step afterwards.
func TestSendBadReplies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		replies string
		limits  Limits
		check   func(error) bool
	}{
		{"cut short", "250 ok\r\n250-ok\r\n", Limits{}, func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
		{"cut before a reply", "250 ok\r\n", Limits{}, func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
		{"malformed", "250 ok\r\n2x0 ok\r\n", Limits{}, func(err error) bool { return errors.Is(err, ErrMalformed) }},
		{"code shift", "250 ok\r\n250-a\r\n251 b\r\n", Limits{}, func(err error) bool { return errors.Is(err, ErrMalformed) }},
		{"354 to RCPT", "250 ok\r\n354 go\r\n", Limits{}, func(err error) bool {
			var pe *ProtocolError
			return errors.As(err, &pe) && pe.After == "RCPT TO:<b@y.test>" && pe.Reply.Code == 354
		}},
		{"250 to DATA", "250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n", Limits{}, func(err error) bool {
			var pe *ProtocolError
			return errors.As(err, &pe) && pe.After == "DATA"
		}},
		{"Limits apply", "250 ok\r\n250 " + strings.Repeat("x", 200) + "\r\n", Limits{MaxLineLength: 100}, func(err error) bool { return errors.Is(err, ErrLineTooLong) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, func(p *peer) {
				p.send(greetEHLO)
				p.expect("EHLO", ehloPipe)
				p.group()
				p.send(tc.replies)
				p.conn.(*net.TCPConn).CloseWrite()
				p.line()
			})
			c.Limits = tc.limits
			res, err := c.Send(context.Background(), &Envelope{From: "a@x.test", Rcpts: []string{"b@y.test", "c@y.test"}}, strings.NewReader("x"), SendOptions{})
			if !tc.check(err) {
				t.Fatalf("err = %v (%T)", err, err)
			}
			if res == nil || res.Mail.Code != 250 {
				t.Errorf("the replies read before the error are lost: %+v", res)
			}
			if c.Err() == nil {
				t.Error("client still in step")
			}
		})
	}
}

// Cancelling the context while the replies are awaited ends Send.
func TestSendContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := dial(t, func(p *peer) {
		p.send(greetEHLO)
		p.expect("EHLO", ehloPipe)
		p.group()
		cancel() // the group has arrived; no reply will come
		p.line()
	})
	_, err := c.Send(ctx, &Envelope{From: "a@x.test", Rcpts: []string{"b@y.test"}}, strings.NewReader("x"), SendOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

// Two transactions on one connection, with RSET between; a Send while
// a transaction is open is refused without sending anything.
func TestSendReuse(t *testing.T) {
	var groups [][]string
	var bodies []string
	c := dial(t, func(p *peer) {
		p.send(greetEHLO)
		p.expect("EHLO", ehloPipe)
		groups = append(groups, p.group())
		p.send("250 ok\r\n250 ok\r\n354 go\r\n")
		bodies = append(bodies, p.data())
		p.send("250 queued 1\r\n")
		p.expect("RSET", "250 reset\r\n")
		groups = append(groups, p.group())
		p.send("250 ok\r\n550 no\r\n503 no valid recipients\r\n")
		p.expect("RSET", "250 reset\r\n")
		groups = append(groups, p.group())
		p.send("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n")
		bodies = append(bodies, p.data())
		p.send("250 queued 2\r\n")
		p.expect("QUIT", "221 bye\r\n")
	})
	ctx := context.Background()
	res, err := c.Send(ctx, &Envelope{From: "a@x.test", Rcpts: []string{"one@y.test"}}, strings.NewReader("first"), SendOptions{})
	if err != nil || res.Data.Final.String() != "250 queued 1" {
		t.Fatalf("first: %+v %v", res, err)
	}
	if _, err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(ctx, &Envelope{From: "b@x.test", Rcpts: []string{"two@y.test"}}, strings.NewReader("refused"), SendOptions{}); !errors.Is(err, ErrNoRecipients) {
		t.Fatalf("second: %v", err)
	}
	// MAIL was accepted: the transaction is open until RSET.
	if _, err := c.Send(ctx, &Envelope{From: "b@x.test", Rcpts: []string{"two@y.test"}}, strings.NewReader("x"), SendOptions{}); !errors.Is(err, errTransactionOpen) {
		t.Fatalf("Send inside a transaction: %v", err)
	}
	if _, err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	res, err = c.Send(ctx, &Envelope{From: "c@x.test", Rcpts: []string{"three@y.test", "four@y.test"}}, strings.NewReader("third"), SendOptions{})
	if err != nil || res.Data.Final.String() != "250 queued 2" || res.Accepted != 2 {
		t.Fatalf("third: %+v %v", res, err)
	}
	if err := c.Quit(ctx); err != nil {
		t.Fatal(err)
	}
	if len(groups) != 3 || groups[2][0] != "MAIL FROM:<c@x.test>" || len(groups[2]) != 4 || joinLines(bodies) != "first\r\n|third\r\n" {
		t.Errorf("groups %q bodies %q", groups, bodies)
	}
}

// Send refuses what it cannot send before writing anything.
func TestSendRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	c := dial(t, func(p *peer) {
		p.send(greetEHLO)
		p.expect("EHLO", "250-mx.test\r\n250 PIPELINING\r\n")
		p.expect("QUIT", "221 bye\r\n")
	})
	for _, env := range []*Envelope{
		nil,
		{From: "a@x"},
		{From: "a<b", Rcpts: []string{"b@y"}},
		{From: "a@x", Rcpts: []string{""}},
		{From: "a@x", Rcpts: []string{"b@y", "c@y"}, RcptParams: []*RcptParams{nil}},
		{From: "a@x", Rcpts: []string{"b@y"}, MailParams: &MailParams{Body: "9BIT"}},
		{From: "a@x", Rcpts: []string{"b@y"}, MailParams: &MailParams{Body: BodyBinaryMIME}}, // no CHUNKING
	} {
		if _, err := c.Send(ctx, env, strings.NewReader("x"), SendOptions{BDAT: true}); err == nil {
			t.Errorf("%+v: no error", env)
		}
	}
	if err := c.Quit(ctx); err != nil {
		t.Fatal(err)
	}
}

// A group larger than the socket buffers, with long replies, does not
// deadlock: the client reads the replies of one window of commands
// before it writes the next.
func TestSendLargeGroupNoDeadlock(t *testing.T) {
	const n = 3000
	long := "250 2.1.5 " + strings.Repeat("recipient accepted ", 50) + "\r\n"
	var rcpts int
	c := dial(t, func(p *peer) {
		tc := p.conn.(*net.TCPConn)
		tc.SetReadBuffer(16 << 10)
		tc.SetWriteBuffer(16 << 10)
		p.send(greetEHLO)
		p.expect("EHLO", ehloPipe)
		for {
			l := p.line()
			switch {
			case strings.HasPrefix(l, "RCPT"):
				rcpts++
				p.send(long)
			case l == "DATA":
				p.send("354 go\r\n")
				p.data()
				p.send("250 queued\r\n")
			case l == "QUIT" || l == "":
				p.send("221 bye\r\n")
				return
			default:
				p.send("250 ok\r\n")
			}
		}
	})
	tc := c.Conn().(*net.TCPConn)
	tc.SetReadBuffer(16 << 10)
	tc.SetWriteBuffer(16 << 10)
	env := &Envelope{From: "a@x.test"}
	for i := range n {
		env.Rcpts = append(env.Rcpts, fmt.Sprintf("recipient-number-%d@a-long-domain-name.example.test", i))
	}
	ctx := context.Background()
	res, err := c.Send(ctx, env, strings.NewReader("x"), SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.Quit(ctx)
	if res.Accepted != n || rcpts != n {
		t.Errorf("accepted %d, server saw %d", res.Accepted, rcpts)
	}
}

// FuzzSend feeds arbitrary server replies to a pipelined Send: it must
// end with a result or an error, never a panic or a hang.
func FuzzSend(f *testing.F) {
	for _, s := range []string{
		"250 ok\r\n250 ok\r\n550 no\r\n354 go\r\n250 queued\r\n",
		"250 ok\r\n550 no\r\n550 no\r\n354 go\r\n554 none\r\n",
		"250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n353 prdr\r\n250 a\r\n550 b\r\n250 c\r\n",
		"550 no\r\n503 x\r\n503 x\r\n503 x\r\n",
		"250 ok\r\n354 go\r\n",
		"250-a\r\n250 b\r\n250 ok\r\n450 x\r\n451 y\r\n",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, replies string, bdat bool) {
		cc, sc := net.Pipe()
		read, wrote := make(chan struct{}), make(chan struct{})
		go func() { io.Copy(io.Discard, sc); close(read) }()
		go func() {
			io.WriteString(sc, greetEHLO+ehloPipe+replies)
			sc.Close()
			close(wrote)
		}()
		c := NewClient(cc)
		c.Timeout = 2 * time.Second
		c.Limits = Limits{MaxLineLength: 200, MaxLines: 20, MaxSize: 1000}
		env := &Envelope{From: "a@x", MailParams: &MailParams{PRDR: true}, Rcpts: []string{"b@y", "c@y"}}
		res, err := c.Send(context.Background(), env, strings.NewReader("msg\n"), SendOptions{BDAT: bdat, ChunkSize: 2})
		c.Close()
		<-read
		<-wrote
		if err == nil {
			if res == nil || res.Mail.Class() != 2 || res.Accepted == 0 || res.Data == nil || res.Data.Final.Class() != 2 {
				t.Fatalf("success with %+v", res)
			}
			if res.Data.PRDR && len(res.Data.Recipients) != res.Accepted {
				t.Fatalf("PRDR replies %d for %d recipients", len(res.Data.Recipients), res.Accepted)
			}
		}
		if res != nil && len(res.Rcpts) != 2 {
			t.Fatalf("Rcpts %v", res.Rcpts)
		}
	})
}

// A whole transaction in one call; with PIPELINING offered, MAIL, both
// RCPTs and DATA go in one write.
func ExampleClient_Send() {
	clientConn, serverConn := net.Pipe()
	go func() { // a server that refuses bob
		defer serverConn.Close()
		r := bufio.NewReader(serverConn)
		io.WriteString(serverConn, "220 mx.example.org ESMTP\r\n")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			switch {
			case strings.HasPrefix(line, "EHLO"):
				io.WriteString(serverConn, "250-mx.example.org\r\n250 PIPELINING\r\n")
			case strings.HasPrefix(line, "RCPT TO:<bob@"):
				io.WriteString(serverConn, "550 5.1.1 no such user\r\n")
			case line == "DATA\r\n":
				io.WriteString(serverConn, "354 go ahead\r\n")
				io.Copy(io.Discard, NewDataReader(r))
				io.WriteString(serverConn, "250 2.0.0 queued\r\n")
			case line == "QUIT\r\n":
				io.WriteString(serverConn, "221 bye\r\n")
				return
			default:
				io.WriteString(serverConn, "250 OK\r\n")
			}
		}
	}()

	c := NewClient(clientConn) // or Dial(ctx, "mx.example.org:25")
	c.LocalName = "client.example.com"
	ctx := context.Background()
	env := &Envelope{
		From:  "alice@example.com",
		Rcpts: []string{"carol@example.org", "bob@example.org"},
	}
	res, err := c.Send(ctx, env, strings.NewReader("Subject: hi\n\nHello.\n"), SendOptions{BDAT: true})
	if err != nil {
		fmt.Println("error:", err) // ErrNoRecipients, a *CommandError, ...
		return
	}
	for i, to := range env.Rcpts {
		fmt.Printf("%s: %s\n", to, res.Rcpts[i])
	}
	fmt.Println("pipelined:", res.Pipelined, "data:", res.Data.Final)
	c.Reset(ctx) // ready for the next Send on this connection
	c.Quit(ctx)
	// Output:
	// carol@example.org: 250 OK
	// bob@example.org: 550 5.1.1 no such user
	// pipelined: true data: 250 2.0.0 queued
}
