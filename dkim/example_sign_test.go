package dkim_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/dkim"
)

// Signing a message as an Exim smtp transport with
//
//	dkim_domain       = example.com
//	dkim_selector     = ed2026
//	dkim_private_key  = <the PEM below>
//	dkim_canon        = relaxed
//	dkim_hash         = sha256
//	dkim_sign_headers = From:To:Subject
//	dkim_timestamps   = 86400
//	dkim_strict       = true
//
// would. The Ed25519 key comes from a fixed seed and the clock is
// fixed, so the signature (Ed25519 is deterministic) is the same on
// every run; a real key is generated once and its public half published
// at ed2026._domainkey.example.com.
func ExampleSigner_Sign() {
	seed := bytes.Repeat([]byte{42}, ed25519.SeedSize)
	der, err := x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		panic(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	fmt.Printf("ed2026._domainkey.example.com. TXT \"v=DKIM1; k=ed25519; p=%s\"\n", base64.StdEncoding.EncodeToString(pub))

	s, err := dkim.NewSigner(dkim.SignerConfig{
		Domains: []dkim.SignDomain{{Domain: "example.com", Selectors: []dkim.SignSelector{
			{Selector: "ed2026", PrivateKey: string(keyPEM)},
		}}},
		Canon:       "relaxed",
		Hash:        "sha256",
		SignHeaders: "From:To:Subject",
		Timestamps:  24 * time.Hour,
		Strict:      true,
		Now:         func() time.Time { return time.Unix(1795000000, 0) },
	})
	if err != nil {
		panic(err)
	}
	msg := "From: alice@example.com\r\nTo: bob@example.net\r\nSubject: hi\r\n\r\nHello Bob.\r\n"
	res, err := s.Sign(context.Background(), strings.NewReader(msg))
	if err != nil {
		panic(err) // with dkim_strict: defer the message
	}
	sig := res.Signatures[0]
	fmt.Println(sig.Domain, sig.Selector, sig.Algorithm, sig.Canon, sig.Headers)
	// The field goes in front of the message as it is.
	fmt.Print(strings.ReplaceAll(string(res.Header), "\r\n", "\n"))
	// Output:
	// ed2026._domainkey.example.com. TXT "v=DKIM1; k=ed25519; p=GX9rI+FshTLGq8g4+s1ep4m+DHaykgM0A5v6iz02jWE="
	// example.com ed2026 ed25519-sha256 relaxed/relaxed [Subject To From]
	// DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.com;
	// 	s=ed2026; t=1795000000; x=1795086400; h=Subject:To:From; bh=DD3L33E64/RV0CUJd
	// 	fGTtPGKU7OPJpo/2LxOdf3k0RI=; b=pEQkddXbx4WrMaaD70uPy0kAKkpVwKbuf77DJbSJlRLFgm
	// 	hVC5M9nRgOepvlh0soc/5zEFIVEVRDyy3DemedAg==
}
