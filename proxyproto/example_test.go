package proxyproto_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"

	"github.com/mailpolicy/mailpolicy/hostlist"
	"github.com/mailpolicy/mailpolicy/proxyproto"
)

func ExampleReadHeader() {
	in := bufio.NewReader(strings.NewReader("PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\nEHLO client.example\r\n"))
	h, err := proxyproto.ReadHeader(in)
	if err != nil {
		fmt.Println(err)
		return
	}
	rest, _ := in.ReadString('\n')
	fmt.Println(h.Transport, h.Source, h.Destination)
	fmt.Printf("%q\n", rest)
	// Output:
	// TCP4 192.0.2.1:56324 198.51.100.2:25
	// "EHLO client.example\r\n"
}

func ExampleListener() {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	// hosts_proxy = 127.0.0.1
	l, err := proxyproto.NewListener(inner, proxyproto.Config{Required: hostlist.MustParse("127.0.0.1")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()

	go func() {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprint(c, "PROXY TCP6 2001:db8::1 2001:db8::25 40000 25\r\n")
		bufio.NewReader(c).ReadString('\n')
	}()

	c, err := l.Accept()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	info, err := c.(*proxyproto.Conn).Proxy()
	if err != nil {
		// QUIT-only mode: every command but QUIT gets proxyproto.RefusedReply.
		fmt.Println(err)
		return
	}
	fmt.Println("$proxy_session:", info.ProxySession)
	fmt.Println("$sender_host_address:", info.Client.Addr())
	fmt.Println("$proxy_external_address:", info.ExternalAddress, info.ExternalPort)
	fmt.Println("$proxy_local_address:", info.LocalAddress)
	fmt.Println("RemoteAddr:", c.RemoteAddr())
	fmt.Fprint(c, "220 ok\r\n")
	// Output:
	// $proxy_session: true
	// $sender_host_address: 2001:db8::1
	// $proxy_external_address: 2001:db8::25 25
	// $proxy_local_address: 127.0.0.1
	// RemoteAddr: [2001:db8::1]:40000
}
