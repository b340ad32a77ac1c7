package condlist

import (
	"slices"
	"testing"
)

func collect(list string) []string {
	it := newItems(list)
	var out []string
	for {
		item, ok := it.next()
		if !ok {
			return out
		}
		out = append(out, item)
	}
}

func TestItems(t *testing.T) {
	tests := []struct {
		name string
		list string
		want []string
	}{
		{"empty", "", nil},
		{"only spaces", "  \t ", nil},
		{"single", "fail", []string{"fail"}},
		{"colons", "fail:softfail:neutral", []string{"fail", "softfail", "neutral"}},
		{"whitespace trimmed", "  fail :\tsoftfail\n:  neutral  ", []string{"fail", "softfail", "neutral"}},
		{"inner space kept", "a b : c", []string{"a b", "c"}},
		{"leading separator", ": fail :: x", []string{"fail : x"}},
		{"empty middle items skipped", "fail : : softfail", []string{"fail", "softfail"}},
		{"trailing separator", "fail :", []string{"fail"}},
		{"only separators", ": : :", nil},
		{"doubled colon is literal", "a::b : c", []string{"a:b", "c"}},
		{"doubled colon with spaces", "a :: b", []string{"a : b"}},
		{"leading doubled colon", "::1 : x", []string{":1", "x"}},
		{"triple colon", "a:::b", []string{"a:", "b"}},
		{"lone triple colon", ":::", []string{":"}},
		{"quadruple colon", "a::::b", []string{"a::b"}},
		{"separator change", "<; fail;softfail", []string{"fail", "softfail"}},
		{"separator change keeps colon", "<; a:b ; c", []string{"a:b", "c"}},
		{"separator change doubled", "<; a;;b ; c", []string{"a;b", "c"}},
		{"separator comma", "<, fail , !neutral", []string{"fail", "!neutral"}},
		{"separator bang", "<! fail ! !!x", []string{"fail", "!x"}},
		{"separator newline", "<\nfail\n softfail \n", []string{"fail", "softfail"}},
		{"separator tab", "<\tfail\t\tx\tsoftfail", []string{"fail\tx", "softfail"}},
		{"leading space before <", "  <;a;b", []string{"a", "b"}},
		{"< then letter is not a separator", "<fail:x", []string{"<fail", "x"}},
		{"< then space is not a separator", "< ; a", []string{"< ; a"}},
		{"< alone is empty", "<", nil},
		{"<; alone is empty", "<;", nil},
		{"<; spaces", "<;   ", nil},
		{"non-ascii kept", "é:ſ", []string{"é", "ſ"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := collect(tc.list); !slices.Equal(got, tc.want) {
				t.Errorf("items(%q) = %q, want %q", tc.list, got, tc.want)
			}
		})
	}
}

func TestEqualFoldASCII(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"PaSS", "pass", true},
		{"", "", true},
		{"pass", "pas", false},
		{"paſſ", "pass", false}, // no Unicode folding, as in Exim
		{"[", "{", false},
		{"@", "`", false},
	}
	for _, tc := range tests {
		if got := equalFoldASCII(tc.a, tc.b); got != tc.want {
			t.Errorf("equalFoldASCII(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestToLowerASCII(t *testing.T) {
	for in, want := range map[string]string{"PaSS": "pass", "fail": "fail", "éA": "éa", "": ""} {
		if got := toLowerASCII(in); got != want {
			t.Errorf("toLowerASCII(%q) = %q, want %q", in, got, want)
		}
	}
}
