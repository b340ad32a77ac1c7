package dkim

import (
	"bytes"
	"context"
	"crypto"
	"io"
	"testing"

	msgauth "github.com/emersion/go-msgauth/dkim"
)

// BenchmarkSign measures Sign and go-msgauth's Signer (NewSigner,
// io.Copy, Close, Signature: the signature alone, as Sign returns it)
// on the same message with a 100 KB body and the same keys,
// relaxed/relaxed sha256, Exim's default header list for ours and
// go-msgauth's default list for it.
//
//   - rsa2048, ed25519: one signature.
//   - 2sig: rsa2048 and ed25519 of one domain (dual signing). Sign
//     hashes the body once; go-msgauth once per signer (two Signers fed
//     through an io.MultiWriter).
func BenchmarkSign(b *testing.B) {
	k := signTestKeys()
	msg := signTestMessage(signBigBody(100 << 10))
	dns := signTestDNS{}.add(b, "rsa", "example.com", k.rsa2048.Public()).add(b, "ed", "example.com", k.ed.Public())
	rsaSel := SignSelector{Selector: "rsa", PrivateKey: signPEM(b, k.rsa2048, false)}
	edSel := SignSelector{Selector: "ed", PrivateKey: signPEM(b, k.ed, false)}
	mo := func(sel string, key crypto.Signer) *msgauth.SignOptions {
		return &msgauth.SignOptions{Domain: "example.com", Selector: sel, Signer: key, Hash: crypto.SHA256,
			HeaderCanonicalization: msgauth.CanonicalizationRelaxed, BodyCanonicalization: msgauth.CanonicalizationRelaxed}
	}
	for _, c := range []struct {
		name string
		sels []SignSelector
		mo   []*msgauth.SignOptions
	}{
		{"rsa2048", []SignSelector{rsaSel}, []*msgauth.SignOptions{mo("rsa", k.rsa2048)}},
		{"ed25519", []SignSelector{edSel}, []*msgauth.SignOptions{mo("ed", k.ed)}},
		{"2sig", []SignSelector{rsaSel, edSel}, []*msgauth.SignOptions{mo("rsa", k.rsa2048), mo("ed", k.ed)}},
	} {
		s := signMust(b, SignerConfig{Domains: []SignDomain{{Domain: "example.com", Selectors: c.sels}}})
		// Both must verify before anything is timed.
		signed, _ := signDo(b, s, msg)
		signVerifyBoth(b, dns, signed, len(c.sels))
		theirs := msgauthSignOnly(b, msg, c.mo)
		signVerifyBoth(b, dns, append([]byte(theirs), msg...), len(c.sels))

		b.Run(c.name+"/ours", func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				res, err := s.Sign(context.Background(), bytes.NewReader(msg))
				if err != nil || res.Err != nil {
					b.Fatal(err, res.Err)
				}
			}
		})
		b.Run(c.name+"/msgauth", func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				msgauthSignOnly(b, msg, c.mo)
			}
		})
	}
}

// msgauthSignOnly returns go-msgauth's DKIM-Signature fields for msg.
func msgauthSignOnly(tb testing.TB, msg []byte, opts []*msgauth.SignOptions) string {
	var ws []io.Writer
	var ss []*msgauth.Signer
	for _, o := range opts {
		s, err := msgauth.NewSigner(o)
		if err != nil {
			tb.Fatal(err)
		}
		ss = append(ss, s)
		ws = append(ws, s)
	}
	if _, err := io.Copy(io.MultiWriter(ws...), bytes.NewReader(msg)); err != nil {
		tb.Fatal(err)
	}
	out := ""
	for _, s := range ss {
		if err := s.Close(); err != nil {
			tb.Fatal(err)
		}
		out += s.Signature()
	}
	return out
}
