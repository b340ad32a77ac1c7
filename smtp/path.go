package smtp

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of RFC 5321 §4.5.3.1, in octets.
const (
	MaxLocalPart = 64  // local part of a mailbox
	MaxDomain    = 255 // domain
	MaxPath      = 256 // reverse-path or forward-path, the angle brackets excluded
)

// A Path is the argument of MAIL FROM: or RCPT TO: after the colon.
type Path struct {
	// Mailbox is the address without angle brackets, with a source
	// route dropped (RFC 5321 §4.1.1.3); "" for the null path "<>".
	Mailbox string
	// Params is the ESMTP parameter text after the path, white space
	// around it removed: see ParseMailParams and ParseRcptParams.
	Params string
}

// A PathError reports an address or path of invalid syntax.
type PathError struct {
	Text   string // the text given
	Reason string
}

func (e *PathError) Error() string { return "smtp: invalid address " + quote(e.Text) + ": " + e.Reason }

// A SyntaxOption changes the address syntax that ParsePath,
// ParseMailbox and the Valid functions accept.
type SyntaxOption func(*syntax)

type syntax struct{ utf8 bool }

// WithUTF8 allows UTF-8 beyond ASCII in local parts and domains (RFC
// 6531, SMTPUTF8: MAIL with the SMTPUTF8 parameter). Without it an
// address is printable ASCII only, so that it is always safe in a
// header field. With it, text must be valid UTF-8 without C1 controls;
// a non-ASCII domain label (U-label) is not checked against IDNA.
func WithUTF8(on bool) SyntaxOption { return func(s *syntax) { s.utf8 = on } }

func syntaxOf(opts []SyntaxOption) syntax {
	var s syntax
	for _, o := range opts {
		o(&s)
	}
	return s
}

// ParsePath parses the argument of MAIL FROM: or RCPT TO: (the text
// after the colon): "<path>" followed by optional ESMTP parameters,
// separated from it by a space. Leading spaces are skipped ("MAIL FROM:
// <a@b>" is common). The path must be the null path "<>" or a mailbox
// of valid syntax, optionally after a source route "@a,@b:".
func ParsePath(arg string, opts ...SyntaxOption) (Path, error) {
	syn := syntaxOf(opts)
	arg = strings.TrimLeft(arg, " ")
	if !strings.HasPrefix(arg, "<") {
		return Path{}, &PathError{arg, "no opening angle bracket"}
	}
	end := closingBracket(arg)
	if end < 0 {
		return Path{}, &PathError{arg, "no closing angle bracket"}
	}
	addr, rest := arg[1:end], arg[end+1:]
	if rest != "" && rest[0] != ' ' {
		return Path{}, &PathError{arg, "text after the path"}
	}
	params := strings.Trim(rest, " \t") // white space: a trailing tab too
	if len(addr) > MaxPath {
		return Path{}, &PathError{addr, "path too long"}
	}
	if strings.HasPrefix(addr, "@") { // source route "@a,@b:user@c"
		i := strings.IndexByte(addr, ':')
		if i < 0 {
			return Path{}, &PathError{addr, "source route without a colon"}
		}
		addr = addr[i+1:]
	}
	if addr == "" {
		return Path{Params: params}, nil
	}
	if _, err := parseMailbox(addr, syn); err != nil {
		return Path{}, err
	}
	return Path{Mailbox: addr, Params: params}, nil
}

// closingBracket finds the '>' that ends the path in s (s[0] == '<'),
// skipping quoted strings, or -1.
func closingBracket(s string) int {
	quoted := false
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == '>':
			return i
		}
	}
	return -1
}

// A Mailbox is an address split at its last '@'.
type Mailbox struct {
	Local  string // dot-string or quoted string, as given
	Domain string // domain or address literal, as given
}

func (m Mailbox) String() string { return m.Local + "@" + m.Domain }

