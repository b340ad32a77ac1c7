package authres

import (
	"strings"
	"testing"

	msgauth "github.com/emersion/go-msgauth/authres"
)

// checkField checks what the package promises about every field it
// writes: the name, CRLF only as folds (each followed by a tab), 7-bit
// printable text, no line over 998 octets, and exactly n results (";"
// outside quoted-strings and comments), read the same by go-msgauth
// when the authserv-id is a plain token.
func checkField(t testing.TB, s string, n int) {
	t.Helper()
	if !strings.HasPrefix(s, FieldName+": ") {
		t.Fatalf("no field name: %q", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\r':
			if i+2 >= len(s) || s[i+1] != '\n' || s[i+2] != '\t' {
				t.Fatalf("CR not starting a fold at %d: %q", i, s)
			}
		case c == '\n':
			if i == 0 || s[i-1] != '\r' {
				t.Fatalf("bare LF at %d: %q", i, s)
			}
		case c == '\t' && i > 0 && s[i-1] == '\n', c == '\t' && i > 1 && s[i-1] == '\t' && s[i-2] == '\n':
		case c < 0x20 || c >= 0x7f:
			t.Fatalf("octet %#x at %d: %q", c, i, s)
		}
	}
	for _, l := range strings.Split(s, "\r\n") {
		if len(l) > 998 {
			t.Fatalf("line of %d octets", len(l))
		}
		if strings.TrimLeft(l, "\t") == "" {
			t.Fatalf("empty line in %q", s)
		}
	}
	semis := 0
	inQ, depth := false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && (inQ || depth > 0):
			i++
		case inQ:
			inQ = c != '"'
		case c == '"' && depth == 0:
			inQ = true
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth < 0 {
				t.Fatalf("unbalanced ) in %q", s)
			}
		case c == ';' && depth == 0:
			semis++
		}
	}
	if inQ || depth != 0 {
		t.Fatalf("unterminated quote or comment in %q", s)
	}
	want := n
	if n == 0 {
		want = 1 // "; none"
	}
	if semis != want {
		t.Fatalf("%d results, want %d: %q", semis, want, s)
	}
	// A careless parser (go-msgauth splits at every ";") must see the
	// same number of results.
	v := strings.TrimPrefix(unfold(s), FieldName+": ")
	if got := strings.Count(v, ";"); got != want {
		t.Fatalf("%d \";\" in all, want %d: %q", got, want, s)
	}
	if _, rs, err := msgauth.Parse(v); err == nil && len(rs) != n {
		t.Fatalf("go-msgauth reads %d results, want %d: %q", len(rs), n, s)
	}
}
