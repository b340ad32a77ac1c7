package dkim

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

// Hostile and broken input: Verify must answer with a clear error
// or an invalid/fail status, never panic or hang.

// hostileDNS is a small in-memory zone for these tests.
func hostileDNS(tb testing.TB) *testDNS {
	k := testKeys()
	return newTestDNS().
		add("rsa2048._domainkey.example.com", keyRecord(tb, k.rsa2048.Public(), "")).
		add("ed._domainkey.example.com", keyRecord(tb, k.ed.Public(), ""))
}

func hostileSigned(tb testing.TB, body string) []byte {
	k := testKeys()
	msg := testMessage(body)
	msg = testSign(tb, msg, testSigner{alg: "rsa-sha256", key: k.rsa2048, domain: "example.com", selector: "rsa2048", canon: "relaxed/relaxed", bodyLen: -1})
	return testSign(tb, msg, testSigner{alg: "ed25519-sha256", key: k.ed, domain: "example.com", selector: "ed", canon: "simple/simple", bodyLen: -1})
}

func TestVerifyHeaderTooLarge(t *testing.T) {
	dns := hostileDNS(t)
	for name, msg := range map[string]string{
		"many fields":    strings.Repeat("X-Pad: "+strings.Repeat("p", 70)+"\r\n", 20000) + "\r\nbody",
		"one long line":  "Subject: " + strings.Repeat("s", 2<<20) + "\r\n\r\nbody",
		"endless header": "Subject: x\r\n" + strings.Repeat(" folded continuation\n", 100000),
	} {
		_, err := Verify(context.Background(), strings.NewReader(msg), WithResolver(dns))
		var re *ReadError
		if !errors.As(err, &re) || !errors.Is(err, ErrHeaderTooLarge) {
			t.Errorf("%s: err %v", name, err)
		}
	}
	// Just under the limit is fine.
	msg := strings.Repeat("X-Pad: "+strings.Repeat("p", 70)+"\r\n", MaxHeaderBytes/80-10) + "\r\n"
	if _, err := Verify(context.Background(), strings.NewReader(msg), WithResolver(dns)); err != nil {
		t.Error(err)
	}
}

// failingReader returns its data, then err.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// stuckReader returns its data, then (0, nil) for ever.
type stuckReader struct{ data []byte }

