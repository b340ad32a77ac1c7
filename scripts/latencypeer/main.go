// Command latencypeer is the slow next hop of scripts/bench-mta.sh's
// outbound drain workload: an SMTP sink on a loopback address that
// waits -delay (100 ms) before every reply, the greeting included, and
// accepts and discards every message. It offers PIPELINING and
// CHUNKING, but a pipelined command still waits its own delay, as a
// slow server's would (the same peer as the in-process drain benchmark
// in examples/mta/internal/mta).
//
// Once the 250 for a message has been written it rewrites -count FILE
// (atomically) with
// "messages N connections C peak P", so a script can poll how far a
// drain has got. It exits on SIGINT/SIGTERM or after -max-time.
//
//	latencypeer -listen 127.0.0.1:2650 -delay 100ms -count /tmp/peer.count
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:2650", "loopback address to listen on")
	delay := flag.Duration("delay", 100*time.Millisecond, "wait before each reply")
	countFile := flag.String("count", "", "file rewritten after each message with the counters")
	maxTime := flag.Duration("max-time", 30*time.Minute, "exit after this long")
	flag.Parse()

	ip, _, err := net.SplitHostPort(*listen)
	if err != nil || !net.ParseIP(ip).IsLoopback() {
		log.Fatalf("latencypeer: -listen %q: want a loopback host:port", *listen)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *maxTime)
	defer cancel()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("latencypeer: %v", err)
	}
	p := &peer{delay: *delay, countFile: *countFile}
	p.writeCount()
	if err := p.serve(ctx, ln); err != nil {
		log.Fatalf("latencypeer: %v", err)
	}
}

type peer struct {
	delay     time.Duration
	countFile string

	msgs, conns, open, peak atomic.Int64
	mu                      sync.Mutex // serialises writeCount
}

// serve accepts until ctx ends, then closes every connection and waits
// for their goroutines.
func (p *peer) serve(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	go func() {
		<-ctx.Done()
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			wg.Wait()
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.session(c)
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		}()
	}
}

func (p *peer) session(c net.Conn) {
	defer c.Close()
	p.conns.Add(1)
	n := p.open.Add(1)
	defer p.open.Add(-1)
	for old := p.peak.Load(); n > old && !p.peak.CompareAndSwap(old, n); old = p.peak.Load() {
	}
	c.SetDeadline(time.Now().Add(5 * time.Minute))
	br := bufio.NewReader(c)
	bw := bufio.NewWriter(c)
	reply := func(lines ...string) bool {
		time.Sleep(p.delay)
		for _, l := range lines {
			bw.WriteString(l + "\r\n")
		}
		return bw.Flush() == nil
	}
	if !reply("220 latency.test ESMTP slow sink") {
		return
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			if !reply("250-latency.test", "250-PIPELINING", "250-8BITMIME", "250-SIZE 104857600", "250-CHUNKING", "250 ENHANCEDSTATUSCODES") {
				return
			}
		case "HELO":
			if !reply("250 latency.test") {
				return
			}
		case "DATA":
			if !reply("354 go ahead") {
				return
			}
			if err := skipData(br); err != nil {
				return
			}
			if !reply("250 2.0.0 OK queued") {
				return
			}
			p.accepted()
		case "BDAT":
			f := strings.Fields(arg)
			if len(f) == 0 {
				return
			}
			size, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil || size < 0 {
				reply("501 5.5.4 bad chunk size")
				return
			}
			if _, err := io.CopyN(io.Discard, br, size); err != nil {
				return
			}
			last := len(f) > 1 && strings.EqualFold(f[1], "LAST")
			msg := "250 2.0.0 chunk OK"
			if last {
				msg = "250 2.0.0 OK queued"
			}
			if !reply(msg) {
				return
			}
			if last {
				p.accepted()
			}
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default: // MAIL, RCPT, RSET, NOOP, ...: everything is accepted
			if !reply("250 2.0.0 OK") {
				return
			}
		}
	}
}

func (p *peer) accepted() {
	p.msgs.Add(1)
	p.writeCount()
}

// writeCount replaces the count file so a reader never sees half a line.
func (p *peer) writeCount() {
	if p.countFile == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	tmp := p.countFile + ".tmp"
	s := fmt.Sprintf("messages %d connections %d peak %d\n", p.msgs.Load(), p.conns.Load(), p.peak.Load())
	if err := os.WriteFile(tmp, []byte(s), 0o644); err != nil {
		log.Printf("latencypeer: %v", err)
		return
	}
	if err := os.Rename(tmp, p.countFile); err != nil {
		log.Printf("latencypeer: %v", err)
	}
}

// skipData reads message data up to and including the line ".".
func skipData(br *bufio.Reader) error {
	atStart := true
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull { // part of a long line
			atStart = false
			continue
		}
		if err != nil {
			return err
		}
		if atStart && (string(line) == ".\r\n" || string(line) == ".\n") {
			return nil
		}
		atStart = true
	}
}
