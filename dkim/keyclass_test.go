package dkim

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

// A forger who cannot sign for victim.example adds a signature with
// d=victim.example and a selector that has no key. If that made DMARC
// temperror, a p=reject domain would get 451 (retry) instead of 550.
// RFC 6376 §6.1.2: no key record is PERMFAIL; only a lookup that did
// not get an answer is TEMPFAIL.

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
	msg := []byte(strings.Replace(string(testMessage(testBody)), "alice@example.com", "ceo@victim.example", 1))
	return testSign(t, msg, testSigner{alg: "rsa-sha256", key: testKeys().rsa2048,
		domain: keyclassDomain, selector: selector, canon: "relaxed/relaxed", bodyLen: -1})
}

func TestKeyAbsenceIsPermanent(t *testing.T) {
	srv := keyclassZone(t)
	for _, c := range []struct {
		selector  string
		temporary bool
	}{
		{"nokey", false},  // NXDOMAIN
		{"nodata", false}, // the name exists, no records at all
		{"addr", false},   // the name has an A record, no TXT
		{"spf", false},    // TXT records, none of them a DKIM key
		{"servfail", true},
		{"timeout", true},
		// REFUSED says nothing about whether the key exists: our resolver
		// would not answer, so a later try may succeed.
		{"refused", true},
	} {
		t.Run(c.selector, func(t *testing.T) {
			got, err := Verify(context.Background(), bytes.NewReader(keyclassMessage(t, c.selector)),
				WithResolver(nsResolver(t, srv.Addr, 600*time.Millisecond)))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("%d results: %+v", len(got), got)
			}
			r := got[0]
			// Exim's vocabulary is kept for both classes.
			if r.Status != StatusInvalid || r.Reason != ReasonPubkeyUnavailable {
				t.Fatalf("status %s/%s (%v), want invalid/pubkey_unavailable", r.Status, r.Reason, r.Err)
			}
			if r.Temporary != c.temporary {
				t.Errorf("Temporary = %v, want %v (%v)", r.Temporary, c.temporary, r.Err)
			}
			var de *Error
			if !errors.As(r.Err, &de) || de.Temporary != c.temporary {
				t.Errorf("Err %#v: Temporary should be %v", r.Err, c.temporary)
			}

		})
	}
}

// keyclassResolver is a Resolver that fails every lookup with err.
type keyclassResolver struct{ err error }

func (r keyclassResolver) LookupTXT(context.Context, string) ([]string, bool, error) {
	return nil, false, r.err
}

// TestKeyClassResolver: a Resolver of the caller's own (say on
// net.Resolver) is classified the same way: not-found errors are
// permanent, anything else temporary, as the Resolver doc says.
func TestKeyClassResolver(t *testing.T) {
	msg := keyclassMessage(t, "sel")
	for _, c := range []struct {
		name      string
		err       error
		temporary bool
	}{
		{"ErrNotFound", resolver.ErrNotFound, false},
		{"ErrNoData", resolver.ErrNoData, false},
		{"net.DNSError not found", &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}, false},
		{"net.DNSError timeout", &net.DNSError{Err: "i/o timeout", Name: "x", IsTimeout: true}, true},
		{"ErrTemporary", resolver.ErrTemporary, true},
		{"context deadline", context.DeadlineExceeded, true},
		{"unknown error", errors.New("resolver exploded"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Verify(context.Background(), bytes.NewReader(msg), WithResolver(keyclassResolver{c.err}))
			if err != nil || len(got) != 1 {
				t.Fatalf("%v %+v", err, got)
			}
			if got[0].Reason != ReasonPubkeyUnavailable || got[0].Temporary != c.temporary {
				t.Errorf("%s/%s Temporary=%v, want pubkey_unavailable Temporary=%v", got[0].Status, got[0].Reason, got[0].Temporary, c.temporary)
			}
			if !errors.Is(got[0].Err, c.err) {
				t.Errorf("Err %v does not wrap %v", got[0].Err, c.err)
			}
		})
	}
}
