package smtp

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// BenchmarkReadReply reads a typical EHLO reply and a one-line reply
// from a reused reader.
func BenchmarkReadReply(b *testing.B) {
	wire := "250-mx.example.com Hello client.example.org [192.0.2.1]\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n" +
		"250-PIPELINING\r\n250-PRDR\r\n250-CHUNKING\r\n250 STARTTLS\r\n250 2.1.0 OK\r\n"
	src := strings.NewReader(wire)
	rr := NewReplyReader(src)
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		src.Reset(wire)
		rr.r.Reset(src)
		if _, err := rr.ReadReply(); err != nil {
			b.Fatal(err)
		}
		if _, err := rr.ReadReply(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseEHLO(b *testing.B) {
	r, _ := ParseReply("250-mx.example.com Hello\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-PRDR\r\n250-CHUNKING\r\n250 STARTTLS\r\n")
	b.ReportAllocs()
	for b.Loop() {
		e := ParseEHLO(r)
		if !e.Has("STARTTLS") {
			b.Fatal("no STARTTLS")
		}
	}
}

// message is 64 KiB of mail text with some leading dots and bare LFs.
var message = func() []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < 64<<10; i++ {
		switch i % 10 {
		case 3:
			b.WriteString(".a line that starts with a dot\r\n")
		case 7:
			b.WriteString("a line that ends with a bare LF\n")
		default:
			b.WriteString("The quick brown fox jumps over the lazy dog, again and again.\r\n")
		}
	}
	return b.Bytes()
}()

func BenchmarkDataWriter(b *testing.B) {
	w := bufio.NewWriterSize(io.Discard, 4096)
	b.ReportAllocs()
	b.SetBytes(int64(len(message)))
	for b.Loop() {
		dw := NewDataWriter(w)
		dw.Write(message)
		dw.Close()
		w.Flush()
	}
}

func BenchmarkDataReader(b *testing.B) {
	var wire bytes.Buffer
	dw := NewDataWriter(&wire)
	dw.Write(message)
	dw.Close()
	src := bytes.NewReader(wire.Bytes())
	br := bufio.NewReaderSize(src, 4096)
	buf := make([]byte, 32<<10)
	b.ReportAllocs()
	b.SetBytes(int64(wire.Len()))
	for b.Loop() {
		src.Reset(wire.Bytes())
		br.Reset(src)
		d := NewDataReader(br)
		for {
			if _, err := d.Read(buf); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}

// benchRTT stands for the network's round trip in the Send benchmarks.
const benchRTT = time.Millisecond

// latencyServer serves SMTP on 127.0.0.1 and holds the replies to each
// group of commands (whatever the client sent before waiting) for
// benchRTT before writing them together: each round trip the client
// makes costs benchRTT, as on a network, whatever the loopback's speed.
func latencyServer(b *testing.B, ehlo string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	b.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r, w := bufio.NewReader(conn), bufio.NewWriter(conn)
		flush := func() {
			if r.Buffered() == 0 { // the end of what the client sent
				time.Sleep(benchRTT)
				w.Flush()
			}
		}
		w.WriteString("220 bench.test ESMTP\r\n")
		flush()
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			switch verb, _, _ := strings.Cut(strings.TrimSpace(line), " "); verb {
			case "EHLO":
				w.WriteString(ehlo)
			case "DATA":
				w.WriteString("354 go ahead\r\n")
				flush()
				if _, err := io.Copy(io.Discard, NewDataReader(r)); err != nil {
					return
				}
				w.WriteString("250 2.0.0 queued\r\n")
			case "QUIT":
				w.WriteString("221 bye\r\n")
				w.Flush()
				return
			default:
				w.WriteString("250 ok\r\n")
			}
			flush()
		}
	}()
	return ln.Addr().String()
}

// benchSend runs Send and Reset of a 10-recipient message against a
// latencyServer offering ehlo.
func benchSend(b *testing.B, ehlo string, pipelined bool) {
	addr := latencyServer(b, ehlo)
	ctx := context.Background()
	c, err := Dial(ctx, addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	env := &Envelope{From: "sender@client.test"}
	for i := range 10 {
		env.Rcpts = append(env.Rcpts, fmt.Sprintf("rcpt%d@bench.test", i))
	}
	msg := "Subject: bench\r\n\r\nbody\r\n"
	src := strings.NewReader(msg)
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(msg)
		res, err := c.Send(ctx, env, src, SendOptions{})
		if err != nil || res.Accepted != 10 || res.Pipelined != pipelined {
			b.Fatalf("%+v %v", res, err)
		}
		if _, err := c.Reset(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSendPipelined: MAIL, 10 RCPTs and DATA in one round trip,
// then the data and RSET: 3 round trips a message.
func BenchmarkSendPipelined(b *testing.B) {
	benchSend(b, "250-bench.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n", true)
}

// BenchmarkSendLockStep: the same without PIPELINING: 14 round trips.
func BenchmarkSendLockStep(b *testing.B) {
	benchSend(b, "250-bench.test\r\n250 8BITMIME\r\n", false)
}
