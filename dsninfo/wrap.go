package dsninfo

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// Exim's limits for the extra information (§11.3): the transport
// subprocess passes back at most 128 bytes of the greeting and the
// EHLO/HELO reply (first line only) and 1024 bytes of the address's
// message; dsn_put_wrapped folds at 79 columns and caps the field at
// 1023 characters; the Diagnostic-Code line stops after 950.
const (
	maxGreeting   = 128
	maxMessage    = 1024
	wrapCols      = 79
	wrapMaxChars  = 1023
	diagCodeLimit = 950
	diagCodeHead  = "Diagnostic-Code: smtp; "
)

// Limits of what Compose writes. maxLine is RFC 5322 §2.1.1's line
// limit without the CRLF; it wins over Exim's 1024-byte message where
// that would be quoted on one line. maxFieldName keeps "name: " within
// the recommended 78 columns, so wrapHeader never breaks inside a name.
// maxTypeLen bounds address, diagnostic and MTA types and actions so
// that "Name: type;" leaves room for the value.
const (
	maxLine      = 998
	maxFieldName = 76
	maxTypeLen   = 64
	// A text line is broken at white space only past this column;
	// earlier white space would leave most of the line to a hard break.
	minTextBreak = 80
)

// foldLine folds a one-line header field longer than maxLine before
// white space (RFC 5322 §2.2.3: unfolding restores it). ok is false
// when a run without white space does not fit on a line.
func foldLine(s string) (folded string, ok bool) {
	if len(s) <= maxLine {
		return s, true
	}
	// Trailing white space would become a blank continuation line.
	s = strings.TrimRight(s, " \t")
	var b strings.Builder
	for len(s) > maxLine {
		cut := -1
		for i := maxLine; i > 0; i-- {
			if isWSP(s[i]) && !isWSP(s[i-1]) {
				cut = i
				break
			}
		}
		if cut < 0 {
			return "", false
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n")
		s = s[cut:]
	}
	b.WriteString(s)
	return b.String(), true
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

// wrapText returns indent+s as lines of the human-readable text, each
// at most maxLine octets: broken at the last white space past
// minTextBreak, else hard, continuation lines indented alike. Lines
// are joined with LF.
func wrapText(indent, s string) string {
	line := indent + s
	if len(line) <= maxLine {
		return line
	}
	var b strings.Builder
	for len(line) > maxLine {
		cut, skip := maxLine, 0
		for i := maxLine; i > minTextBreak; i-- {
			if isWSP(line[i]) {
				cut, skip = i, 1
				break
			}
		}
		b.WriteString(strings.TrimRight(line[:cut], " \t"))
		b.WriteString("\n")
		line = indent + strings.TrimLeft(line[cut+skip:], " \t")
	}
	b.WriteString(line)
	return b.String()
}

// sanitizeHuman makes the human-readable text safe for a text/plain
// part: LF-separated lines (CRLF and CR become LF), C0 controls but HT,
// DEL, C1 controls and invalid UTF-8 become '?'. Other UTF-8 is kept
// for the quoted-printable encoding.
func sanitizeHuman(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f {
				c = '?'
			}
			b.WriteByte(c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || r < 0xa0 {
			b.WriteByte('?')
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// longestLine returns the length of the longest LF- or CRLF-ended
// line of b, without the line end.
func longestLine(b []byte) int {
	longest := 0
	for len(b) > 0 {
		n := len(b)
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			n = i
		}
		l := n
		if l > 0 && b[l-1] == '\r' {
			l--
		}
		longest = max(longest, l)
		if n == len(b) {
			break
		}
		b = b[n+1:]
	}
	return longest
}

// sanitizeLine makes s safe as (part of) a one-line header value:
// CR and LF become spaces, other control characters (but HT) and every
// byte outside ASCII become '?'. The result has the same length.
func sanitizeLine(s string) string {
	if isSafe(s, false) {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		switch {
		case c == '\r' || c == '\n':
			b[i] = ' '
		case c == '\t':
		case c < 0x20 || c >= 0x7f:
			b[i] = '?'
		}
	}
	return string(b)
}

// sanitizeText is sanitizeLine for a value that may span lines: CRLF,
// CR and LF become one LF (a line break the writer turns into a fold),
// everything else is as for sanitizeLine.
func sanitizeText(s string) string {
	if isSafe(s, true) {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	b := []byte(s)
	for i, c := range b {
		switch {
		case c == '\r':
			b[i] = '\n'
		case c == '\n' || c == '\t':
		case c < 0x20 || c >= 0x7f:
			b[i] = '?'
		}
	}
	return string(b)
}

func isSafe(s string, lf bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\t' || (lf && c == '\n') {
			continue
		}
		if c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// firstLine returns s up to its first CR or LF.
func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// nextBreak returns the index of the first line break in s, either the
// two characters `\n` or a real LF, and its length (0 when none).
func nextBreak(s string) (int, int) {
	lit := strings.Index(s, `\n`)
	nl := strings.IndexByte(s, '\n')
	switch {
	case nl >= 0 && (lit < 0 || nl < lit):
		return nl, 1
	case lit >= 0:
		return lit, 2
	}
	return len(s), 0
}

// wrapHeader folds a header field (name and value, already sanitised)
// as Exim's wrap_header(s, cols, maxchars, " ", 1) does for
// dsn_put_wrapped: `\n` and real newlines start a new line indented by
// one space; a line longer than cols is broken at the last whitespace
// after column 10 (the whitespace run is dropped), or hard-broken at
// cols when there is none; when the text written so far reaches
// maxchars (0: no limit) and more would follow, it is cut there. The
// result has "\n " folds and no final newline.
//
// Differences from Exim, so that the result is always one well-formed
// field: the earlier of `\n` and a real newline breaks the line (Exim
// looks for a real newline only when the first backslash is not
// followed by n), empty and blank lines are dropped, and trailing
// whitespace left by the cut is removed.
func wrapHeader(s string, cols, maxchars int) string {
	var g strings.Builder
	llen := 0 // columns used on the current line
	for s != "" {
		t, tail := nextBreak(s)
		if tail > 0 && llen > 0 && strings.TrimLeft(s[:t], " \t") == "" {
			// An empty or blank line: skip it, stay on the fresh line.
			s = s[tail:]
			continue
		}
		if llen+t > cols {
			broke := false
			for u := cols - llen; u > 10; u-- {
				if !isSpace(s[u]) {
					continue
				}
				end := u
				for end > 1 && isSpace(s[end-1]) {
					end--
				}
				g.WriteString(s[:end])
				s = s[u+1:]
				for s != "" && (s[0] == ' ' || s[0] == '\t') {
					s = s[1:]
				}
				broke = true
				break
			}
			if !broke && llen < cols {
				n := cols - llen
				g.WriteString(s[:n])
				s = s[n:]
			}
		} else {
			g.WriteString(s[:t])
			s = s[t+tail:]
		}
		if s == "" {
			break
		}
		if maxchars > 0 && g.Len() >= maxchars {
			out := g.String()[:maxchars]
			return strings.TrimRight(out, " \t\n")
		}
		g.WriteString("\n ")
		llen = 1
	}
	return strings.TrimRight(g.String(), " \t\n")
}

// diagnosticCode builds the value of Exim's Diagnostic-Code field from
// text (print_dsn_diagnostic_code): `\n` becomes a fold ("\n "), and
// after 950 characters of line (counting "Diagnostic-Code: smtp; ")
// the text stops with "[truncated]". text must be sanitised; its real
// newlines are folds too (Exim would copy them), and blank lines are
// dropped.
func diagnosticCode(text string) string {
	return diagnosticCodeAfter(len(diagCodeHead), text)
}

// diagnosticCodeAfter is diagnosticCode after a head of headLen
// characters: a type other than smtp moves the 950 limit with it.
func diagnosticCodeAfter(headLen int, text string) string {
	var b strings.Builder
	cnt := headLen
	for i := 0; i < len(text); {
		switch {
		case text[i] == '\\' && i+1 < len(text) && text[i+1] == 'n':
			b.WriteString("\n ")
			i += 2
			cnt += 2
		case text[i] == '\n':
			b.WriteString("\n ")
			i++
			cnt += 2
		default:
			b.WriteByte(text[i])
			i++
			cnt++
		}
		if cnt > diagCodeLimit {
			b.WriteString("[truncated]")
			break
		}
	}
	// Unlike Exim, drop blank lines: a line of white space alone would
	// end the recipient's block for many readers.
	out := b.String()
	if !strings.Contains(out, "\n") {
		return out
	}
	lines := strings.Split(out, "\n")
	keep := lines[:1]
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) != "" {
			keep = append(keep, l)
		}
	}
	return strings.TrimRight(strings.Join(keep, "\n"), " \t")
}

// EximDiagnosticCode returns the Diagnostic-Code Exim writes for an
// address whose error message is message: type "smtp" and the text
// after the first ": " (ok is false when there is none, and Exim
// writes no Diagnostic-Code), with `\n` turned into a fold and the
// line cut after about 950 characters with "[truncated]". The value is
// given as Parse returns it, unfolded.
func EximDiagnosticCode(message string) (code Typed, ok bool) {
	message = truncate(sanitizeText(message), maxMessage)
	i := strings.Index(message, ": ")
	if i < 0 {
		return Typed{}, false
	}
	v := strings.ReplaceAll(diagnosticCode(message[i+2:]), "\n", "")
	return Typed{Type: "smtp", Value: strings.TrimSpace(v)}, true
}
