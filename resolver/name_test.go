package resolver

import (
	"strings"
	"testing"
)

func TestCanonicalName(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	name253 := strings.Repeat("abcdefghi.", 25) + "abc" // 253 characters

	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"example.com", "example.com.", false},
		{"example.com.", "example.com.", false},
		{"Example.COM", "Example.COM.", false},
		{".", ".", false},
		{label63 + ".example", label63 + ".example.", false},
		{name253, name253 + ".", false},
		{name253 + ".", name253 + ".", false},
		{`\065.example`, "A.example.", false},            // escapes are presentation format
		{"_spf.example.com", "_spf.example.com.", false}, // not a host name, still a domain name
		{"a b.example", `a\ b.example.`, false},
		{"", "", true},
		{"..", "", true},
		{"a..b", "", true},
		{".a", "", true},
		{strings.Repeat("a", 64) + ".example", "", true},
		{name253 + "d", "", true},
		{`\097` + strings.Repeat("a", 63), "", true}, // 64 octets once unescaped
		{strings.Repeat(`\097.`, 128), "", true},     // 256 octets on the wire
		{`trailing\`, "", true},
	}
	for _, tt := range tests {
		got, err := canonicalName(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("canonicalName(%q) = %q, %v", tt.in, got, err)
		}
	}
}

func TestTrimDot(t *testing.T) {
	for in, want := range map[string]string{"a.example.": "a.example", "a.example": "a.example", ".": ".", "": ""} {
		if got := trimDot(in); got != want {
			t.Errorf("trimDot(%q) = %q, want %q", in, got, want)
		}
	}
}
