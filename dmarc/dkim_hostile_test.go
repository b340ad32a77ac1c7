package dmarc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// Hostile and broken input: VerifyDKIM must answer with a clear error
// or an invalid/fail status, never panic or hang.

// dkimHostileDNS is a small in-memory zone for these tests.
func dkimHostileDNS(tb testing.TB) *dkimTestDNS {
	k := dkimTestKeys()
	return newDKIMTestDNS().
		add("rsa2048._domainkey.example.com", dkimKeyRecord(tb, k.rsa2048.Public(), "")).
		add("ed._domainkey.example.com", dkimKeyRecord(tb, k.ed.Public(), ""))
}

func dkimHostileSigned(tb testing.TB, body string) []byte {
	k := dkimTestKeys()
	msg := dkimTestMessage(body)
	msg = dkimTestSign(tb, msg, dkimTestSigner{alg: "rsa-sha256", key: k.rsa2048, domain: "example.com", selector: "rsa2048", canon: "relaxed/relaxed", bodyLen: -1})
	return dkimTestSign(tb, msg, dkimTestSigner{alg: "ed25519-sha256", key: k.ed, domain: "example.com", selector: "ed", canon: "simple/simple", bodyLen: -1})
}

func TestVerifyDKIMHeaderTooLarge(t *testing.T) {
	dns := dkimHostileDNS(t)
	for name, msg := range map[string]string{
		"many fields":    strings.Repeat("X-Pad: "+strings.Repeat("p", 70)+"\r\n", 20000) + "\r\nbody",
		"one long line":  "Subject: " + strings.Repeat("s", 2<<20) + "\r\n\r\nbody",
		"endless header": "Subject: x\r\n" + strings.Repeat(" folded continuation\n", 100000),
	} {
		_, err := VerifyDKIM(context.Background(), strings.NewReader(msg), WithResolver(dns))
		var re *DKIMReadError
		if !errors.As(err, &re) || !errors.Is(err, ErrDKIMHeaderTooLarge) {
			t.Errorf("%s: err %v", name, err)
		}
	}
	// Just under the limit is fine.
	msg := strings.Repeat("X-Pad: "+strings.Repeat("p", 70)+"\r\n", DKIMMaxHeaderBytes/80-10) + "\r\n"
	if _, err := VerifyDKIM(context.Background(), strings.NewReader(msg), WithResolver(dns)); err != nil {
		t.Error(err)
	}
}

// dkimFailingReader returns its data, then err.
type dkimFailingReader struct {
	data []byte
	err  error
}

