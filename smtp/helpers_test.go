package smtp

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// peer is the server side of a scripted test connection.
type peer struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
	mu   sync.Mutex
	log  []string // command lines received
}

// line reads one command line without CRLF ("" at EOF).
func (p *peer) line() string {
	l, err := p.r.ReadString('\n')
	if err != nil {
		return ""
	}
	l = strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r")
	p.mu.Lock()
	p.log = append(p.log, l)
	p.mu.Unlock()
	return l
}

func (p *peer) send(s string) { p.conn.Write([]byte(s)) }

// expect reads a line, fails unless it starts with prefix, and sends
// the reply.
func (p *peer) expect(prefix, reply string) string {
	l := p.line()
	if !strings.HasPrefix(l, prefix) {
		p.t.Errorf("server got %q, want %q...", l, prefix)
	}
	p.send(reply)
	return l
}

// data reads DATA's text with a DataReader.
func (p *peer) data() string {
	var b strings.Builder
	dr := NewDataReader(p.r)
	buf := make([]byte, 7) // small reads exercise the state machine
	for {
		n, err := dr.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			if err.Error() != "EOF" {
				p.t.Errorf("data: %v", err)
			}
			return b.String()
		}
	}
}

// starttls runs the server side of the TLS handshake.
func (p *peer) starttls(cert tls.Certificate) {
	tc := tls.Server(p.conn, &tls.Config{Certificates: []tls.Certificate{cert}})
	if err := tc.Handshake(); err != nil {
		p.t.Errorf("server handshake: %v", err)
		return
	}
	p.conn, p.r = tc, bufio.NewReader(tc)
}

// serve starts a listener on 127.0.0.1 whose first connection runs
// script; it returns the address and a channel closed when the script
// ends.
func serve(t testing.TB, script func(p *peer)) (string, <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		script(&peer{t: t, conn: c, r: bufio.NewReader(c)})
	}()
	return ln.Addr().String(), done
}

// dial connects a Client to the scripted server.
func dial(t testing.TB, script func(p *peer)) *Client {
	t.Helper()
	addr, _ := serve(t, script)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(conn)
	c.LocalName = "client.test"
	c.Timeout = 5 * time.Second
	t.Cleanup(func() { c.Close() })
	return c
}

// selfSigned returns a certificate for name.
func selfSigned(t testing.TB, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