func (r *stuckReader) Read(p []byte) (int, error) {
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestVerifyReaderErrors(t *testing.T) {
	dns := hostileDNS(t)
	signed := hostileSigned(t, testBody)
	boom := errors.New("connection reset")
	head := bytes.Index(signed, []byte("\r\n\r\n")) + 4
	for name, r := range map[string]io.Reader{
		"error at once":          iotest.ErrReader(boom),
		"error in the header":    &failingReader{data: signed[:head/2], err: boom},
		"error in the body":      &failingReader{data: signed[:head+5], err: boom},
		"one byte at a time":     iotest.OneByteReader(&failingReader{data: signed[:head+5], err: boom}),
		"data with the error":    iotest.DataErrReader(&failingReader{data: signed[:head+5], err: boom}),
		"timeout in the body":    iotest.TimeoutReader(bytes.NewReader(signed)),
		"no progress (0, nil)":   &stuckReader{data: signed[:head+5]},
		"no progress in headers": &stuckReader{data: signed[:head-5]},
	} {
		done := make(chan struct{})
		var got []Result
		var err error
		go func() {
			defer close(done)
			got, err = Verify(context.Background(), r, WithResolver(dns))
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: hung", name)
		}
		var re *ReadError
		if !errors.As(err, &re) || got != nil {
			t.Errorf("%s: got %v, err %v; want a ReadError", name, got, err)
		}
		t.Logf("%s: %v", name, err)
	}
	// The body of a message without signatures is not read, so an error
	// there goes unnoticed.
	unsigned := testMessage(testBody)
	h := bytes.Index(unsigned, []byte("\r\n\r\n")) + 4
	got, err := Verify(context.Background(), &failingReader{data: unsigned[:h], err: boom}, WithResolver(dns))
	if err != nil || len(got) != 0 {
		t.Errorf("unsigned: %v %v", got, err)
	}
}

// TestVerifyTruncated verifies every prefix of a signed message:
// nothing may panic or fail to read, and nothing may pass unless the
// whole message (modulo trailing empty lines) is there.
func TestVerifyTruncated(t *testing.T) {
	dns := hostileDNS(t)
	signed := hostileSigned(t, testBody)
	// The body's trailing empty lines are not signed, and a missing
	// final CRLF is added by canonicalization.
	complete := len(signed) - len("\r\n\r\n\r\n")
	for n := 0; n <= len(signed); n++ {
		got, err := Verify(context.Background(), bytes.NewReader(signed[:n]), WithResolver(dns))
		if err != nil {
			t.Fatalf("prefix %d: %v", n, err)
		}
		for _, r := range got {
			checkStatus(t, r)
			if r.Status == StatusPass && n < complete {
				t.Fatalf("prefix %d of %d passes: %+v", n, len(signed), r)
			}
		}
		if n == len(signed) && (len(got) != 2 || got[0].Status != StatusPass || got[1].Status != StatusPass) {
			t.Fatalf("whole message: %+v", got)
		}
	}
}

// checkStatus checks that a result's status and reason are among
// the documented words.
func checkStatus(tb testing.TB, r Result) {
	tb.Helper()
	ok := false
	switch r.Status {
	case StatusPass, StatusNone:
		ok = r.Reason == ""
	case StatusFail:
		ok = r.Reason == "" || r.Reason == ReasonBodyHashMismatch || r.Reason == ReasonSignatureIncorrect || r.Reason == ReasonPubkeyTooShort
	case StatusInvalid:
		switch r.Reason {
		case ReasonPubkeyUnavailable, ReasonPubkeyDNSSyntax, ReasonPubkeyDERSyntax, ReasonSignatureTag, ReasonVersion, ReasonExpired:
			ok = true
		}
	}
	if !ok || (r.Err == nil) != (r.Status == StatusPass) {
		tb.Fatalf("bad result %+v", r)
	}
}

// TestVerifyNoBody: a message that ends inside its header has an
// empty body (CRLF for simple canonicalization), which is what was
// signed when the signer saw an empty body.
func TestVerifyNoBody(t *testing.T) {
	dns := hostileDNS(t)
	signed := hostileSigned(t, "")
	for _, msg := range [][]byte{signed, bytes.TrimSuffix(signed, []byte("\r\n")), bytes.TrimSuffix(signed, []byte("\r\n\r\n"))} {
		got, err := Verify(context.Background(), bytes.NewReader(msg), WithResolver(dns))
		if err != nil || len(got) != 2 || got[0].Status != StatusPass || got[1].Status != StatusPass {
			t.Errorf("%q: %+v %v", msg[len(msg)-20:], got, err)
		}
	}
}

// TestVerifyManySignatures: a flood of signatures is parsed but at
// most MaxSignatures are verified (one key lookup each at most).
func TestVerifyManySignatures(t *testing.T) {
	signed := hostileSigned(t, testBody)
	flood := strings.Repeat("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=flood; h=from; bh=AAAA; b=AAAA\r\n", 5000)
	msg := append([]byte(flood), signed...)
	v, err := newVerifier(testConfig(WithResolver(hostileDNS(t))))
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
		checkStatus(t, r)
		if r.Status != StatusNone {
			verified++
		}
	}
	// The ed25519 signature sorts first and passes; then four flood
	// signatures (one shared lookup); the rest are "none".
	if len(got) != 5002 || verified != 5 || got[0].Status != StatusPass || v.lookups != 2 {
		t.Errorf("%d results, %d verified, first %+v, %d lookups", len(got), verified, got[0], v.lookups)
	}
	t.Logf("5002 signatures in %v", time.Since(start))
}

// TestVerifyMalformedSignatures: signature fields broken in many
// ways are reported invalid (or dropped when a= is unusable); the good
// signature next to them still passes.
func TestVerifyMalformedSignatures(t *testing.T) {
	signed := hostileSigned(t, testBody)
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
		got, err := Verify(context.Background(), bytes.NewReader(msg), WithResolver(hostileDNS(t)), WithMaxSignatures(10))
		if err != nil {
			t.Fatalf("%.60q: %v", bad, err)
		}
		passes := 0
		for _, r := range got {
			checkStatus(t, r)
			if r.Status == StatusPass {
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
