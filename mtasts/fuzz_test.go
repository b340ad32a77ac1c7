package mtasts

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParseRecord: any TXT string gives a record or a *SyntaxError,
// never a panic, and a record's String reads back equal.
func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{
		"v=STSv1; id=20160831085700Z;", "v=STSv1;id=a", "v=STSv1 ; id=a ; x=y;", "v=STSv1", "v=STSv1; id=a; id=b",
		"v=STSv1; id=a;; x=1", "v=STSv1; id=a; x=a=b", "v=STSv10; id=1", "v=spf1 -all", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRecord(s)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok || r != nil {
				t.Fatalf("%q: %T %v", s, err, err)
			}
			return
		}
		if !validID(r.ID) {
			t.Fatalf("%q: id %q", s, r.ID)
		}
		r2, err := ParseRecord(r.String())
		if err != nil || !reflect.DeepEqual(r, r2) {
			t.Fatalf("%q: String %q reads back as %+v, %v", s, r.String(), r2, err)
		}
	})
}

// FuzzParsePolicy: any body gives a policy or a *SyntaxError, never a
// panic; a policy's String reads back equal, its mode is one of three,
// its max_age in range, and every plain mx pattern matches itself.
func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{
		enforceBody, "version: STSv1\nmode: testing\nmx: a.test\nmax_age: 86400",
		"version: STSv1\r\nmode: none\r\nmax_age: 0\r\n\r\n", "version: STSv1\nmode: enforce\nmx: *.a.test\nmax_age: 31557600\nx-y: z w\n",
		"mode: enforce\nmode: none\n", "version STSv1\n", "mx: *\n", "\xff: \xfe\n", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParsePolicy(body)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok || p != nil {
				t.Fatalf("%q: %T %v", body, err, err)
			}
			return
		}
		switch p.Mode {
		case ModeEnforce, ModeTesting, ModeNone:
		default:
			t.Fatalf("%q: mode %q", body, p.Mode)
		}
		if p.MaxAge < 0 || p.MaxAge > MaxMaxAge {
			t.Fatalf("%q: max_age %v", body, p.MaxAge)
		}
		p2, err := ParsePolicy([]byte(p.String()))
		if err != nil || !reflect.DeepEqual(p, p2) {
			t.Fatalf("%q: String %q reads back as %+v, %v", body, p.String(), p2, err)
		}
		for _, mx := range p.MX {
			if !strings.HasPrefix(mx, "*.") && !p.Match(mx) {
				t.Fatalf("%q: mx %q does not match itself", body, mx)
			}
			if rest, ok := strings.CutPrefix(mx, "*."); ok && !p.Match("x."+rest) {
				t.Fatalf("%q: wildcard %q does not match x.%s", body, mx, rest)
			}
		}
	})
}
