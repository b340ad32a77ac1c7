package dkim_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/mailpolicy/mailpolicy/dkim"
)

// A transport signing for one domain with an RSA and an Ed25519 key
// (dual signing), keys in files that may be rotated at any time.
func ExampleSigner() {
	s, err := dkim.NewSigner(dkim.SignerConfig{
		Domains: []dkim.SignDomain{{Domain: "example.com", Selectors: []dkim.SignSelector{
			{Selector: "rsa2026", PrivateKey: "/etc/mail/dkim/rsa2026.pem"},
			{Selector: "ed2026", PrivateKey: "/etc/mail/dkim/ed2026.pem"},
		}}},
		SignHeaders: dkim.OversignHeaders,
		Strict:      true, // dkim_strict: defer rather than send unsigned
	})
	if err != nil {
		fmt.Println(err != nil) // no key files here
		return
	}
	msg := "From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
	res, err := s.Sign(context.Background(), strings.NewReader(msg))
	if err != nil {
		return // defer the message
	}
	os.Stdout.Write(append(res.Header, msg...))
	// Output: true
}
