package condlist_test

import (
	"errors"
	"fmt"

	"github.com/mailpolicy/mailpolicy/internal/condlist"
)

// spfCanon knows the words of Exim's "spf" condition and the deprecated
// aliases err_perm and err_temp.
func spfCanon(word string) (string, bool) {
	switch word {
	case "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror", "invalid":
		return word, true
	case "err_perm":
		return "permerror", true
	case "err_temp":
		return "temperror", true
	}
	return "", false
}

func ExampleMatch() {
	// "spf = fail : !neutral" with Exim ≤ 4.99 semantics: the items are
	// OR-ed, so this is true for fail and for anything but neutral.
	for _, result := range []string{"fail", "pass", "neutral"} {
		ok, err := condlist.Match(result, "fail : !neutral", spfCanon)
		fmt.Println(result, ok, err)
	}

	// A misspelt word is an error, even after an item has matched.
	_, err := condlist.Match("fail", "fail : sofftail", spfCanon)
	var unknown *condlist.ErrUnknownWord
	fmt.Println(errors.As(err, &unknown), unknown.Word)
	// Output:
	// fail true <nil>
	// pass true <nil>
	// neutral false <nil>
	// true sofftail
}

func ExampleMatchList() {
	// "spf = !pass : !none" with Exim 4.100 semantics: neither pass nor
	// none. (With the legacy semantics it would always be true.)
	for _, result := range []string{"pass", "none", "fail", "invalid"} {
		ok, _ := condlist.MatchList(result, "!pass : !none", spfCanon)
		legacy, _ := condlist.Match(result, "!pass : !none", spfCanon)
		fmt.Println(result, ok, legacy)
	}
	// Output:
	// pass false true
	// none false true
	// fail true true
	// invalid true true
}

func ExampleSemantics_Match() {
	// The semantics is usually a configuration setting.
	for _, sem := range []condlist.Semantics{condlist.Legacy, condlist.Exim4100} {
		star, err := sem.Match("invalid", "*", spfCanon)
		fmt.Printf("%v: * -> %v (%v)\n", sem, star, err)
		upper, err := sem.Match("softfail", "<; FAIL; SOFTFAIL", spfCanon)
		fmt.Printf("%v: upper case -> %v (%v)\n", sem, upper, err)
	}
	// Output:
	// legacy: * -> false (condlist: unknown result word "*")
	// legacy: upper case -> false (condlist: unknown result word "FAIL")
	// exim4100: * -> true (<nil>)
	// exim4100: upper case -> true (<nil>)
}
