package condlist

import (
	"errors"
	"reflect"
	"regexp/syntax"
	"testing"
)

// matchCase is one row of the Match / MatchList tables. want maps result
// words to the expected answer; err, if set, is the expected error (then
// every result in want must give that error and false).
type matchCase struct {
	name string
	list string
	want map[string]bool
	err  error
}

// allTrue / allFalse map every spf word to one answer.
func all(v bool) map[string]bool {
	m := make(map[string]bool, len(spfWords))
	for _, w := range spfWords {
		m[w] = v
	}
	return m
}

// only maps the listed words to true and every other spf word to false.
func only(words ...string) map[string]bool {
	m := all(false)
	for _, w := range words {
		m[w] = true
	}
	return m
}

// except maps the listed words to false and every other spf word to true.
func except(words ...string) map[string]bool {
	m := all(true)
	for _, w := range words {
		m[w] = false
	}
	return m
}

// checkErr compares got with want by dynamic type and fields; for ErrSyntax
// only Item and Reason are compared (Err is the regexp package's error).
func checkErr(t *testing.T, got, want error) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Fatalf("unexpected error: %v", got)
		}
		return
	}
	if got == nil {
		t.Fatalf("got no error, want %v", want)
	}
	if reflect.TypeOf(got) != reflect.TypeOf(want) {
		t.Fatalf("error %v is a %T, want %T (%v)", got, got, want, want)
	}
	if ws, ok := want.(*ErrSyntax); ok {
		gs := got.(*ErrSyntax)
		if gs.Item != ws.Item || gs.Reason != ws.Reason {
			t.Fatalf("error = %#v, want Item %q Reason %q", gs, ws.Item, ws.Reason)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("error = %#v, want %#v", got, want)
	}
}

func runCases(t *testing.T, match func(result, list string, canon Canon) (bool, error), cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want == nil {
				want = all(false)
			}
			for result, w := range want {
				got, err := match(result, tc.list, spfCanon)
				checkErr(t, err, tc.err)
				if tc.err != nil {
					w = false
				}
				if got != w {
					t.Errorf("result %q in %q = %v, want %v", result, tc.list, got, w)
				}
			}
		})
	}
}

var (
	bareBang = &ErrSyntax{Item: "!", Reason: "negation without an item"}
	badRegex = &ErrSyntax{Item: "^(", Reason: "invalid regular expression"}
)

func unknown(w string) error      { return &ErrUnknownWord{Word: w} }
func unsupported(it string) error { return &ErrUnsupported{Item: it} }

func TestMatchLegacy(t *testing.T) {
	runCases(t, Match, []matchCase{
		{name: "single word", list: "fail", want: only("fail")},
		{name: "or of words", list: "fail : softfail", want: only("fail", "softfail")},
		{name: "invalid word", list: "invalid", want: only("invalid")},
		{name: "negated", list: "!fail", want: except("fail")},
		{name: "doc fail or not neutral", list: "fail : !neutral", want: except("neutral")},
		{name: "doc !pass : !fail always true", list: "!pass : !fail", want: all(true)},
		{name: "!pass : !none always true", list: "!pass : !none", want: all(true)},
		{name: "first match wins", list: "!fail : fail", want: all(true)},
		{name: "empty list", list: "", want: all(false)},
		{name: "blank list", list: " \t ", want: all(false)},
		{name: "only separators", list: " : : ", want: all(false)},
		{name: "separator only", list: "<;", want: all(false)},
		{name: "changed separator", list: "<; fail;softfail", want: only("fail", "softfail")},
		{name: "changed separator with spaces", list: "<;  fail ; !pass", want: except("pass")},
		{name: "comma separator", list: "<, pass,neutral", want: only("pass", "neutral")},
		{name: "colon is plain after <;", list: "<; fail:softfail", err: unknown("fail:softfail")},
		{name: "whitespace", list: "  fail\t:\n softfail  :  ", want: only("fail", "softfail")},
		{name: "empty items skipped", list: "fail : : : pass", want: only("fail", "pass")},
		{name: "doubled colon is literal", list: "pass : fail :: softfail", err: unknown("fail : softfail")},
		{name: "alias err_perm", list: "err_perm", want: only("permerror")},
		{name: "alias err_temp negated", list: "!err_temp", want: except("temperror")},
		{name: "case-sensitive", list: "FAIL", err: unknown("FAIL")},
		{name: "unknown word", list: "sofftail", err: unknown("sofftail")},
		{name: "unknown word after a match", list: "fail : sofftail", err: unknown("sofftail")},
		{name: "unknown negated word", list: "!pass : !nuetral", err: unknown("nuetral")},
		{name: "first unknown word reported", list: "x1 : x2", err: unknown("x1")},
		{name: "space after bang is part of word", list: "! fail", err: unknown(" fail")},
		{name: "double bang", list: "!!fail", err: unknown("!fail")},
		{name: "bare bang", list: "!", err: bareBang},
		{name: "bare bang after a match", list: "fail : !", err: bareBang},
		{name: "bare bang with spaces", list: "fail : ! : pass", err: bareBang},
		{name: "no wildcard", list: "*", err: unknown("*")},
		{name: "no regex", list: "^fail", err: unknown("^fail")},
		{name: "no lookup", list: "<; lsearch;;/etc/x", err: unknown("lsearch;/etc/x")},
		{name: "no file", list: "/etc/x", err: unknown("/etc/x")},
		{name: "no named list", list: "+fails", err: unknown("+fails")},
	})
}

