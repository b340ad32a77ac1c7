package condlist

import "strings"

// defaultSep is Exim's default list separator.
const defaultSep = ':'

// items iterates over the items of an Exim list in place, without
// splitting it. It implements Exim's generic list syntax:
//
//   - the separator is a colon unless the list starts with "<" followed by
//     an ASCII punctuation or control character, which then becomes the
//     separator ("<;", "<,", "<\n");
//   - a doubled separator ("::", or ";;" after "<;") stands for one literal
//     separator character inside an item;
//   - leading and trailing white space of each item is removed.
//
// Exim returns empty items from the middle of a list (only a trailing empty
// item is dropped); the condition lists of this package skip every empty
// item, since no empty item can name a result.
//
// Leading white space before the "<" is skipped (Exim only recognises "<" in
// the very first byte; a list whose first item starts with "<" could never
// be valid here anyway, so being lenient only turns an error into the
// obvious meaning).
type items struct {
	rest string
	sep  byte
}

// newItems starts iterating over list, consuming a "<x" separator change.
func newItems(list string) items {
	i := skipSpace(list, 0)
	list = list[i:]
	if len(list) > 0 && list[0] == '<' {
		if len(list) == 1 {
			// Exim reads the terminating NUL as the new separator, leaving
			// nothing: "<" alone is an empty list.
			return items{sep: 0}
		}
		if isPunct(list[1]) || isCntrl(list[1]) {
			return items{rest: list[2:], sep: list[1]}
		}
	}
	return items{rest: list, sep: defaultSep}
}

// next returns the next non-empty item, with doubled separators collapsed
// and surrounding white space removed. ok is false at the end of the list.
// The returned item is a substring of the list (no allocation) unless it
// contained a doubled separator.
func (it *items) next() (item string, ok bool) {
	for it.rest != "" {
		s := it.rest
		start := skipSpaceNotSep(s, 0, it.sep)
		end := len(s)   // end of the raw item
		after := len(s) // where the next item starts
		escaped := false
		for j := start; j < len(s); j++ {
			if s[j] != it.sep {
				continue
			}
			if j+1 < len(s) && s[j+1] == it.sep {
				escaped = true
				j++ // skip the second half of the pair
				continue
			}
			end, after = j, j+1
			break
		}
		it.rest = s[after:]
		raw := trimRightSpace(s[start:end])
		if raw == "" {
			continue
		}
		if escaped {
			raw = unescape(raw, it.sep)
		}
		return raw, true
	}
	return "", false
}

// unescape collapses each doubled sep in raw into a single one.
func unescape(raw string, sep byte) string {
	var b strings.Builder
	b.Grow(len(raw))
	for j := 0; j < len(raw); j++ {
		b.WriteByte(raw[j])
		if raw[j] == sep && j+1 < len(raw) && raw[j+1] == sep {
			j++
		}
	}
	return b.String()
}

// isSpace reports whether c is white space in the C locale (isspace).
func isSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// isPunct reports whether c is punctuation in the C locale (ispunct):
// printable ASCII that is neither a letter, a digit nor a space.
func isPunct(c byte) bool {
	return c > ' ' && c < 0x7f &&
		(c < '0' || c > '9') && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z')
}

// isCntrl reports whether c is a control character in the C locale.
func isCntrl(c byte) bool {
	return c < ' ' || c == 0x7f
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// skipSpaceNotSep skips white space but stops at the separator, which may
// itself be a white-space character (e.g. "<\n").
func skipSpaceNotSep(s string, i int, sep byte) int {
	for i < len(s) && isSpace(s[i]) && s[i] != sep {
		i++
	}
	return i
}

func trimRightSpace(s string) string {
	i := len(s)
	for i > 0 && isSpace(s[i-1]) {
		i--
	}
	return s[:i]
}

// hasUpper reports whether s contains an ASCII upper-case letter.
func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

// toLowerASCII lower-cases ASCII letters only, as Exim's caseless string
// compare does; it allocates only when s has an upper-case letter.
func toLowerASCII(s string) string {
	if !hasUpper(s) {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// equalFoldASCII compares a and b ignoring ASCII case only (Exim's
// strcmpic). strings.EqualFold would also fold non-ASCII letters such as
// "ſ" (U+017F) to "s", which Exim does not do.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
