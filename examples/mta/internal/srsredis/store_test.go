package srsredis

// Unit tests of the RESP2 client of srsredis.go over byte slices, and
// of its failure paths that need no Redis (a silent listener, a closed
// port, a closed store). The behaviour against a real Redis is in
// srsredis_interop_test.go.

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestRESPAppendCommand(t *testing.T) {
	got := string(appendCommand(nil, "SET", "mailpolicy:srs:K", "a\r\nb\x00", "PX", "1000"))
	want := "*5\r\n$3\r\nSET\r\n$16\r\nmailpolicy:srs:K\r\n$5\r\na\r\nb\x00\r\n$2\r\nPX\r\n$4\r\n1000\r\n"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if got := string(appendCommand([]byte("x"), "GET", "")); got != "x*2\r\n$3\r\nGET\r\n$0\r\n\r\n" {
		t.Errorf("empty argument: %q", got)
	}
}

func parseRESP(b []byte) (respReply, error) {
	return readReply(newRESPReader(bytes.NewReader(b)))
}

func TestRESPReplyWellFormed(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want respReply
	}{
		{"+OK\r\n", respReply{kind: '+', str: []byte("OK")}},
		{"+\r\n", respReply{kind: '+', str: []byte{}}},
		{"-ERR unknown command 'FOO'\r\n", respReply{kind: '-', str: []byte("ERR unknown command 'FOO'")}},
		{":0\r\n", respReply{kind: ':'}},
		{":1\r\n", respReply{kind: ':', n: 1}},
		{":-42\r\n", respReply{kind: ':', n: -42}},
		{"$-1\r\n", respReply{kind: '$', null: true}},
		{"$0\r\n\r\n", respReply{kind: '$', str: []byte{}}},
		{"$5\r\nhello\r\n", respReply{kind: '$', str: []byte("hello")}},
		{"$4\r\na\r\nb\r\n", respReply{kind: '$', str: []byte("a\r\nb")}}, // binary-safe
		{"$3\r\n\x00\xff$\r\n", respReply{kind: '$', str: []byte("\x00\xff$")}},
	} {
		got, err := parseRESP([]byte(tc.in))
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got.kind != tc.want.kind || !bytes.Equal(got.str, tc.want.str) || got.n != tc.want.n || got.null != tc.want.null {
			t.Errorf("%q: got %+v, want %+v", tc.in, got, tc.want)
		}
	}
	// Two replies in a row are read one at a time.
	br := newRESPReader(strings.NewReader("+OK\r\n$2\r\nhi\r\n"))
	if r, err := readReply(br); err != nil || string(r.str) != "OK" {
		t.Fatalf("first: %+v %v", r, err)
	}
	if r, err := readReply(br); err != nil || string(r.str) != "hi" {
		t.Fatalf("second: %+v %v", r, err)
	}
	if _, err := readReply(br); err != io.EOF {
		t.Fatalf("after the end: %v, want io.EOF", err)
	}
}

func TestRESPReplyMaxBulk(t *testing.T) {
	big := strings.Repeat("x", redisMaxBulk)
	r, err := parseRESP([]byte("$65536\r\n" + big + "\r\n"))
	if err != nil || len(r.str) != redisMaxBulk {
		t.Fatalf("bulk of the maximum size: %d %v", len(r.str), err)
	}
}

