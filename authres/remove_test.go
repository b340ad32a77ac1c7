package authres

import (
	"bytes"
	"testing"
)

func TestClaims(t *testing.T) {
	const id = "mx.example.net"
	for v, want := range map[string]bool{
		" mx.example.net; spf=pass smtp.mailfrom=a.example":   true,
		" MX.Example.NET; dkim=pass":                          true,
		" mx.example.net.; dkim=pass":                         true,
		" mx.example.net 1; dkim=pass":                        true,
		" mx.example.net; none":                               true,
		" mx.example.net":                                     true,
		` "mx.example.net"; dkim=pass`:                        true,
		" (forged) mx.example.net; dkim=pass":                 true,
		" (a (nested) comment) mx.example.net (x); dkim=pass": true,
		"\r\n\tmx.example.net;\r\n\tdkim=pass header.d=x":     true,
		" mx.example.net(c);dkim=pass":                        true,
		" mx.example.net; dkim=fail (a; b) header.d=x":        true,
		" mx.example.net 2; dkim=pass":                        true, // unknown version: malformed, fail closed
		" mx.example.net\x00garbage; dkim=pass":               true, // malformed, starts with our id
		" mx.example.netgarbage=; dkim=pass":                  true,
		` "mx.example.net`:                                    true,
		" mx.example.net.evil.example; dkim=pass":             false,
		" other.example; dkim=pass header.d=mx.example.net":   false,
		" other.example; spf=pass smtp.helo=mx.example.net":   false,
		" (mx.example.net) other.example; dkim=pass":          false,
		" example.net; dkim=pass":                             false,
		" x.mx.example.net; dkim=pass":                        false,
		" mx.example.ne; dkim=pass":                           false,
		"":                                                    false,
		" ;":                                                  false,
	} {
		if got := Claims(v, id); got != want {
			t.Errorf("Claims(%q) = %v, want %v", v, got, want)
		}
	}
	if Claims(" ; dkim=pass", "") || Claims(" x; y", " ") {
		t.Error("an empty id claims")
	}
}

func TestRemoveOwn(t *testing.T) {
	const id = "mx.example.net"
	in := "Received: from a\r\n\tby b\r\n" +
		"Authentication-Results: mx.example.net;\r\n\tdkim=pass header.d=bank.example\r\n" +
		"authentication-results : MX.EXAMPLE.NET; spf=pass\r\n" +
		"Authentication-Results: other.example; dkim=pass\r\n" +
		"X-Authentication-Results: mx.example.net; dkim=pass\r\n" +
		"Authentication-Results: (c) mx.example.net; dkim=pass\n\tfolded with LF\n" +
		"Subject: test\r\n" +
		"\r\n" +
		"Authentication-Results: mx.example.net; body line, not a field\r\n"
	want := "Received: from a\r\n\tby b\r\n" +
		"Authentication-Results: other.example; dkim=pass\r\n" +
		"X-Authentication-Results: mx.example.net; dkim=pass\r\n" +
		"Subject: test\r\n" +
		"\r\n" +
		"Authentication-Results: mx.example.net; body line, not a field\r\n"
	got, n := RemoveOwn([]byte(in), id)
	if string(got) != want || n != 3 {
		t.Errorf("removed %d:\n%q\nwant\n%q", n, got, want)
	}
	// Nothing to remove: the same slice back.
	clean := []byte(want)
	if got, n := RemoveOwn(clean, id); n != 0 || &got[0] != &clean[0] {
		t.Errorf("unchanged header copied or changed (%d)", n)
	}
	// The last field without a line end, and a header of AR fields only.
	for in, want := range map[string]string{
		"A: b\r\nAuthentication-Results: mx.example.net; x=y": "A: b\r\n",
		"Authentication-Results: mx.example.net; x=y\r\n":     "",
		"Authentication-Results: mx.example.net; x=y\n\nbody": "\nbody",
		"Authentication-Results:mx.example.net;x=y\r\n\r\n":   "\r\n",
	} {
		got, _ := RemoveOwn([]byte(in), id)
		if string(got) != want {
			t.Errorf("RemoveOwn(%q) = %q, want %q", in, got, want)
		}
	}
	if got, n := RemoveOwn(nil, id); got != nil || n != 0 {
		t.Error("nil header")
	}
}

// TestRemoveOwnRoundTrip: a header this package writes is claimed by
// its id, whatever its content, and by no other.
func TestRemoveOwnRoundTrip(t *testing.T) {
	h := Build("mx.example.net", Method{Name: "dkim", Result: "fail", Comment: "a; b (c)", Props: []Prop{{"header", "d", "x\r\ny"}}})
	msg := []byte(h.Field() + "Subject: x\r\n\r\n")
	got, n := RemoveOwn(msg, "MX.EXAMPLE.NET")
	if n != 1 || !bytes.Equal(got, []byte("Subject: x\r\n\r\n")) {
		t.Errorf("%d %q", n, got)
	}
	if _, n := RemoveOwn(msg, "mx.example"); n != 0 {
		t.Error("removed by a prefix of the id")
	}
}
