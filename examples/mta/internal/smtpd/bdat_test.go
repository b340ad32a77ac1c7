package smtpd

import "testing"

func TestParseBDAT(t *testing.T) {
	for _, tc := range []struct {
		in       string
		n        int64
		last, ok bool
	}{
		{"0 LAST", 0, true, true},
		{"10", 10, false, true},
		{"10 last", 10, true, true},
		{"", 0, false, false},
		{"-1", 0, false, false},
		{"+1", 0, false, false},
		{"1 LAST x", 0, false, false},
		{"1  LAST", 0, false, false},
		{"1 FIRST", 0, false, false},
		{"99999999999999999999", 0, false, false},
		{"2000000000000", 0, false, false},
	} {
		n, last, ok := parseBDAT(tc.in)
		if n != tc.n || last != tc.last || ok != tc.ok {
			t.Errorf("parseBDAT(%q) = %d %v %v, want %d %v %v", tc.in, n, last, ok, tc.n, tc.last, tc.ok)
		}
	}
}

func FuzzParseBDAT(f *testing.F) {
	for _, s := range []string{"0 LAST", "10", "1 last", " 1", "1\tLAST"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, _, ok := parseBDAT(s)
		if ok && (n < 0 || n > maxChunk) {
			t.Fatalf("parseBDAT(%q) = %d", s, n)
		}
	})
}