func TestMatchList4100(t *testing.T) {
	runCases(t, MatchList, []matchCase{
		{name: "single word", list: "fail", want: only("fail")},
		{name: "or of words", list: "fail : softfail", want: only("fail", "softfail")},
		{name: "invalid word", list: "invalid", want: only("invalid")},
		{name: "negated last", list: "!fail", want: except("fail")},
		{name: "doc fail or not neutral", list: "fail : !neutral", want: except("neutral")},
		{name: "doc !pass : !none", list: "!pass : !none", want: except("pass", "none")},
		{name: "!pass : !fail", list: "!pass : !fail", want: except("pass", "fail")},
		{name: "negation then plain", list: "!fail : pass", want: only("pass")},
		{name: "negated match is false immediately", list: "!fail : fail", want: all(false)},
		{name: "doc star matches everything", list: "*", want: all(true)},
		{name: "negated star", list: "!*", want: all(false)},
		{name: "star after negation", list: "!fail : !softfail : *", want: except("fail", "softfail")},
		{name: "suffix wildcard", list: "*fail", want: only("fail", "softfail")},
		{name: "suffix wildcard caseless", list: "*ERROR", want: only("temperror", "permerror")},
		{name: "suffix longer than result", list: "*xsoftfail", want: all(false)},
		{name: "regex", list: "^(soft)?fail$", want: only("fail", "softfail")},
		{name: "regex anchored at start only", list: "^fail", want: only("fail")},
		{name: "regex prefix", list: "^perm", want: only("permerror")},
		{name: "regex caseless", list: "^PASS$", want: only("pass")},
		{name: "regex with escaped colon", list: "^x::y|^none$", want: only("none")},
		{name: "negated regex", list: "!^.*error$", want: except("temperror", "permerror")},
		{name: "invalid regex", list: "^(", err: badRegex},
		{name: "invalid regex after a match", list: "fail : ^(", err: badRegex},
		{name: "empty list", list: "", want: all(false)},
		{name: "blank list", list: "  ", want: all(false)},
		{name: "separator only", list: "<;", want: all(false)},
		{name: "changed separator", list: "<; fail;softfail", want: only("fail", "softfail")},
		{name: "whitespace", list: " \tfail :\n softfail ", want: only("fail", "softfail")},
		{name: "empty items skipped for last-negated rule", list: "!pass : : ", want: except("pass")},
		{name: "doubled colon is literal", list: "pass : fail :: softfail", err: unknown("fail : softfail")},
		{name: "caseless literal", list: "FAIL : SoftFail", want: only("fail", "softfail")},
		{name: "alias err_perm", list: "err_perm", want: only("permerror")},
		{name: "alias caseless", list: "ERR_TEMP", want: only("temperror")},
		{name: "space after bang skipped", list: "! fail", want: except("fail")},
		{name: "unknown word", list: "sofftail", err: unknown("sofftail")},
		{name: "unknown word keeps case", list: "SoftFial", err: unknown("SoftFial")},
		{name: "unknown word after a match", list: "fail : sofftail", err: unknown("sofftail")},
		{name: "unknown word after star", list: "* : sofftail", err: unknown("sofftail")},
		{name: "double bang", list: "!!fail", err: unknown("!fail")},
		{name: "named lists unavailable", list: "+fails", err: unknown("+fails")},
		{name: "bare bang", list: "!", err: bareBang},
		{name: "bare bang with spaces", list: "fail : !   : pass", err: bareBang},
		{name: "lookup", list: "lsearch;/etc/spf", err: unsupported("lsearch;/etc/spf")},
		{name: "lookup after a match", list: "fail : partial-lsearch;/x", err: unsupported("partial-lsearch;/x")},
		{name: "lookup with changed separator", list: "<; fail ; cdb;;/x", err: unsupported("cdb;/x")},
		{name: "negated lookup", list: "!lsearch;/x", err: unsupported("lsearch;/x")},
		{name: "file", list: "/etc/spf-results", err: unsupported("/etc/spf-results")},
		{name: "negated file", list: "! /etc/x", err: unsupported("/etc/x")},
		{name: "wildcard with semicolon is not a lookup", list: "*;x", want: all(false)},
	})
}

