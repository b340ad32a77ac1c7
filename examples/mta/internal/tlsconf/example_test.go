package tlsconf_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/tlsconf"
)

// Two certificates, the second holding its own key, each with an OCSP
// file kept fresh from its responder while the daemon runs.
func ExampleNew() {
	srv, err := tlsconf.New(tlsconf.Config{
		Certificates: []string{"/etc/mta/mx.pem", "/etc/mta/other.pem"},
		PrivateKeys:  []string{"/etc/mta/mx.key"},
		OCSPFiles:    "/var/lib/mta/mx.ocsp : PEM /var/lib/mta/other.ocsp.pem",
		Refresh:      true,
		Logf:         log.Printf,
	})
	if err != nil {
		log.Fatal(err) // e.g. tls_privatekey "/etc/mta/mx.key": does not match ...
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Run(ctx)
	_ = srv.TLSConfig() // for STARTTLS and the port-465 listener
}

// The TLS part of the Received header, after "with esmtps ".
func ExampleReceived() {
	cs := &tls.ConnectionState{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_256_GCM_SHA384}
	fmt.Println("with esmtps " + tlsconf.Received(cs))
	// Output:
	// with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384
}
