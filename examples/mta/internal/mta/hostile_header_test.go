package mta

import (
	"strings"
	"testing"
)

// A forged From of a p=reject domain (sender.test) behind every kind of
// malformed header, sent by a hostile client over a real socket with
// DMARC enforced: each is refused with a 5xx and nothing is delivered.
func TestHostileHeadersRefused(t *testing.T) {
	ts := start(t, func(c *Config) { c.SPFLocalhostPass = false; c.DMARCEnforce = true })
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	const from = "From: ceo@sender.test"
	for _, v := range []struct{ name, header string }{
		{"clean forgery", from},
		{"CR in another field before From", "X-A: a\rb\n" + from},
		{"CR in another field after From", from + "\nX-A: a\rb"},
		{"NUL in another field", "X-A: a\x00b\n" + from},
		{"ESC in another field", "X-A: \x1b$B\n" + from},
		{"DEL in another field", from + "\nX-A: a\x7fb"},
		{"line without colon", "no colon here\n" + from},
		{"line without colon after From", from + "\nno colon here"},
		{"empty field name", ": empty\n" + from},
		{"8-bit field name", "X-\xc3\xa9: v\n" + from},
		{"space inside a field name", "X A: v\n" + from},
		{"continuation line first", " folded\n" + from},
		{"obsolete space before the colon", "From : ceo@sender.test"},
		{"comment in the address", "From: ceo@(c)sender.test"},
		{"obs-route", "From: <@relay.test:ceo@sender.test>"},
		{"second From hides nothing", "From: friend@example.org\n" + from},
		{"second address hides nothing", "From: friend@example.org, ceo@sender.test"},
		{"unparsable From", "From: ceo@sender.test <"},
		{"domain literal From", "From: ceo@[127.0.0.1]"},
		{"no From at all", "Sender: ceo@sender.test"},
		{"empty From", "From:"},
		{"group From", "From: undisclosed:;"},
		{"forged key that does not exist", "DKIM-Signature: v=1; a=ed25519-sha256; d=sender.test; s=nokey; h=from; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA\n" + from},
	} {
		msg := v.header + "\nTo: bob@example.com\nSubject: wire money\n\nPay now.\n"
		code, text := c.send("x@fail.test", []string{"bob@example.com"}, msg)
		if code < 500 || code > 599 {
			t.Errorf("%s: got %d %q, want a 5xx", v.name, code, text)
		}
		if strings.ContainsFunc(text, func(r rune) bool { return r < ' ' || r > '~' }) {
			t.Errorf("%s: reply not 7-bit: %q", v.name, text)
		}
	}
	if n := len(ts.files(t, "")); n != 0 {
		t.Errorf("%d forged messages delivered", n)
	}
	// The well-formed, signed message still goes through.
	if code, msg := c.send("alice@sender.test", []string{"bob@example.com"}, signed(t, plainMsg)); code != 250 {
		t.Fatalf("signed: %d %q", code, msg)
	}
}

// Without enforcement nothing is refused for DMARC, but a malformed
// header elsewhere still does not hide the forged From from the check.
func TestHostileHeadersEvaluated(t *testing.T) {
	ts := start(t, func(c *Config) { c.SPFLocalhostPass = false })
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	for _, h := range []string{"no colon here\nFrom: ceo@sender.test", "X-A: a\x00b\nFrom : ceo@(c)sender.test"} {
		if code, text := c.send("x@fail.test", []string{"bob@example.com"}, h+"\nSubject: s\n\nb\n"); code != 250 {
			t.Fatalf("%q: %d %q", h, code, text)
		}
	}
	files := ts.files(t, "")
	if len(files) != 2 {
		t.Fatalf("%d files", len(files))
	}
	for _, f := range files {
		if ar := headerOf(f, "Authentication-Results"); !strings.Contains(ar, "dmarc=fail") || !strings.Contains(ar, "header.from=sender.test") {
			t.Errorf("AR %q", ar)
		}
	}
}