// ParseMailbox parses an RFC 5321 Mailbox (§4.1.2): a dot-string or
// quoted-string local part of at most MaxLocalPart octets (a quoted one
// may be longer), "@", and a domain (see ValidDomain) or an address
// literal (see ParseAddressLiteral).
func ParseMailbox(s string, opts ...SyntaxOption) (Mailbox, error) {
	return parseMailbox(s, syntaxOf(opts))
}

func parseMailbox(s string, syn syntax) (Mailbox, error) {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return Mailbox{}, &PathError{s, "no local part and domain"}
	}
	m := Mailbox{Local: s[:at], Domain: s[at+1:]}
	if len(m.Local) > MaxLocalPart && !strings.HasPrefix(m.Local, "\"") {
		return Mailbox{}, &PathError{s, "local part too long"}
	}
	if !validLocalPart(m.Local, syn) {
		return Mailbox{}, &PathError{s, "invalid local part"}
	}
	if !validDomain(m.Domain, syn) && !ValidAddressLiteral(m.Domain) {
		return Mailbox{}, &PathError{s, "invalid domain"}
	}
	return m, nil
}

// ValidMailbox reports whether ParseMailbox accepts s.
func ValidMailbox(s string, opts ...SyntaxOption) bool {
	_, err := parseMailbox(s, syntaxOf(opts))
	return err == nil
}

// ValidLocalPart reports whether s is a dot-string (atoms of atext
// joined by single dots) or a quoted string of printable characters
// with backslash escapes.
func ValidLocalPart(s string, opts ...SyntaxOption) bool {
	return validLocalPart(s, syntaxOf(opts))
}

func validLocalPart(s string, syn syntax) bool {
	if !textOK(s, syn) {
		return false
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		q := s[1 : len(s)-1]
		for i := 0; i < len(q); i++ {
			c := q[i]
			if c == '\\' {
				i++
				if i == len(q) || q[i] < ' ' || q[i] > '~' {
					return false
				}
				continue
			}
			if c >= 0x80 { // checked by textOK
				continue
			}
			if c < ' ' || c > '~' || c == '"' {
				return false
			}
		}
		return true
	}
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAtext(s[i]) && s[i] != '.' && s[i] < 0x80 {
			return false
		}
	}
	return true
}

// textOK: ASCII only, or with UTF-8 allowed valid UTF-8 without C1
// controls.
func textOK(s string, syn syntax) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return true
	}
	if !syn.utf8 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r >= 0x80 && r <= 0x9f {
			return false
		}
	}
	return true
}

func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// ValidDomain reports whether s is a host name: labels of 1-63 letters,
// digits, hyphens (not first or last) and underscores (real HELO names
// have them), separated by single dots, at most MaxDomain octets; a
// final dot is not allowed. WithUTF8 also allows non-ASCII labels.
func ValidDomain(s string, opts ...SyntaxOption) bool {
	return validDomain(s, syntaxOf(opts))
}

func validDomain(s string, syn syntax) bool {
	if s == "" || len(s) > MaxDomain || !textOK(s, syn) {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c >= 0x80) {
				return false
			}
		}
	}
	return true
}

// ValidHelo reports whether an EHLO or HELO argument is a host name
// (one final dot allowed) or an address literal, as Exim requires by
// default (helo_accept_junk_hosts unset). Such a name is safe in a
// Received: field.
func ValidHelo(s string) bool {
	return ValidDomain(strings.TrimSuffix(s, ".")) || ValidAddressLiteral(s)
}

// SplitAddress splits a mailbox at its last '@' and lower-cases the
// domain. An address without '@' is all local part.
func SplitAddress(addr string) (local, domain string) {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr, ""
	}
	return addr[:at], strings.ToLower(addr[at+1:])
}

// quote is strconv.Quote of s cut to 100 octets, for messages.
func quote(s string) string {
	if len(s) > 100 {
		return strconv.Quote(s[:100]) + "..."
	}
	return strconv.Quote(s)
}
