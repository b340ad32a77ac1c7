package dmarc

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	msgauth "github.com/emersion/go-msgauth/dkim"
	"github.com/miekg/dns"

	"github.com/mailpolicy/mailpolicy/dkim"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/mailpolicy/mailpolicy/spf"
)

// A forger who cannot sign for victim.example adds a signature with
// d=victim.example and a selector that has no key. If that made DMARC
// temperror, a p=reject domain would get 451 (retry) instead of 550.
// RFC 6376 §6.1.2: no key record is PERMFAIL; only a lookup that did
// not get an answer is TEMPFAIL. dkim's keyclass_test.go checks the
// DKIM results; these tests check what DMARC makes of them.

const keyclassDomain = "victim.example"

// keyclassZone serves victim.example's p=reject record and a selector
// per way a key lookup can end.
func keyclassZone(t *testing.T) *resolvertest.Server {
	t.Helper()
	z := resolvertest.NewZone()
	z.MustAdd(t,
		`_dmarc.victim.example. TXT "v=DMARC1; p=reject"`,
		`spf._domainkey.victim.example. TXT "v=spf1 -all"`,
		`addr._domainkey.victim.example. A 192.0.2.1`,
	)
	z.AddName("nodata._domainkey.victim.example.")
	z.SetRcode("servfail._domainkey.victim.example.", 0, dns.RcodeServerFailure)
	z.SetRcode("refused._domainkey.victim.example.", 0, dns.RcodeRefused)
	z.SetTimeout("timeout._domainkey.victim.example.", 0)
	return resolvertest.Start(t, z)
}

// keyclassMessage is a message From: ceo@victim.example carrying a
// signature for d=victim.example s=selector, made with a key that is
// published nowhere.
func keyclassMessage(t *testing.T, selector string) []byte {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	msg := "From: CEO <ceo@victim.example>\r\nTo: bob@example.net\r\nSubject: pay\r\n\r\nPay the invoice.\r\n"
	var b bytes.Buffer
	if err := msgauth.Sign(&b, strings.NewReader(msg), &msgauth.SignOptions{Domain: keyclassDomain, Selector: selector, Signer: key}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDKIMKeyAbsenceIsPermanent: dkim.Verify's results for a key that
// does not exist make DMARC apply p=reject; only a key lookup that got
// no answer makes it temperror.
func TestDKIMKeyAbsenceIsPermanent(t *testing.T) {
	srv := keyclassZone(t)
	for _, c := range []struct {
		selector  string
		temporary bool
		dmarc     Status
	}{
		{"nokey", false, StatusReject},  // NXDOMAIN
		{"nodata", false, StatusReject}, // the name exists, no records at all
		{"addr", false, StatusReject},   // the name has an A record, no TXT
		{"spf", false, StatusReject},    // TXT records, none of them a DKIM key
		{"servfail", true, StatusTempError},
		{"timeout", true, StatusTempError},
		{"refused", true, StatusTempError},
	} {
		t.Run(c.selector, func(t *testing.T) {
			got, err := dkim.Verify(context.Background(), bytes.NewReader(keyclassMessage(t, c.selector)),
				dkim.WithResolver(nsResolver(t, srv.Addr, 600*time.Millisecond)))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Status != dkim.StatusInvalid || got[0].Reason != dkim.ReasonPubkeyUnavailable || got[0].Temporary != c.temporary {
				t.Fatalf("%+v, want invalid/pubkey_unavailable Temporary=%v", got, c.temporary)
			}
			o := Evaluate(context.Background(), Input{
				HeaderFrom: []string{"CEO <ceo@victim.example>"},
				MailFrom:   "forger@elsewhere.example", SPF: spf.Pass, SPFDomain: "elsewhere.example",
				DKIM: got,
			}, WithResolver(nsResolver(t, srv.Addr, time.Second)), WithAuthservID("mx.test"), WithRand(func() int { return 0 }))
			if o.Status != c.dmarc {
				t.Errorf("DMARC %s (%v), want %s", o.Status, o.Err, c.dmarc)
			}
		})
	}
}

// TestDMARCTempFailedClass: only a temporary failure of an aligned
// identifier gives temperror; a permanent one is a plain failure, so
// the policy applies.
func TestDMARCTempFailedClass(t *testing.T) {
	srv := keyclassZone(t)
	unavailable := func(domain string, temporary bool) dkim.Result {
		return dkim.Result{Domain: domain, Selector: "s", Algorithm: "rsa-sha256", Status: dkim.StatusInvalid,
			Reason: dkim.ReasonPubkeyUnavailable, Temporary: temporary}
	}
	for _, c := range []struct {
		name string
		in   Input
		want Status
	}{
		{"aligned dkim key absent", Input{DKIM: []dkim.Result{unavailable(keyclassDomain, false)}}, StatusReject},
		{"aligned dkim key lookup failed", Input{DKIM: []dkim.Result{unavailable(keyclassDomain, true)}}, StatusTempError},
		{"aligned dkim key lookup failed, relaxed", Input{DKIM: []dkim.Result{unavailable("mail."+keyclassDomain, true)}}, StatusTempError},
		{"unaligned dkim key lookup failed", Input{DKIM: []dkim.Result{unavailable("other.example", true)}}, StatusReject},
		{"absent key beside a failed lookup of another domain",
			Input{DKIM: []dkim.Result{unavailable(keyclassDomain, false), unavailable("other.example", true)}}, StatusReject},
		{"aligned dkim bad key record", Input{DKIM: []dkim.Result{{Domain: keyclassDomain, Status: dkim.StatusInvalid, Reason: dkim.ReasonPubkeyDNSSyntax}}}, StatusReject},
		{"aligned spf temperror", Input{SPF: spf.TempError, SPFDomain: keyclassDomain}, StatusTempError},
		{"aligned spf permerror", Input{SPF: spf.PermError, SPFDomain: keyclassDomain}, StatusReject},
		{"unaligned spf temperror", Input{SPF: spf.TempError, SPFDomain: "other.example"}, StatusReject},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.in.HeaderFrom = []string{"ceo@victim.example"}
			o := Evaluate(context.Background(), c.in, WithResolver(nsResolver(t, srv.Addr, time.Second)), WithRand(func() int { return 0 }))
			if o.Status != c.want {
				t.Errorf("%s (%v), want %s", o.Status, o.Err, c.want)
			}
		})
	}
}
