package authres

import (
	"testing"

	msgauth "github.com/emersion/go-msgauth/authres"

	"github.com/mailpolicy/mailpolicy/dkim"
	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/spf"
)

// The typical header: spf, two DKIM signatures (one pass, one fail) and
// dmarc, from the engines' outcomes, built and written.
func BenchmarkBuild(b *testing.B) {
	s := &spf.Outcome{Result: spf.Pass, UsedDomain: "example.com", Identity: "mfrom"}
	sigs := []dkim.Result{
		{Domain: "example.com", Selector: "sel1", Algorithm: "rsa-sha256", Status: dkim.StatusPass},
		{Domain: "esp.example", Selector: "s2", Algorithm: "ed25519-sha256", Status: dkim.StatusFail, Reason: dkim.ReasonBodyHashMismatch},
	}
	d := &dmarc.Outcome{Status: dmarc.StatusAccept, FromDomain: "example.com"}
	b.ReportAllocs()
	for b.Loop() {
		ms := make([]Method, 0, 4)
		ms = append(ms, FromSPF(s))
		ms = append(ms, FromDKIM(sigs)...)
		ms = append(ms, FromDMARC(d))
		_ = Build("mx.example.net", ms...).Field()
	}
}

// The same results through go-msgauth's Format (no folding, no
// sanitising, no comments).
func BenchmarkMsgauthFormat(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		rs := []msgauth.Result{
			&msgauth.SPFResult{Value: msgauth.ResultPass, From: "example.com"},
			&msgauth.DKIMResult{Value: msgauth.ResultPass, Domain: "example.com"},
			&msgauth.DKIMResult{Value: msgauth.ResultFail, Domain: "esp.example", Reason: "body hash mismatch"},
			&msgauth.DMARCResult{Value: msgauth.ResultPass, From: "example.com"},
		}
		_ = "Authentication-Results: " + msgauth.Format("mx.example.net", rs) + "\r\n"
	}
}
