// Package condlist matches a result word against an Exim condition list,
// the argument of ACL conditions such as
//
//	spf          = fail : softfail : !neutral
//	spf_guess    = pass
//	dmarc_status = accept : none
//
// The engine (spf, dmarc) computes a result word and asks this package
// whether the word satisfies the list the administrator wrote.
//
// # List syntax
//
// Both semantics read the list with Exim's generic list syntax: items are
// separated by colons; a list starting with "<x", where x is a punctuation
// character, uses x instead ("<; fail; softfail"); a doubled separator is a
// literal separator character inside an item ("::" for a colon); white
// space around items is removed and empty items are skipped. A leading "!"
// negates an item.
//
// # Two semantics
//
// Exim changed the meaning of the "spf" condition's list in 4.100 (commit
// b8d16e2a4, "SPF: support * in ACL condition"), so both are provided and
// the caller picks one with Semantics:
//
//   - Legacy (Exim ≤ 4.99, Match): the items are OR-ed. Each item is
//     compared exactly (case-sensitively) with the result; the list is true
//     at the first plain item equal to the result or the first negated item
//     different from it, false at the end. "!pass : !fail" is therefore
//     always true. No wildcards, regular expressions or lookups.
//   - Exim4100 (Exim 4.100, MatchList): the result is looked up in the list
//     as in any caseless Exim string list (match_isinlist). Items may be
//     literal words (caseless), "*" or "*suffix" wildcards, or "^regex"
//     regular expressions. A matching "!item" makes the list false, a
//     matching plain item makes it true; if nothing matches, the list is
//     true only when its last item was negated. "!pass : !none" now means
//     "neither pass nor none", and "*" matches every result, even
//     "invalid". "dmarc_status" has always used these rules.
//
// For lists of plain, non-negated, correctly spelt words the two agree.
//
// # Differences from Exim
//
// Exim silently treats an unknown word as one that never matches. Here the
// whole list is checked before an answer is given, and a word the caller's
// Canon does not know is an *ErrUnknownWord error, even when an earlier item
// already decided the outcome: a typo such as "spf = fail : sofftail" is
// reported instead of quietly changing what the condition means. Canon also
// lets a caller accept aliases (spf's deprecated "err_perm" and "err_temp").
//
// Lookups ("lsearch;/file") and file items ("/path") of Exim string lists
// are not implemented and give an *ErrUnsupported error; a "!" with nothing
// after it and an invalid regular expression give an *ErrSyntax error.
// Regular expressions use Go's regexp (RE2) syntax instead of PCRE.
//
// Match and MatchList keep no state and are safe for concurrent use. They
// walk the list in place and, for the lists met in practice, do not
// allocate.
package condlist
