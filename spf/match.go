package spf

import "github.com/mailpolicy/mailpolicy/internal/condlist"

// canonWord accepts the condition words of Exim's "spf =" condition and
// the deprecated aliases err_perm and err_temp (Exim 4.83–4.90).
func canonWord(w string) (string, bool) {
	switch w {
	case "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror", "invalid":
		return w, true
	case "err_perm":
		return "permerror", true
	case "err_temp":
		return "temperror", true
	}
	return "", false
}

// Match evaluates an Exim "spf = <list>" condition against r with the
// semantics of Exim up to 4.99, which this project's seed documentation
// describes: colon-separated words, "!" negates one word, true at the
// first word that matches (a negated word matches when the result
// differs), false at the end of the list. So "!pass : !fail" is always
// true. Words are compared exactly; Invalid matches the word "invalid".
//
// A word that is not a result word is an error naming it, so that a typo
// never silently makes the condition false.
func Match(r Result, list string) (bool, error) {
	return condlist.Match(r.ConditionName(), list, canonWord)
}

// MatchList evaluates the list with Exim 4.100 semantics (an ordinary
// caseless Exim string list): literal words, "*" (anything, including
// invalid), "*suffix" and "^regex" items. A matching "!item" makes the
// condition false at once, a matching plain item true at once; at the
// end it is true only if the last item was negated. So "!pass : !none"
// means "neither pass nor none". Lookup and file items are not supported
// and give an error.
func MatchList(r Result, list string) (bool, error) {
	return condlist.MatchList(r.ConditionName(), list, canonWord)
}