// TestCaseSensitivity shows the one difference in how words are compared.
func TestCaseSensitivity(t *testing.T) {
	// With a validating canon: Legacy rejects "Fail", 4.100 accepts it.
	_, err := Match("fail", "Fail", spfCanon)
	checkErr(t, err, unknown("Fail"))
	got, err := MatchList("fail", "Fail", spfCanon)
	if err != nil || !got {
		t.Errorf("MatchList(fail, Fail) = %v, %v; want true", got, err)
	}
	// Without validation: Legacy compares exactly, 4.100 ignores ASCII case.
	if got, err := Match("fail", "Fail", nil); err != nil || got {
		t.Errorf("Match(fail, Fail, nil) = %v, %v; want false", got, err)
	}
	if got, err := MatchList("fail", "Fail", nil); err != nil || !got {
		t.Errorf("MatchList(fail, Fail, nil) = %v, %v; want true", got, err)
	}
	// 4.100 folds ASCII only: "ſ" (long s) is not "s".
	if got, err := MatchList("pass", "paſſ", nil); err != nil || got {
		t.Errorf("MatchList(pass, paſſ, nil) = %v, %v; want false", got, err)
	}
}

func TestNilCanon(t *testing.T) {
	tests := []struct {
		sem    Semantics
		result string
		list   string
		want   bool
	}{
		{Legacy, "a:b", "x : a::b", true},
		{Legacy, "anything", "!else", true},
		{Legacy, "accept", "accept : none", true},
		{Exim4100, "a:b", "x : a::b", true},
		{Exim4100, "accept", "ACCEPT : none", true},
		{Exim4100, "off", "!off", false},
		{Exim4100, "reject", "accept : none", false},
	}
	for _, tc := range tests {
		got, err := tc.sem.Match(tc.result, tc.list, nil)
		if err != nil || got != tc.want {
			t.Errorf("%v.Match(%q, %q, nil) = %v, %v; want %v", tc.sem, tc.result, tc.list, got, err, tc.want)
		}
	}
}

func TestSemantics(t *testing.T) {
	var zero Semantics
	if zero != Legacy {
		t.Fatalf("zero Semantics is %v, want Legacy", zero)
	}
	for _, list := range []string{"fail", "!pass : !none", "fail : !neutral", "", "FAIL", "*", "fail : sofftail", "!"} {
		for _, result := range spfWords {
			lg, lerr := Legacy.Match(result, list, spfCanon)
			wg, werr := Match(result, list, spfCanon)
			if lg != wg || !reflect.DeepEqual(lerr, werr) {
				t.Errorf("Legacy.Match(%q, %q) = %v, %v; Match = %v, %v", result, list, lg, lerr, wg, werr)
			}
			ng, nerr := Exim4100.Match(result, list, spfCanon)
			mg, merr := MatchList(result, list, spfCanon)
			if ng != mg || !reflect.DeepEqual(nerr, merr) {
				t.Errorf("Exim4100.Match(%q, %q) = %v, %v; MatchList = %v, %v", result, list, ng, nerr, mg, merr)
			}
		}
	}
	got, err := Semantics(7).Match("fail", "fail", spfCanon)
	checkErr(t, err, &ErrSemantics{Semantics: 7})
	if got {
		t.Error("unknown semantics matched")
	}
	for s, want := range map[Semantics]string{Legacy: "legacy", Exim4100: "exim4100", 7: "Semantics(7)"} {
		if s.String() != want {
			t.Errorf("Semantics(%d).String() = %q, want %q", int(s), s.String(), want)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{unknown("sofftail"), `condlist: unknown result word "sofftail"`},
		{unknown(" fail"), `condlist: unknown result word " fail"`},
		{unsupported("lsearch;/x"), `condlist: unsupported lookup item "lsearch;/x" in condition list`},
		{unsupported("/etc/x"), `condlist: unsupported file item "/etc/x" in condition list`},
		{bareBang, `condlist: negation without an item "!"`},
		{&ErrSemantics{Semantics: 9}, `condlist: unknown list semantics 9`},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}

	_, err := MatchList("fail", "fail : ^(", spfCanon)
	var se *ErrSyntax
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not an *ErrSyntax", err)
	}
	var re *syntax.Error
	if !errors.As(err, &re) {
		t.Fatalf("error %v does not wrap a *syntax.Error", err)
	}
	if want := "condlist: invalid regular expression \"^(\": " + re.Error(); err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}

	_, err = Match("fail", "fail : sofftail", spfCanon)
	var uw *ErrUnknownWord
	if !errors.As(err, &uw) || uw.Word != "sofftail" {
		t.Errorf("error %v does not name the word sofftail", err)
	}
}

func TestNoAllocs(t *testing.T) {
	lists := []string{
		"fail : softfail : !neutral : pass",
		"<; fail ; softfail",
		"!pass : !none",
		"*fail : * : err_perm",
	}
	for _, list := range lists {
		for _, sem := range []Semantics{Legacy, Exim4100} {
			if sem == Legacy && list[0] == '*' {
				continue
			}
			allocs := testing.AllocsPerRun(100, func() {
				if _, err := sem.Match("neutral", list, spfCanon); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%v.Match(%q) allocates %v times", sem, list, allocs)
			}
		}
	}
}
