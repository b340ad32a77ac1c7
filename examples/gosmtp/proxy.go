package main

import (
	"context"
	"io"
	"log"
	"net"

	"github.com/mailpolicy/mailpolicy/proxyproto"
)

// proxyListener adapts a proxyproto.Listener's connections to go-smtp.
type proxyListener struct {
	*proxyproto.Listener
	hostname string
}

func (l proxyListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &proxyConn{c.(*proxyproto.Conn), l.hostname}, nil
}

// proxyConn reads the PROXY header before go-smtp writes the banner, as
// Exim does. After a failed negotiation Read runs Exim's QUIT-only mode
// (503 to all but QUIT) on the raw connection, then reports EOF.
type proxyConn struct {
	*proxyproto.Conn
	hostname string
}

func (c *proxyConn) Write(b []byte) (int, error) {
	c.Proxy() // wait for the header; Read acts on the result
	return c.Conn.Write(b)
}

func (c *proxyConn) Read(b []byte) (int, error) {
	if info, _ := c.Proxy(); info.Failed {
		log.Printf("PROXY negotiation failed from %s: %v", c.NetConn().RemoteAddr(), info.Reason)
		proxyproto.RefuseCommands(context.Background(), c.NetConn(), c.hostname)
		return 0, io.EOF
	}
	return c.Conn.Read(b)
}
