package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSession runs a DATA and a BDAT transaction through a real peer
// and checks the replies and the count file, which must only count a
// message once its 250 has been written.
func TestSession(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	count := filepath.Join(t.TempDir(), "count")
	p := &peer{countFile: count}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	expect := func(code string) {
		t.Helper()
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("waiting for %s: %v", code, err)
			}
			if !strings.HasPrefix(line, code) {
				t.Fatalf("got %q, want %s", line, code)
			}
			if line[3] == ' ' {
				return
			}
		}
	}
	send := func(s string) {
		t.Helper()
		if _, err := c.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	expect("220")
	send("EHLO t\r\n")
	expect("250")
	send("MAIL FROM:<a@x.test>\r\n")
	expect("250")
	send("RCPT TO:<b@y.test>\r\n")
	expect("250")
	send("DATA\r\n")
	expect("354")
	// a dot-stuffed line and a line longer than the reader's buffer
	// that ends in ".\r\n" must not end the data
	send("Subject: x\r\n\r\n..not the end\r\n" + strings.Repeat("x", 5000) + ".\r\n.\r\n")
	expect("250")
	send("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nBDAT 5\r\nhelloBDAT 2 LAST\r\nok")
	expect("250")
	expect("250")
	expect("250")
	expect("250")
	send("QUIT\r\n")
	expect("221")

	got, err := os.ReadFile(count)
	if err != nil {
		t.Fatal(err)
	}
	if want := "messages 2 connections 1 peak 1\n"; string(got) != want {
		t.Errorf("count file %q, want %q", got, want)
	}
}
