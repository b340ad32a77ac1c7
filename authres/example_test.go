package authres_test

import (
	"fmt"

	"github.com/mailpolicy/mailpolicy/authres"
	"github.com/mailpolicy/mailpolicy/dkim"
	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/spf"
)

func Example() {
	// The outcomes of spf.Check, dkim.Verify and dmarc.Evaluate.
	s := &spf.Outcome{Result: spf.Pass, UsedDomain: "example.com", Identity: "mfrom"}
	sigs := []dkim.Result{{Domain: "example.com", Selector: "sel", Algorithm: "rsa-sha256", Status: dkim.StatusPass}}
	d := &dmarc.Outcome{Status: dmarc.StatusAccept, FromDomain: "example.com"}

	// Build sorts the methods into Exim's order.
	methods := []authres.Method{authres.FromDMARC(d), authres.FromSPF(s), authres.Auth("PLAIN", "alice")}
	h := authres.Build("mx.example.net", append(methods, authres.FromDKIM(sigs)...)...)
	fmt.Printf("%q\n", h.Field())

	// Fields from outside that claim our id are removed.
	in := []byte("Authentication-Results: MX.example.net; dkim=pass header.d=bank.example\n" +
		"Authentication-Results: other.example; spf=pass smtp.mailfrom=a.example\n" +
		"Subject: hi\n\nbody\n")
	out, n := authres.RemoveOwn(in, "mx.example.net")
	fmt.Printf("%d removed\n%s", n, out)
	// Output:
	// "Authentication-Results: mx.example.net;\r\n\tauth=pass (PLAIN) smtp.auth=alice;\r\n\tspf=pass smtp.mailfrom=example.com;\r\n\tdkim=pass header.d=example.com header.s=sel header.a=rsa-sha256;\r\n\tdmarc=pass header.from=example.com\r\n"
	// 1 removed
	// Authentication-Results: other.example; spf=pass smtp.mailfrom=a.example
	// Subject: hi
	//
	// body
}
