package main

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// server greets with banner and answers EHLO with a two-line 250, then
// reads until the client closes.
func server(t *testing.T, banner string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				c.Write([]byte(banner + "\r\n"))
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if strings.HasPrefix(strings.ToUpper(line), "EHLO") {
						c.Write([]byte("250-srv\r\n250 PIPELINING\r\n"))
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestOpen(t *testing.T) {
	addr := server(t, "220-multi\r\n220 line banner")
	conns, failed, err := open(context.Background(), addr, "t", 30, 7, 5*time.Second)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if len(conns) != 30 || failed != 0 || err != nil {
		t.Fatalf("idle %d failed %d err %v, want 30 idle", len(conns), failed, err)
	}
}

func TestOpenRefused(t *testing.T) {
	addr := server(t, "554 go away")
	conns, failed, err := open(context.Background(), addr, "t", 5, 5, 5*time.Second)
	if len(conns) != 0 || failed != 5 || err == nil || !strings.Contains(err.Error(), "554") {
		t.Fatalf("idle %d failed %d err %v, want 5 failures naming the 554", len(conns), failed, err)
	}
}
