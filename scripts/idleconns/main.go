// Command idleconns holds many idle SMTP sessions open against a server
// on a loopback address, for scripts/bench-mta.sh's memory workload:
// each of -n connections reads the greeting, sends EHLO, reads the
// reply, and then sends nothing more. Connections are opened at most
// -parallel at a time so the server's listen backlog is not what is
// measured.
//
// When every connection is idle (or has failed) it prints, and writes
// to -ready FILE, one line "idle N failed F", with the first error
// seen; then it holds the sessions until SIGINT/SIGTERM or -hold has
// passed, and closes them.
//
//	idleconns -addr 127.0.0.1:2603 -n 1000 -ready /tmp/idle.ready
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:25", "server host:port (loopback only)")
	n := flag.Int("n", 1000, "connections to open")
	parallel := flag.Int("parallel", 50, "connections being opened at once")
	ehlo := flag.String("ehlo", "idle.bench.test", "EHLO name")
	ready := flag.String("ready", "", "file written with the result line once all are idle")
	timeout := flag.Duration("timeout", 60*time.Second, "limit on opening one connection up to its EHLO reply")
	hold := flag.Duration("hold", 5*time.Minute, "close everything after this long")
	flag.Parse()

	host, _, err := net.SplitHostPort(*addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("idleconns: -addr %q: want a loopback host:port", *addr)
	}
	if *n < 1 || *parallel < 1 {
		log.Fatal("idleconns: -n and -parallel must be positive")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *hold)
	defer cancel()

	conns, failed, firstErr := open(ctx, *addr, *ehlo, *n, *parallel, *timeout)
	line := fmt.Sprintf("idle %d failed %d", len(conns), failed)
	if firstErr != nil {
		line += " first error: " + strings.ReplaceAll(firstErr.Error(), "\n", " ")
	}
	fmt.Println(line)
	if *ready != "" {
		if err := os.WriteFile(*ready, []byte(line+"\n"), 0o644); err != nil {
			log.Printf("idleconns: %v", err)
		}
	}
	<-ctx.Done()
	for _, c := range conns {
		c.Close()
	}
}

// open opens n sessions, at most parallel at a time, each up to its
// EHLO reply; it returns the idle ones, how many failed and the first
// failure.
func open(ctx context.Context, addr, ehlo string, n, parallel int, timeout time.Duration) ([]net.Conn, int, error) {
	var (
		mu       sync.Mutex
		conns    []net.Conn
		failed   int
		firstErr error
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, parallel)
	for range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := greet(ctx, addr, ehlo, timeout)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			conns = append(conns, c)
		}()
	}
	wg.Wait()
	return conns, failed, firstErr
}

// greet connects, reads the greeting, sends EHLO and reads its reply.
func greet(ctx context.Context, addr, ehlo string, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(timeout))
	br := bufio.NewReader(c)
	if err := readReply(br, "2"); err != nil {
		c.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if _, err := fmt.Fprintf(c, "EHLO %s\r\n", ehlo); err != nil {
		c.Close()
		return nil, err
	}
	if err := readReply(br, "250"); err != nil {
		c.Close()
		return nil, fmt.Errorf("EHLO: %w", err)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// readReply reads one possibly multi-line reply and checks its code
// starts with want.
func readReply(br *bufio.Reader, want string) error {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		if len(line) < 4 {
			return fmt.Errorf("short reply line %q", line)
		}
		if !strings.HasPrefix(line, want) {
			return errors.New("unexpected reply: " + strings.TrimSpace(line))
		}
		if line[3] == ' ' {
			return nil
		}
	}
}
