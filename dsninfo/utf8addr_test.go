package dsninfo

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAddress(t *testing.T) {
	if got := Address("bob@example.org"); got != (Typed{"rfc822", "bob@example.org"}) {
		t.Errorf("ASCII: %+v", got)
	}
	got := Address("bøb+x@exämple.org")
	if got.Type != "utf-8" || got.Value != `b\x{F8}b\x{2B}x@ex\x{E4}mple.org` {
		t.Errorf("UTF-8: %+v", got)
	}
	if got.Addr() != "bøb+x@exämple.org" {
		t.Errorf("Addr() = %q", got.Addr())
	}
	if a := (Typed{"rfc822", `a\x{E4}@b`}).Addr(); a != `a\x{E4}@b` {
		t.Errorf("rfc822 is not decoded: %q", a)
	}
	if a := (Typed{"utf-8", `bad\x{D800}`}).Addr(); a != `bad\x{D800}` {
		t.Errorf("undecodable utf-8 value: %q", a)
	}
}

func TestEncodeUTF8Addr(t *testing.T) {
	for in, want := range map[string]string{
		"a@b":      "a@b",
		"a b@c":    `a\x{20}b@c`,
		"a\\b=c@d": `a\x{5C}b\x{3D}c@d`,
		"\x01@x":   `\x{01}@x`,
		"𝄞@x":      `\x{1D11E}@x`,
		"\xff@x":   `\x{FFFD}@x`,
		"用户@例子.广告": `\x{7528}\x{6237}@\x{4F8B}\x{5B50}.\x{5E7F}\x{544A}`,
	} {
		if got := EncodeUTF8Addr(in); got != want {
			t.Errorf("EncodeUTF8Addr(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDecodeUTF8Addr(t *testing.T) {
	for in, want := range map[string]string{
		`b\x{F8}b@x`:   "bøb@x",
		`b\x{f8}b@x`:   "bøb@x", // lower-case hex is read too
		"bøb@x":        "bøb@x", // utf-8-addr-unitext
		`\x{10FFFF}@x`: "\U0010FFFF@x",
		`a\x{5C}b@c`:   `a\b@c`,
	} {
		got, err := DecodeUTF8Addr(in)
		if err != nil || got != want {
			t.Errorf("DecodeUTF8Addr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", `a\b`, `a\x{}`, `a\x{1234567}`, `a\x{110000}`, `a\x{D800}`, `a\x{0}`, `a\x{zz}`, `a\x{41`,
		"a b", "a+b", "a=b", "a\x7f", "\xff",
	} {
		if got, err := DecodeUTF8Addr(in); !errors.Is(err, ErrUTF8Addr) {
			t.Errorf("DecodeUTF8Addr(%q) = %q, %v; want ErrUTF8Addr", in, got, err)
		}
	}
}

// A report about an internationalised address keeps the address
// through Compose (7-bit) and Parse.
func TestComposeUTF8Recipient(t *testing.T) {
	addr := "用户@例子.广告"
	msg, err := Compose(Report{
		ReportingMTA: "mx.example",
		Recipients: []Recipient{{
			FinalRecipient:    Address(addr),
			OriginalRecipient: Address("bøb@example.org"),
			Action:            Failed,
			Status:            "5.6.7",
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range msg {
		if c >= 0x80 {
			t.Fatalf("8-bit byte in the report:\n%s", msg)
		}
	}
	if !bytes.Contains(msg, []byte("Final-Recipient: utf-8;"+EncodeUTF8Addr(addr)+"\r\n")) {
		t.Errorf("no utf-8 Final-Recipient:\n%s", msg)
	}
	rep, err := Parse(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Recipients[0]
	if r.FinalRecipient.Addr() != addr || r.OriginalRecipient.Addr() != "bøb@example.org" {
		t.Errorf("read back %+v", r)
	}
}

func FuzzDecodeUTF8Addr(f *testing.F) {
	for _, s := range []string{`b\x{F8}b@x`, "bøb@x", `\x{10FFFF}`, `a\x{`, `\x{D800}`, "a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := DecodeUTF8Addr(in)
		if err != nil {
			if !errors.Is(err, ErrUTF8Addr) {
				t.Fatalf("error %v does not wrap ErrUTF8Addr", err)
			}
			return
		}
		if !utf8.ValidString(out) || strings.ContainsRune(out, 0) {
			t.Fatalf("DecodeUTF8Addr(%q) = %q", in, out)
		}
		// What decodes, encodes to 7 bits and decodes back the same.
		enc := EncodeUTF8Addr(out)
		for i := 0; i < len(enc); i++ {
			if enc[i] >= 0x80 || enc[i] <= ' ' {
				t.Fatalf("EncodeUTF8Addr(%q) = %q", out, enc)
			}
		}
		if back, err := DecodeUTF8Addr(enc); err != nil || back != out {
			t.Fatalf("round trip %q -> %q -> %q, %v", out, enc, back, err)
		}
	})
}