func (r *dkimFailingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// dkimStuckReader returns its data, then (0, nil) for ever.
type dkimStuckReader struct{ data []byte }

func (r *dkimStuckReader) Read(p []byte) (int, error) {
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestVerifyDKIMReaderErrors(t *testing.T) {
	dns := dkimHostileDNS(t)
	signed := dkimHostileSigned(t, dkimTestBody)
	boom := errors.New("connection reset")
	head := bytes.Index(signed, []byte("\r\n\r\n")) + 4
	for name, r := range map[string]io.Reader{
		"error at once":          iotest.ErrReader(boom),
		"error in the header":    &dkimFailingReader{data: signed[:head/2], err: boom},
		"error in the body":      &dkimFailingReader{data: signed[:head+5], err: boom},
		"one byte at a time":     iotest.OneByteReader(&dkimFailingReader{data: signed[:head+5], err: boom}),
		"data with the error":    iotest.DataErrReader(&dkimFailingReader{data: signed[:head+5], err: boom}),
		"timeout in the body":    iotest.TimeoutReader(bytes.NewReader(signed)),
		"no progress (0, nil)":   &dkimStuckReader{data: signed[:head+5]},
		"no progress in headers": &dkimStuckReader{data: signed[:head-5]},
	} {
		done := make(chan struct{})
		var got []DKIMResult
		var err error
		go func() {
			defer close(done)
			got, err = VerifyDKIM(context.Background(), r, WithResolver(dns))
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: hung", name)
		}
		var re *DKIMReadError
		if !errors.As(err, &re) || got != nil {
			t.Errorf("%s: got %v, err %v; want a DKIMReadError", name, got, err)
		}
		t.Logf("%s: %v", name, err)
	}
	// The body of a message without signatures is not read, so an error
	// there goes unnoticed.
	unsigned := dkimTestMessage(dkimTestBody)
	h := bytes.Index(unsigned, []byte("\r\n\r\n")) + 4
	got, err := VerifyDKIM(context.Background(), &dkimFailingReader{data: unsigned[:h], err: boom}, WithResolver(dns))
	if err != nil || len(got) != 0 {
		t.Errorf("unsigned: %v %v", got, err)
	}
}

// TestVerifyDKIMTruncated verifies every prefix of a signed message:
// nothing may panic or fail to read, and nothing may pass unless the
// whole message (modulo trailing empty lines) is there.
func TestVerifyDKIMTruncated(t *testing.T) {
	dns := dkimHostileDNS(t)
	signed := dkimHostileSigned(t, dkimTestBody)
	// The body's trailing empty lines are not signed, and a missing
	// final CRLF is added by canonicalization.
	complete := len(signed) - len("\r\n\r\n\r\n")
	for n := 0; n <= len(signed); n++ {
		got, err := VerifyDKIM(context.Background(), bytes.NewReader(signed[:n]), WithResolver(dns))
		if err != nil {
			t.Fatalf("prefix %d: %v", n, err)
		}
		for _, r := range got {
			checkDKIMStatus(t, r)
			if r.Status == DKIMStatusPass && n < complete {
				t.Fatalf("prefix %d of %d passes: %+v", n, len(signed), r)
			}
		}
		if n == len(signed) && (len(got) != 2 || got[0].Status != DKIMStatusPass || got[1].Status != DKIMStatusPass) {
			t.Fatalf("whole message: %+v", got)
		}
	}
}

// checkDKIMStatus checks that a result's status and reason are among
// the documented words.
func checkDKIMStatus(tb testing.TB, r DKIMResult) {
	tb.Helper()
	ok := false
	switch r.Status {
	case DKIMStatusPass, DKIMStatusNone:
		ok = r.Reason == ""
	case DKIMStatusFail:
		ok = r.Reason == "" || r.Reason == DKIMReasonBodyHashMismatch || r.Reason == DKIMReasonSignatureIncorrect || r.Reason == DKIMReasonPubkeyTooShort
	case DKIMStatusInvalid:
		switch r.Reason {
		case DKIMReasonPubkeyUnavailable, DKIMReasonPubkeyDNSSyntax, DKIMReasonPubkeyDERSyntax, DKIMReasonSignatureTag, DKIMReasonVersion, DKIMReasonExpired:
			ok = true
		}
	}
	if !ok || (r.Err == nil) != (r.Status == DKIMStatusPass) {
		tb.Fatalf("bad result %+v", r)
	}
	if strings.ContainsAny(r.ARResult(), "\r") {
		tb.Fatalf("AR %q", r.ARResult())
	}
}

// TestVerifyDKIMNoBody: a message that ends inside its header has an
// empty body (CRLF for simple canonicalization), which is what was
// signed when the signer saw an empty body.
func TestVerifyDKIMNoBody(t *testing.T) {
	dns := dkimHostileDNS(t)
	signed := dkimHostileSigned(t, "")
	for _, msg := range [][]byte{signed, bytes.TrimSuffix(signed, []byte("\r\n")), bytes.TrimSuffix(signed, []byte("\r\n\r\n"))} {
		got, err := VerifyDKIM(context.Background(), bytes.NewReader(msg), WithResolver(dns))
		if err != nil || len(got) != 2 || got[0].Status != DKIMStatusPass || got[1].Status != DKIMStatusPass {
			t.Errorf("%q: %+v %v", msg[len(msg)-20:], got, err)
		}
	}
}

// TestVerifyDKIMManySignatures: a flood of signatures is parsed but at
// most MaxSignatures are verified (one key lookup each at most).
func TestVerifyDKIMManySignatures(t *testing.T) {
	signed := dkimHostileSigned(t, dkimTestBody)
	flood := strings.Repeat("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=flood; h=from; bh=AAAA; b=AAAA\r\n", 5000)
	msg := append([]byte(flood), signed...)
	v, err := newDKIMVerifier(dkimConfig(WithResolver(dkimHostileDNS(t))))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, err := v.verify(context.Background(), bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	verified := 0
	for _, r := range got {
		checkDKIMStatus(t, r)
		if r.Status != DKIMStatusNone {
			verified++
		}
	}
	// The ed25519 signature sorts first and passes; then four flood
	// signatures (one shared lookup); the rest are "none".
	if len(got) != 5002 || verified != 5 || got[0].Status != DKIMStatusPass || v.lookups != 2 {
		t.Errorf("%d results, %d verified, first %+v, %d lookups", len(got), verified, got[0], v.lookups)
	}
	t.Logf("5002 signatures in %v", time.Since(start))
}

// TestVerifyDKIMMalformedSignatures: signature fields broken in many
// ways are reported invalid (or dropped when a= is unusable); the good
// signature next to them still passes.
func TestVerifyDKIMMalformedSignatures(t *testing.T) {
	signed := dkimHostileSigned(t, dkimTestBody)
	for _, bad := range []string{
		"DKIM-Signature:\r\n",
		"DKIM-Signature: ;;;;\r\n",
		"DKIM-Signature: a=rsa-sha256\r\n",
		"DKIM-Signature: a=rsa-sha256; v=1; d=example.com; s=s; h=from; bh=AAAA; b=AAAA; l=99999999999999999999999999999999999\r\n",
		"DKIM-Signature: a=rsa-sha256; v=1; d=" + strings.Repeat("a.", 200) + "com; s=s; h=from; bh=AAAA; b=AAAA\r\n",
		"DKIM-Signature: a=rsa-sha256; v=1; d=example.com; s=s; h=" + strings.Repeat("from:", 10000) + "from; bh=AAAA; b=AAAA\r\n",
		"DKIM-Signature: a=rsa-sha256; v=1; d=example.com; s=\xff\xfe; h=from; bh=AAAA; b=AAAA\r\n",
		"DKIM-Signature: a=rsa-sha256; v=1; d=example.com;\r\n\r\n",
		"dkim-signature  : a=ed25519-sha256; v=1; d=example.com; s=ed; h=from; bh=AAAA; b=AAAA\r\n",
		"DKIM-Signature: a=ed25519-sha256; v=1; d=example.com; s=ed; h=from; bh=" + strings.Repeat("A", 1<<16) + "; b=AAAA\r\n",
	} {
		msg := append([]byte(bad), signed...)
		got, err := VerifyDKIM(context.Background(), bytes.NewReader(msg), WithResolver(dkimHostileDNS(t)), WithDKIMMaxSignatures(10))
		if err != nil {
			t.Fatalf("%.60q: %v", bad, err)
		}
		passes := 0
		for _, r := range got {
			checkDKIMStatus(t, r)
			if r.Status == DKIMStatusPass {
				passes++
			}
		}
		wantPasses := 2
		if strings.Contains(bad, "\r\n\r\n") {
			wantPasses = 0 // the blank line ends the header: the rest is body
		}
		if passes != wantPasses {
			t.Errorf("%.60q: %d passes: %+v", bad, passes, got)
		}
	}
}
