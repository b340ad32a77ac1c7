package ocsp

import (
	"context"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFetchStatuses(t *testing.T) {
	ca := mkCert(t, nil, certOpts{serial: 1, ca: true, name: "Test CA"})
	rs, srv := startResponder(t, ca)
	rs.set(10, Good)
	rs.set(11, Revoked)
	f := &Fetcher{Client: srv.Client(), Now: fixedNow}
	for serial, want := range map[int64]CertStatus{10: Good, 11: Revoked, 12: Unknown} {
		leaf := mkCert(t, ca, certOpts{serial: serial, ocspURL: srv.URL})
		got, err := f.Fetch(context.Background(), leaf.cert, ca.cert, "")
		if err != nil {
			t.Fatalf("serial %d: %v", serial, err)
		}
		if got.Status != want || got.Responder != srv.URL {
			t.Errorf("serial %d: status %v from %s, want %v", serial, got.Status, got.Responder, want)
		}
		if want == Revoked && (got.RevokedAt.IsZero() || got.RevocationReason != 1) {
			t.Errorf("revoked: at %v reason %d", got.RevokedAt, got.RevocationReason)
		}
	}
	if rs.gets == 0 {
		t.Errorf("no GET request for a short URL")
	}
	// A long responder URL forces POST.
	leaf := mkCert(t, ca, certOpts{serial: 10})
	long := srv.URL + "/" + strings.Repeat("p", 300)
	if _, err := f.Fetch(context.Background(), leaf.cert, ca.cert, long); err != nil {
		t.Fatal(err)
	}
	if rs.posts == 0 {
		t.Errorf("no POST request for a long URL")
	}
}

func TestFetchRejects(t *testing.T) {
	ca := mkCert(t, nil, certOpts{serial: 1, ca: true, name: "Test CA"})
	other := mkCert(t, nil, certOpts{serial: 1, ca: true, name: "Other CA"})
	leaf := mkCert(t, ca, certOpts{serial: 10})
	f := &Fetcher{Now: fixedNow}
	cases := map[string][]byte{
		"wrong issuer":   mkResp(t, leaf, other, respOpts{serial: leaf.cert.SerialNumber}),
		"wrong serial":   mkResp(t, leaf, ca, respOpts{serial: big.NewInt(99)}),
		"expired":        mkResp(t, leaf, ca, respOpts{thisUpdate: testNow.Add(-48 * time.Hour), nextUpdate: testNow.Add(-time.Hour)}),
		"future":         mkResp(t, leaf, ca, respOpts{thisUpdate: testNow.Add(time.Hour)}),
		"no nextUpdate":  mkResp(t, leaf, ca, respOpts{noNext: true}),
		"not successful": {0x30, 0x03, 0x0A, 0x01, 0x03},
		"garbage":        []byte("hello"),
	}
	for name, der := range cases {
		if _, err := f.Verify(der, leaf.cert, ca.cert); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// The skew allowance: 299 s in the future or past is fine.
	ok := mkResp(t, leaf, ca, respOpts{thisUpdate: testNow.Add(299 * time.Second), nextUpdate: testNow.Add(-299 * time.Second)})
	if _, err := f.Verify(ok, leaf.cert, ca.cert); err != nil {
		t.Errorf("within skew: %v", err)
	}
	f.AcceptMissingNextUpdate = true
	if _, err := f.Verify(cases["no nextUpdate"], leaf.cert, ca.cert); err != nil {
		t.Errorf("Exim rule, no nextUpdate: %v", err)
	}
}

func TestDelegatedSigner(t *testing.T) {
	ca := mkCert(t, nil, certOpts{serial: 1, ca: true, name: "Test CA"})
	leaf := mkCert(t, ca, certOpts{serial: 10})
	f := &Fetcher{Now: fixedNow}
	good := mkCert(t, ca, certOpts{serial: 20, ocspSign: true, name: "responder"})
	if r, err := f.Verify(mkResp(t, leaf, ca, respOpts{signer: good}), leaf.cert, ca.cert); err != nil || r.Signer == nil {
		t.Errorf("delegated signer: %v", err)
	}
	// The responder certificate expires before nextUpdate.
	short := mkCert(t, ca, certOpts{serial: 21, ocspSign: true, name: "responder", notAfter: testNow.Add(time.Hour)})
	if _, err := f.Verify(mkResp(t, leaf, ca, respOpts{signer: short}), leaf.cert, ca.cert); err == nil {
		t.Error("signer expiring before nextUpdate accepted")
	}
	noEKU := mkCert(t, ca, certOpts{serial: 22, name: "responder"})
	if _, err := f.Verify(mkResp(t, leaf, ca, respOpts{signer: noEKU}), leaf.cert, ca.cert); err == nil {
		t.Error("signer without OCSPSigning accepted")
	}
	other := mkCert(t, nil, certOpts{serial: 1, ca: true, name: "Other CA"})
	foreign := mkCert(t, other, certOpts{serial: 23, ocspSign: true, name: "responder"})
	if _, err := f.Verify(mkResp(t, leaf, ca, respOpts{signer: foreign}), leaf.cert, ca.cert); err == nil {
		t.Error("signer from another CA accepted")
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ocsp.der")
	if err := WriteFile(p, []byte{1, 2, 3}, false); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p+".pem", []byte{1, 2, 3}, true); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p + ".pem")
	if blk, _ := pem.Decode(b); blk == nil || blk.Type != "OCSP RESPONSE" {
		t.Errorf("PEM file: %q", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("temporary files left: %v", ents)
	}
	if err := WriteFile(filepath.Join(dir, "nodir", "x"), nil, false); err == nil {
		t.Error("write into a missing directory succeeded")
	}
}

func TestFetchHTTPErrors(t *testing.T) {
	ca := mkCert(t, nil, certOpts{serial: 1, ca: true, name: "Test CA"})
	leaf := mkCert(t, ca, certOpts{serial: 10})
	f := &Fetcher{Now: fixedNow}
	if _, err := f.Fetch(context.Background(), leaf.cert, ca.cert, ""); err == nil {
		t.Error("no AIA URL: no error")
	}
	_, srv := startResponder(t, ca)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Fetch(ctx, leaf.cert, ca.cert, srv.URL); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
