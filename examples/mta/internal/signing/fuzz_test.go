package signing

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// FuzzFromDomain: any header section gives either a From domain that
// is normalised (and chosen by For as itself) or a reason, never both,
// and Apply never panics on it.
func FuzzFromDomain(f *testing.F) {
	for _, s := range []string{
		"From: Alice <alice@example.com>\r\n\r\nbody",
		"From: a@example.com, b@example.com\r\n\r\n",
		"From: undisclosed:;\n\n",
		"From: a@example.com\nFrom: b@example.com\n\n",
		"From: =?utf-8?q?=C3=A9?= <a@b\xc3\xbccher.example>\n\n",
		"From: a@[127.0.0.1]\n\n",
		"from :\t<@route:a@example.com>\r\n",
		"To: x\r\n\tcontinued\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	testKeys(f)
	s := mustNew(f, Domain{Domain: "example.com", Selectors: []Selector{{Selector: "ed", PrivateKey: keyFile(f, f.TempDir(), "ed", edKey)}}})
	f.Fuzz(func(t *testing.T, msg []byte) {
		d, reason := fromDomain(bytes.NewReader(msg))
		if (d == "") == (reason == "") {
			t.Fatalf("domain %q and reason %q", d, reason)
		}
		if d != "" {
			if n, err := normDomain(d); err != nil || n != d || strings.ToLower(d) != d {
				t.Fatalf("domain %q not normalised (%q, %v)", d, n, err)
			}
		}
		o := s.Apply(context.Background(), sec(msg))
		if o.FromDomain != d || o.NoFrom != reason {
			t.Fatalf("Apply read %q/%q, fromDomain %q/%q", o.FromDomain, o.NoFrom, d, reason)
		}
		if o.Header != nil && o.Domain != "example.com" {
			t.Fatalf("signed for %q", o.Domain)
		}
	})
}
