package condlist

import (
	"regexp"
	"strconv"
	"strings"
)

// Canon maps a list word to the canonical result word it names; ok=false if
// the word is unknown. It lets callers accept aliases, e.g. spf's deprecated
// "err_perm" for "permerror".
//
// Canon should be exact (case-sensitive): Match passes the word as written,
// and its case-sensitivity is that of canon. MatchList passes the word
// ASCII-lower-cased, so canon only needs to know lower-case spellings.
//
// A nil Canon accepts every word unchanged (no validation).
type Canon func(word string) (canonical string, ok bool)

func (c Canon) lookup(word string) (string, bool) {
	if c == nil {
		return word, true
	}
	return c(word)
}

// Semantics selects how a condition list is evaluated.
type Semantics int

const (
	// Legacy is the Exim ≤ 4.99 "spf =" semantics (see Match). It is the
	// zero value.
	Legacy Semantics = iota
	// Exim4100 is the Exim 4.100 string-list semantics (see MatchList),
	// also what "dmarc_status =" has always used.
	Exim4100
)

// String returns "legacy" or "exim4100".
func (s Semantics) String() string {
	switch s {
	case Legacy:
		return "legacy"
	case Exim4100:
		return "exim4100"
	}
	return "Semantics(" + strconv.Itoa(int(s)) + ")"
}

// Match evaluates list against result with semantics s: Match for Legacy,
// MatchList for Exim4100. Any other value is an *ErrSemantics error.
func (s Semantics) Match(result, list string, canon Canon) (bool, error) {
	switch s {
	case Legacy:
		return Match(result, list, canon)
	case Exim4100:
		return MatchList(result, list, canon)
	}
	return false, &ErrSemantics{Semantics: s}
}

// Match reports whether result satisfies the condition list with Exim ≤ 4.99
// semantics (the "spf =" and "spf_guess =" conditions before Exim 4.100).
//
// result is the canonical result word (e.g. "fail"). list is an Exim list:
// colon-separated unless it starts with "<x" (x a punctuation character
// becomes the separator), "::" (the doubled separator) is a literal
// separator inside an item, items are trimmed of white space, and empty
// items are skipped. One leading "!" negates an item; white space after the
// "!" is part of the word (so "! fail" is an unknown word " fail", not a
// negated "fail"). Each word is mapped by canon and compared exactly with
// result.
//
// The items are OR-ed: the list is true at the first item that matches,
// where a plain item matches when it names result and a negated item
// matches when it does not. "fail : !neutral" is true for fail and for
// everything except neutral; "!pass : !fail" is always true. An empty list
// is false. There are no wildcards, regular expressions or lookups.
//
// Unlike Exim, the whole list is checked before the answer is returned: an
// unknown word is an *ErrUnknownWord error and a "!" with nothing after it is
// an *ErrSyntax error, even when an earlier item already matched, so a typo
// is never silently ignored. On error the boolean is false.
//
// Match does not allocate unless the list has a doubled separator or is
// invalid.
func Match(result string, list string, canon Canon) (bool, error) {
	it := newItems(list)
	matched := false
	for {
		item, ok := it.next()
		if !ok {
			return matched, nil
		}
		word, negate := item, false
		if word[0] == '!' {
			word, negate = word[1:], true
			if word == "" {
				return false, &ErrSyntax{Item: item, Reason: "negation without an item"}
			}
		}
		canonical, known := canon.lookup(word)
		if !known {
			return false, &ErrUnknownWord{Word: word}
		}
		if (canonical == result) != negate {
			matched = true
		}
	}
}

// MatchList reports whether result is in the condition list with Exim 4.100
// semantics: the list is an ordinary caseless Exim string list
// (match_isinlist), as used by "spf =" from Exim 4.100 on and by
// "dmarc_status =" in every version.
//
// The list syntax is as for Match. After an optional leading "!" (and any
// white space after it) an item is one of:
//
//   - "*" or "*suffix": a wildcard matching every result ending in suffix
//     (caseless); "*" alone matches everything, including "invalid";
//   - "^regex": a regular expression (Go regexp syntax, compiled
//     case-insensitively; the "^" is part of it, so it is anchored at the
//     start only, as in Exim);
//   - a literal word, mapped by canon (which is given the word lower-cased)
//     and compared with result ignoring ASCII case.
//
// Walking left to right, a matching negated item makes the list false and a
// matching plain item makes it true, immediately. At the end of the list the
// answer is true if the last item was negated, false otherwise; so
// "!pass : !none" means "neither pass nor none", and an empty list is false.
//
// As with Match, the whole list is checked first: an unknown literal word is
// an *ErrUnknownWord error, a lookup item (one containing ";", such as
// "lsearch;/file") or a file item (starting with "/") is an *ErrUnsupported
// error, and a bare "!" or an invalid regular expression is an *ErrSyntax
// error. Named lists ("+name") are not available in Exim's condition
// context, so "+fail" is just an unknown literal word.
//
// MatchList does not allocate for lists of literal words and wildcards
// written in lower case; each "^" item is compiled on every call.
func MatchList(result string, list string, canon Canon) (bool, error) {
	it := newItems(list)
	decided, answer, lastNegated := false, false, false
	for {
		item, ok := it.next()
		if !ok {
			if decided {
				return answer, nil
			}
			return lastNegated, nil
		}
		word, negate := item, false
		if word[0] == '!' {
			word, negate = word[skipSpace(word, 1):], true
			if word == "" {
				return false, &ErrSyntax{Item: item, Reason: "negation without an item"}
			}
		}
		lastNegated = negate
		m, err := matchItem(result, word, canon)
		if err != nil {
			return false, err
		}
		if m && !decided {
			decided, answer = true, !negate
		}
	}
}

// matchItem matches one non-negated, non-empty Exim 4.100 string-list item,
// in Exim's order: file, wildcard, regular expression, lookup, literal.
func matchItem(result, word string, canon Canon) (bool, error) {
	switch word[0] {
	case '/':
		return false, &ErrUnsupported{Item: word}
	case '*':
		suffix := word[1:]
		return len(result) >= len(suffix) &&
			equalFoldASCII(result[len(result)-len(suffix):], suffix), nil
	case '^':
		re, err := regexp.Compile("(?i)" + word)
		if err != nil {
			return false, &ErrSyntax{Item: word, Reason: "invalid regular expression", Err: err}
		}
		return re.MatchString(result), nil
	}
	if strings.IndexByte(word, ';') >= 0 {
		return false, &ErrUnsupported{Item: word}
	}
	canonical, known := canon.lookup(toLowerASCII(word))
	if !known {
		return false, &ErrUnknownWord{Word: word}
	}
	return equalFoldASCII(canonical, result), nil
}