func TestRESPReplyMalformed(t *testing.T) {
	for _, in := range []string{
		// truncated
		"+OK", "+OK\r", "$5\r\nhel", "$5\r\nhello", "$5\r\nhello\r", ":1", "$", "-ERR",
		// oversized
		"$65537\r\n", "$99999999999\r\n", "$999999999999999999999\r\n", "+" + strings.Repeat("a", redisMaxLine+10) + "\r\n",
		// bad lengths and integers
		"$-2\r\n", "$-0\r\n", "$+5\r\nhello\r\n", "$05\r\nhello\r\n", "$ 5\r\nhello\r\n", "$5 \r\nhello\r\n", "$\r\n", "$x\r\n",
		":\r\n", ":+1\r\n", ":01\r\n", ":-\r\n", ":-0\r\n", ":1.5\r\n", ":99999999999999999999\r\n",
		// wrong terminators
		"+OK\n", "+O\rK\r\n", "$5\r\nhelloXX", "$5\r\nhello\n\r", "$3\r\nhello\r\n",
		// types the store never asks for, and garbage
		"*1\r\n$2\r\nhi\r\n", "_\r\n", "#t\r\n", ",1.5\r\n", "%0\r\n", "\r\n", "hello\r\n", "\x00\x01\x02\r\n",
	} {
		r, err := parseRESP([]byte(in))
		if err == nil {
			t.Errorf("%.40q: accepted as %+v", in, r)
			continue
		}
		if !errors.Is(err, errRedisProtocol) {
			t.Errorf("%.40q: error %v does not wrap errRedisProtocol", in, err)
		}
	}
	if _, err := parseRESP(nil); err != io.EOF {
		t.Errorf("empty input: %v, want io.EOF", err)
	}
}

func FuzzRESPReply(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "-ERR x\r\n", ":12\r\n", "$-1\r\n", "$3\r\nabc\r\n", "$0\r\n\r\n",
		"*1\r\n$1\r\na\r\n", "$65536\r\n", "$5\r\nab", ":-9\r\n", "+a\rb\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		br := newRESPReader(bytes.NewReader(b))
		for range 4 {
			r, err := readReply(br)
			if err != nil {
				if err != io.EOF && !errors.Is(err, errRedisProtocol) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			switch r.kind {
			case '+', '-', ':', '$':
			default:
				t.Fatalf("accepted kind %q", r.kind)
			}
			if len(r.str) > redisMaxBulk || (r.null && r.str != nil) {
				t.Fatalf("bad reply %+v", r)
			}
			if r.kind != '$' && bytes.ContainsAny(r.str, "\r\n") {
				t.Fatalf("line reply with CR or LF: %q", r.str)
			}
		}
	})
}

func TestRedisStoreAddress(t *testing.T) {
	for _, tc := range []struct{ addr, network string }{
		{"127.0.0.1:6379", "tcp"}, {"[::1]:6379", "tcp"}, {"redis.example:6380", "tcp"}, {"/tmp/redis.sock", "unix"},
	} {
		s, err := New(tc.addr, "p:", time.Second)
		if err != nil || s.network != tc.network {
			t.Errorf("%s: %v %v", tc.addr, s, err)
		}
	}
	for _, a := range []string{"", "localhost", ":6379", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:70000", "redis.sock"} {
		if _, err := New(a, "p:", time.Second); err == nil {
			t.Errorf("%q accepted", a)
		}
	}
	if _, err := New("127.0.0.1:6379", "p:", 0); err == nil {
		t.Error("zero timeout accepted")
	}
}

// A server that accepts and never answers: every operation ends with
// an error within the timeout, the pool slot is given back.
func TestRedisStoreSilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	defer func() {
		ln.Close()
		for c := range accepted {
			c.Close()
		}
	}()
	s, err := New(ln.Addr().String(), "p:", 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range redisMaxConns + 2 { // more than the pool: slots are released
		start := time.Now()
		_, _, err := s.Get("K", time.Now())
		var ne net.Error
		if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("Get %d: %v, want a timeout", i, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Get %d took %s", i, d)
		}
	}
	if err := s.Put("K", "a@b.test", time.Now().Add(time.Hour)); err == nil {
		t.Error("Put to a silent server succeeded")
	}
}

func TestRedisStoreRefusedAndClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	s, err := New(addr, "p:", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get("K", time.Now()); err == nil {
		t.Error("Get with nothing listening succeeded")
	}
	s.Close()
	if _, _, err := s.Get("K", time.Now()); !errors.Is(err, errRedisClosed) {
		t.Errorf("Get after Close: %v", err)
	}
	if err := s.Put("K", strings.Repeat("x", redisMaxBulk+1), time.Now().Add(time.Hour)); err == nil {
		t.Error("oversized value accepted")
	}
}
