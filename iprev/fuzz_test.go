package iprev

import (
	"strings"
	"testing"
)

// FuzzValidHostName: whatever a PTR zone says, a name that passes is
// plain LDH text that cannot break a header or a comment.
func FuzzValidHostName(f *testing.F) {
	for _, s := range []string{"mail.example.com", "a-b.c", "-a.b", "a..b", "x(y).z", "a;b", "\r\n", "_dmarc.x", "a.", "mail.example.com.", "a_b.c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !validHostName(s) {
			return
		}
		for i := 0; i < len(s); i++ {
			c := s[i]
			if !(c == '.' || c == '-' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
				t.Fatalf("%q accepted with %q", s, c)
			}
		}
		if len(s) > 253 {
			t.Fatalf("%d octets accepted", len(s))
		}
		for _, l := range strings.Split(s, ".") {
			if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
				t.Fatalf("%q accepted with label %q", s, l)
			}
		}
	})
}
