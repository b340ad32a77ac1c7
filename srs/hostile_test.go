package srs

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// unsafeLocals are local parts a sender could put in MAIL FROM on a
// lenient server; every one would end up in a header or command line.
var unsafeLocals = []string{
	"a\rb", "a\nb", "a\r\nRCPT TO:<x@y>", "a\x00b", "a\x7fb", "a\x1bb", "\tab", "ab\x01",
}

func TestForwardRefusesControlCharacters(t *testing.T) {
	for _, cfg := range []Config{{}, {Scheme: Exim}} {
		r := mustNew(t, cfg)
		for _, l := range unsafeLocals {
			for _, addr := range []string{l + "@victim.example", `"` + l + `"@victim.example`,
				"user@vic\ntim.example", "SRS0=abcd=2W=victim.example=" + l + "@other.example",
				"SRS1=abcd=first.example==" + l + "@other.example"} {
				if got, err := r.Forward(addr); !errors.Is(err, ErrUnsafe) {
					t.Errorf("%v Forward(%q) = %q, %v; want ErrUnsafe", cfg.Scheme, addr, got, err)
				}
			}
		}
	}
}

// TestReverseRefusesSignedControlCharacters signs the hostile local part
// with the rewriter's own secret, the way Forward used to, so the hash is
// valid: Reverse must refuse the content, not only a bad hash.
func TestReverseRefusesSignedControlCharacters(t *testing.T) {
	g := mustNew(t, Config{})
	e := mustNew(t, Config{Scheme: Exim})
	ts := Timestamp(time.Unix(t2020, 0))
	for _, l := range unsafeLocals {
		host := "victim.example"
		srs0 := "SRS0=" + g.sign(ts, host, l) + "=" + ts + "=" + host + "=" + l + "@example.com"
		srs1 := "SRS1=" + g.sign(host, "="+l) + "=" + host + "==" + l + "@example.com"
		h := eximHash(e.secrets[0], eximCanonical(l, host))
		exim := "SRS0=" + string(h[:]) + "=" + strings.ToLower(ts) + "=" + host + "=" + l + "@example.com"
		for _, c := range []struct {
			r    *Rewriter
			addr string
		}{{g, srs0}, {g, srs1}, {e, exim}, {e, `"` + exim[:strings.LastIndexByte(exim, '@')] + `"@example.com`}} {
			if got, err := c.r.Reverse(c.addr); !errors.Is(err, ErrUnsafe) {
				t.Errorf("%v Reverse(%q) = %q, %v; want ErrUnsafe", c.r.Scheme(), c.addr, got, err)
			}
		}
	}
	// The same construction with a harmless local part is accepted, so
	// the refusals above are about the content.
	l, host := "user", "victim.example"
	ok := "SRS0=" + g.sign(ts, host, l) + "=" + ts + "=" + host + "=" + l + "@example.com"
	if got, err := g.Reverse(ok); err != nil || got != "user@victim.example" {
		t.Fatalf("control: Reverse(%q) = %q, %v", ok, got, err)
	}
	h := eximHash(e.secrets[0], eximCanonical(l, host))
	okExim := "SRS0=" + string(h[:]) + "=" + strings.ToLower(ts) + "=" + host + "=" + l + "@example.com"
	if got, err := e.Reverse(okExim); err != nil || got != "user@victim.example" {
		t.Fatalf("control: Reverse(%q) = %q, %v", okExim, got, err)
	}
}

// A Store shared with other software might hold anything: what
// database mode returns is checked like any other result.
func TestReverseRefusesUnsafeStoredAddress(t *testing.T) {
	st := &MemStore{}
	r := mustNew(t, Config{Store: st})
	long := strings.Repeat("x", 70) + "@victim.example"
	fwd, err := r.Forward(long)
	if err != nil {
		t.Fatal(err)
	}
	key := r.dbKey(long)
	if err := st.Put(key, "evil\r\n@victim.example", time.Unix(t2020, 0).Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Reverse(fwd); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("Reverse(%q) = %q, %v; want ErrUnsafe", fwd, got, err)
	}
}

// Space (quoted local parts) and UTF-8 (RFC 6531) stay representable.
func TestForwardKeepsSpaceAndUTF8(t *testing.T) {
	for _, cfg := range []Config{{}, {Scheme: Exim}} {
		r := mustNew(t, cfg)
		for _, addr := range []string{`"a b"@x.org`, "josé@x.org"} {
			f, err := r.Forward(addr)
			if err != nil {
				t.Fatalf("%v Forward(%q): %v", cfg.Scheme, addr, err)
			}
			if _, err := r.Reverse(f); err != nil {
				t.Fatalf("%v Reverse(%q): %v", cfg.Scheme, f, err)
			}
		}
	}
}
