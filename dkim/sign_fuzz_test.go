package dkim

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/internal/header"
)

// FuzzSignHeaders: any list and header section; the selection must
// hash each field at most once, bottom up, list a name for every hashed
// field, and agree with what a verifier picks for h= (RFC 6376
// §5.4.2: for each name in h=, the last unused instance).
func FuzzSignHeaders(f *testing.F) {
	f.Add("From:Subject:+Subject:=X", "From: a\r\nSubject: 1\r\nSubject: 2\r\nX: 1\r\n x\r\nx:2\r\n")
	f.Add(OversignHeaders, "From: a\r\nfrom: b\r\nTo: c\r\n")
	f.Add(DefaultSignHeaders, "no colon\r\nFrom : a\r\n")
	f.Fuzz(func(t *testing.T, list, hdrText string) {
		specs, _, ok := signParseHeaders(list)
		if !ok {
			return
		}
		h, _, err := header.Parse([]byte(hdrText+"\r\n\r\n"), header.Options{})
		if err != nil {
			return
		}
		fields, names := signSelectHeaders(h, specs, make([]bool, len(specs)))
		if len(names) < len(fields) {
			t.Fatalf("%d names for %d fields", len(names), len(fields))
		}
		for i := 1; i < len(fields); i++ {
			if fields[i] >= fields[i-1] {
				t.Fatalf("fields not bottom up: %v", fields)
			}
		}
		// The verifier's choice for h=.
		used := make([]bool, len(h.Fields))
		var picked []int
		for _, n := range names {
			for i := len(h.Fields) - 1; i >= 0; i-- {
				if fn := h.Name(i); fn != nil && !used[i] && header.EqualFold(fn, n) {
					used[i] = true
					picked = append(picked, i)
					break
				}
			}
		}
		if len(picked) != len(fields) {
			t.Fatalf("verifier picks %v, signer hashed %v (h=%s)", picked, fields, strings.Join(names, ":"))
		}
		// Same set in the same order per name: compare as sequences.
		for i := range picked {
			if picked[i] != fields[i] {
				// Order may interleave names differently only if the
				// hashed bytes differ, which would break verification.
				t.Fatalf("verifier picks %v, signer hashed %v (h=%s)", picked, fields, strings.Join(names, ":"))
			}
		}
	})
}

// FuzzSignParseKey: any text; no panic, and a key parsed signs.
func FuzzSignParseKey(f *testing.F) {
	k := signTestKeys()
	f.Add(signPEM(f, k.ed, false))
	f.Add(signPEM(f, k.rsa1024, true))
	f.Add(signB64(k.ed.Seed()))
	f.Add("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
	f.Fuzz(func(t *testing.T, text string) {
		key, err := signParseKey([]byte(text))
		if err != nil {
			return
		}
		s := &Signer{sigs: []*signSpec{{domain: "example.com", selector: "s", key: &signKeySource{key: key}}},
			headerRelaxed: true, bodyRelaxed: true}
		s.hash, s.hashName, _ = signHashByName("")
		s.specs, _, _ = signParseHeaders("")
		res, err := s.Sign(context.Background(), strings.NewReader("From: a@example.com\r\n\r\nhi\r\n"))
		if err != nil || res.Err != nil || !bytes.HasPrefix(res.Header, []byte("DKIM-Signature:")) {
			t.Fatalf("%+v %v", res, err)
		}
	})
}
