package condlist

import (
	"errors"
	"strings"
	"testing"
)

// FuzzMatch feeds random lists and results to both semantics. Neither may
// panic, every error must be one of the package's types, and on lists made
// only of plain, non-negated, known words the two semantics must agree (and
// be true exactly when a word names the result).
func FuzzMatch(f *testing.F) {
	seeds := [][2]string{
		{"fail", "fail : !neutral"},
		{"pass", "!pass : !fail"},
		{"none", "!pass : !none"},
		{"invalid", "*"},
		{"softfail", "<; fail;softfail"},
		{"fail", "a::b : fail"},
		{"permerror", "err_perm : ^x(y"},
		{"temperror", "  temperror\t:\n"},
		{"FAIL", "Fail : *ail : ^f"},
		{"x", "lsearch;/x : /etc/y : !"},
		{"fail", "<"},
		{"fail", "<\n fail \n\n pass"},
		{"ſ", "S : *s"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, result, list string) {
		lg, lerr := Match(result, list, spfCanon)
		ng, nerr := MatchList(result, list, spfCanon)
		checkKnownError(t, lerr)
		checkKnownError(t, nerr)
		if lerr != nil && lg || nerr != nil && ng {
			t.Fatalf("true together with an error: %v %v", lerr, nerr)
		}
		// nil canon must not panic either.
		_, err := Match(result, list, nil)
		checkKnownError(t, err)
		_, err = MatchList(result, list, nil)
		checkKnownError(t, err)

		// The random list, if it happens to be plain known words.
		if plainKnown(list) && !hasUpper(result) {
			if lerr != nil || nerr != nil {
				t.Fatalf("plain list %q: errors %v, %v", list, lerr, nerr)
			}
			if lg != ng {
				t.Fatalf("plain list %q, result %q: legacy %v, 4.100 %v", list, result, lg, ng)
			}
		}

		// A plain list built from the fuzz input, so agreement is always
		// exercised: each byte of list picks a word, a separator style and
		// some white space.
		built, sep, want := buildPlain(result, list)
		for _, r := range []string{result, canonResult(result)} {
			want := want
			if r != result {
				want = containsWord(built, sep, r)
			}
			lg, lerr := Match(r, built, spfCanon)
			ng, nerr := MatchList(r, built, spfCanon)
			if lerr != nil || nerr != nil {
				t.Fatalf("built list %q: errors %v, %v", built, lerr, nerr)
			}
			if !hasUpper(r) && (lg != want || ng != want) {
				t.Fatalf("built list %q, result %q: legacy %v, 4.100 %v, want %v", built, r, lg, ng, want)
			}
		}
	})
}

func checkKnownError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var (
		uw *ErrUnknownWord
		us *ErrUnsupported
		sy *ErrSyntax
	)
	if !errors.As(err, &uw) && !errors.As(err, &us) && !errors.As(err, &sy) {
		t.Fatalf("unexpected error type %T: %v", err, err)
	}
	_ = err.Error()
}

// plainKnown reports whether every item of list is a non-negated word that
// spfCanon knows exactly.
func plainKnown(list string) bool {
	it := newItems(list)
	for {
		item, ok := it.next()
		if !ok {
			return true
		}
		if _, known := spfCanon(item); !known {
			return false
		}
	}
}

// canonResult maps an arbitrary string to an spf word.
func canonResult(s string) string {
	return spfWords[len(s)%len(spfWords)]
}

var aliases = map[string]string{"err_perm": "permerror", "err_temp": "temperror"}

// buildPlain derives a list of known, non-negated words from seed, and
// reports its separator and whether it names result.
func buildPlain(result, seed string) (list string, sep byte, want bool) {
	words := append(append([]string{}, spfWords...), "err_perm", "err_temp")
	spaces := []string{"", " ", "  ", "\t", "\n", " \r\n"}
	seps := []byte{':', ';', ',', '|', '!', '^', '*', '/'}
	sep = ':'
	var b strings.Builder
	if len(seed) > 0 && seed[0]&1 == 1 {
		sep = seps[int(seed[0]>>1)%len(seps)]
		b.WriteByte('<')
		b.WriteByte(sep)
	}
	for i := 0; i < len(seed); i++ {
		c := int(seed[i])
		w := words[c%len(words)]
		if i > 0 || c&0x40 != 0 {
			b.WriteString(spaces[c%len(spaces)])
			b.WriteByte(sep)
			if c&0x80 != 0 {
				b.WriteString(" " + spaces[(c>>2)%len(spaces)])
				b.WriteByte(sep) // an empty item (never a doubled separator)
			}
		}
		b.WriteString(spaces[(c>>3)%len(spaces)])
		b.WriteString(w)
		b.WriteString(spaces[(c>>1)%len(spaces)])
	}
	list = b.String()
	return list, sep, containsWord(list, sep, result)
}

// containsWord reports whether a list built by buildPlain names result,
// splitting it the naive way (it never has doubled separators between
// words, only separators with white space or nothing between them).
func containsWord(list string, sep byte, result string) bool {
	if len(list) >= 2 && list[0] == '<' && list[1] == sep {
		list = list[2:]
	}
	for _, w := range strings.Split(list, string(sep)) {
		w = strings.TrimSpace(w)
		if c, ok := aliases[w]; ok {
			w = c
		}
		if w != "" && w == result {
			return true
		}
	}
	return false
}
