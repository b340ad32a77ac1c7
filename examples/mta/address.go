package main

import (
	"net/netip"
	"strings"
)

// Limits of RFC 5321 §4.5.3.1.
const (
	maxLocalPart = 64
	maxDomain    = 255
	maxPath      = 256
)

// parsePath parses the argument of MAIL FROM: or RCPT TO: (the text
// after the colon): "<path>" followed by optional ESMTP parameters. It
// returns the mailbox without angle brackets (a source route is
// dropped, RFC 5321 §4.1.1.3) and the parameter text. ok is false for
// anything that is not a bracketed path of valid syntax; the null path
// "<>" gives "".
func parsePath(arg string) (addr, params string, ok bool) {
	arg = strings.TrimLeft(arg, " ") // "MAIL FROM: <a@b>" is common
	if !strings.HasPrefix(arg, "<") {
		return "", "", false
	}
	end := closingBracket(arg)
	if end < 0 {
		return "", "", false
	}
	addr, rest := arg[1:end], arg[end+1:]
	if rest != "" && rest[0] != ' ' {
		return "", "", false
	}
	params = strings.TrimSpace(rest)
	if len(addr) > maxPath {
		return "", "", false
	}
	if strings.HasPrefix(addr, "@") { // source route "@a,@b:user@c"
		i := strings.IndexByte(addr, ':')
		if i < 0 {
			return "", "", false
		}
		addr = addr[i+1:]
	}
	if addr == "" {
		return "", params, true
	}
	if !validMailbox(addr) {
		return "", "", false
	}
	return addr, params, true
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

// validMailbox reports whether s is an RFC 5321 Mailbox: a dot-string
// or quoted-string local part, "@", and a domain or address literal.
// Printable ASCII only, so a mailbox is always safe in a header field.
func validMailbox(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if len(local) > maxLocalPart && !strings.HasPrefix(local, "\"") {
		return false
	}
	return validLocalPart(local) && (validDomain(domain) || validAddressLiteral(domain))
}

func validLocalPart(s string) bool {
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
		if !isAtext(s[i]) && s[i] != '.' {
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

// validDomain reports whether s is a host name: LDH labels of 1-63
// characters separated by dots (a final dot is not allowed). An
// underscore is tolerated, as real HELO names have them.
func validDomain(s string) bool {
	if s == "" || len(s) > maxDomain {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// validAddressLiteral reports whether s is "[IPv4]" or "[IPv6:addr]".
func validAddressLiteral(s string) bool {
	if len(s) < 3 || s[0] != '[' || s[len(s)-1] != ']' {
		return false
	}
	in := s[1 : len(s)-1]
	if v6, ok := strings.CutPrefix(in, "IPv6:"); ok {
		a, err := netip.ParseAddr(v6)
		return err == nil && a.Is6() && a.Zone() == ""
	}
	a, err := netip.ParseAddr(in)
	return err == nil && a.Is4()
}

// validHelo reports whether an EHLO/HELO argument is a host name or an
// address literal, as Exim requires by default (helo_accept_junk_hosts
// unset). It is then safe to put in a Received: field.
func validHelo(s string) bool {
	return validDomain(strings.TrimSuffix(s, ".")) || validAddressLiteral(s)
}

// splitAddress splits a mailbox at its last '@' and lower-cases the
// domain.
func splitAddress(addr string) (local, domain string) {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr, ""
	}
	return addr[:at], strings.ToLower(addr[at+1:])
}
