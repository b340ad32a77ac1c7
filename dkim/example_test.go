package dkim_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailpolicy/mailpolicy/dkim"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

// A message signed by example.com with an Ed25519 key.
const signedMessage = "DKIM-Signature: a=ed25519-sha256; bh=kmjWRdQb+kpvA4ZSXI9Gm/RUAw0QJguOg7YOVst7P7Q=;\r\n" +
	" c=relaxed/relaxed; d=example.com; h=From:To:Subject; s=sel; t=1796239443;\r\n v=1;\r\n" +
	" b=DGMnWiORua5VJ2EdIEkr6O2mULxv/ubrHvKx9sy/5hMKOzgAtTiCC3TwEtAvFmTYxXGIx82p\r\n j5yhXeeUD2QlAA==\r\n" +
	"From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: Hello\r\n\r\nHi Bob.\r\n"

func Example() {
	// The key record, served by an in-process DNS server; a server
	// passes its own *resolver.Resolver instead.
	zone, err := resolvertest.ParseZone(`sel._domainkey.example.com. 300 TXT "v=DKIM1; k=ed25519; p=A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="`)
	if err != nil {
		panic(err)
	}
	srv, err := resolvertest.NewServer(zone)
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	res, err := resolver.New(resolver.WithNameservers(srv.Addr))
	if err != nil {
		panic(err)
	}

	results, err := dkim.Verify(context.Background(), strings.NewReader(signedMessage),
		dkim.WithResolver(res), dkim.WithMinKeyBits("rsa", 2048))
	if err != nil {
		panic(err)
	}
	for _, r := range results {
		fmt.Println(r.Domain, r.Selector, r.Algorithm, r.Status, r.Temporary)
		for _, v := range r.Variables() {
			fmt.Printf("$%s=%s\n", v.Name, v.Value)
		}
	}
	// Output:
	// example.com sel ed25519-sha256 pass false
	// $dkim_cur_signer=example.com
	// $dkim_domain=example.com
	// $dkim_selector=sel
	// $dkim_identity=
	// $dkim_algo=ed25519-sha256
	// $dkim_key_length=256
	// $dkim_verify_status=pass
	// $dkim_verify_reason=
}
