package condlist

import (
	"fmt"
	"strings"
)

// ErrUnknownWord reports a literal list item that the Canon function does
// not know. Match and MatchList check the whole list before answering, so a
// misspelt word is reported even when an earlier item already decided the
// outcome.
type ErrUnknownWord struct {
	// Word is the item as written in the list, without a leading "!".
	Word string
}

func (e *ErrUnknownWord) Error() string {
	return fmt.Sprintf("condlist: unknown result word %q", e.Word)
}

// ErrUnsupported reports an Exim 4.100 list item of a kind this package does
// not implement: a lookup (an item containing ";", such as
// "lsearch;/etc/results") or a file of items (an item starting with "/").
type ErrUnsupported struct {
	// Item is the item as written in the list, without a leading "!".
	Item string
}

func (e *ErrUnsupported) Error() string {
	kind := "lookup"
	if strings.HasPrefix(e.Item, "/") {
		kind = "file"
	}
	return fmt.Sprintf("condlist: unsupported %s item %q in condition list", kind, e.Item)
}

// ErrSyntax reports a malformed list item: a "!" with nothing after it, or
// (Exim 4.100) a "^" item that is not a valid regular expression, in which
// case Err holds the regexp error.
type ErrSyntax struct {
	// Item is the offending item as written in the list.
	Item string
	// Reason says what is wrong with it.
	Reason string
	// Err is the underlying error, if any (a *regexp/syntax.Error).
	Err error
}

func (e *ErrSyntax) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("condlist: %s %q: %v", e.Reason, e.Item, e.Err)
	}
	return fmt.Sprintf("condlist: %s %q", e.Reason, e.Item)
}

// Unwrap returns the underlying error.
func (e *ErrSyntax) Unwrap() error { return e.Err }

// ErrSemantics reports a Semantics value that is neither Legacy nor
// Exim4100.
type ErrSemantics struct {
	Semantics Semantics
}

func (e *ErrSemantics) Error() string {
	return fmt.Sprintf("condlist: unknown list semantics %d", int(e.Semantics))
}
