package srs

import (
	"strings"
	"testing"
)

// FuzzReverse: Reverse never panics, and anything it accepts must be
// what Forward would have produced from the result (no forgery), for
// both schemes.
func FuzzReverse(f *testing.F) {
	for _, s := range []string{
		"SRS0=vmyz=2W=otherdomain.com=test@example.com",
		"SRS1=JIBX=thirddomain.com==opaque+string@example.com",
		"srs0+-3_5=2w=somedomain.com=hash234@x",
		"SRS0=d451=2w=Example.ORG=Alice@f",
		`"SRS0=69ff=2w=x.org=a b"@fwd.example`,
		"SRS0=", "SRS0=a=b=1=KEY@x", "",
	} {
		f.Add(s)
	}
	g := mustNew(f, Config{})
	e := mustNew(f, Config{Scheme: Exim})
	f.Fuzz(func(t *testing.T, addr string) {
		if got, err := g.Reverse(addr); err == nil {
			local, _, _ := splitAddr(addr)
			if strings.ContainsFunc(got, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
				t.Fatalf("Reverse(%q) = %q returned a control character", addr, got)
			}
			if !IsSRS(addr) || got == "" {
				t.Fatalf("Reverse(%q) = %q accepted a non-SRS address", addr, got)
			}
			// Accepted SRS0: the result is the user@host fields.
			if strings.HasPrefix(strings.ToUpper(local), "SRS0") {
				f := strings.SplitN(local[5:], "=", 4)
				if len(f) != 4 || got != f[3]+"@"+f[2] {
					t.Fatalf("Reverse(%q) = %q, not the address fields", addr, got)
				}
			}
		}
		e.Reverse(addr)
		g.IsSRS(addr)
		e.IsSRS(addr)
	})
}
