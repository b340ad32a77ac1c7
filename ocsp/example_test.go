package ocsp_test

import (
	"crypto/tls"
	"fmt"
	"log"
	"net/netip"

	"github.com/mailpolicy/mailpolicy/hostlist"
	"github.com/mailpolicy/mailpolicy/ocsp"
)

// A client transport with hosts_require_ocsp = *.example.net: connections
// to those hosts fail unless a good staple arrives; others request one
// (hosts_request_ocsp left at its default, "*").
func ExampleClient() {
	require, err := hostlist.Parse("*.example.net")
	if err != nil {
		log.Fatal(err)
	}
	c := &ocsp.Client{RequireHosts: require}
	s := c.Session("mx1.example.net", netip.MustParseAddr("192.0.2.25"))
	cfg := s.Config(&tls.Config{ServerName: "mx1.example.net"})
	_ = cfg // tls.Dial("tcp", "192.0.2.25:25", cfg), then s.Status() is $tls_out_ocsp
	fmt.Println(s.Requested, s.Required, s.Status())
	// Under DANE with only DANE-EE (usage 3) records, "*" requests nothing.
	fmt.Println(c.SessionDANE("mx.example.org", netip.MustParseAddr("192.0.2.26"), 1<<3).Requested)
	fmt.Println(ocsp.ErrRevoked)
	// Output:
	// true true 1
	// false
	// Server certificate revoked
}

// Exim's tls_ocsp_file syntax.
func ExampleParseFileList() {
	files, _ := ocsp.ParseFileList("/etc/exim/rsa.ocsp.der : PEM /etc/exim/ec.ocsp.pem")
	for _, f := range files {
		fmt.Println(f.Path, f.PEM)
	}
	// Output:
	// /etc/exim/rsa.ocsp.der false
	// /etc/exim/ec.ocsp.pem true
}
