package hostlist

import (
	"fmt"
	"net/netip"
	"strings"
)

// List is a parsed host list. The zero value and nil match nothing.
type List struct {
	items []item
	text  string
}

type item struct {
	neg    bool
	any    bool
	prefix netip.Prefix // valid for IP and CIDR items
	name   string       // lower-case name, or suffix for wildcards
	suffix bool
}

// Parse parses an Exim host list.
func Parse(s string) (*List, error) {
	l := &List{text: s}
	sep := byte(':')
	rest := strings.TrimLeft(s, " \t")
	if len(rest) >= 2 && rest[0] == '<' && !isSpaceOrAlnum(rest[1]) {
		sep, rest = rest[1], rest[2:]
	}
	for _, raw := range split(rest, sep) {
		it, err := parseItem(raw)
		if err != nil {
			return nil, err
		}
		l.items = append(l.items, it)
	}
	return l, nil
}

// MustParse is Parse for constant lists; it panics on error.
func MustParse(s string) *List {
	l, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return l
}

// String returns the list as it was given.
func (l *List) String() string {
	if l == nil {
		return ""
	}
	return l.text
}

// Empty reports whether the list has no items (so it matches nothing).
func (l *List) Empty() bool { return l == nil || len(l.items) == 0 }

// Match reports whether the host with this name (may be empty) and
// address (may be invalid) is in the list.
func (l *List) Match(host string, ip netip.Addr) bool {
	if l == nil {
		return false
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	ip = ip.Unmap()
	for _, it := range l.items {
		if it.matches(host, ip) {
			return !it.neg
		}
	}
	return false
}

func (it item) matches(host string, ip netip.Addr) bool {
	switch {
	case it.any:
		return true
	case it.prefix.IsValid():
		return ip.IsValid() && it.prefix.Contains(ip)
	case host == "":
		return false
	case it.suffix:
		return strings.HasSuffix(host, it.name)
	}
	return host == it.name
}

func parseItem(raw string) (item, error) {
	var it item
	s := strings.TrimSpace(raw)
	if strings.HasPrefix(s, "!") {
		it.neg, s = true, strings.TrimSpace(s[1:])
	}
	switch {
	case s == "":
		return it, fmt.Errorf("hostlist: empty item in %q", raw)
	case s == "*":
		it.any = true
		return it, nil
	case strings.ContainsAny(s, ";") || s[0] == '@' || s[0] == '+' || s[0] == '/' || s[0] == '^':
		return it, fmt.Errorf("hostlist: item %q needs lookups or files, which are not supported", s)
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		it.prefix = p.Masked()
		if p.Addr().Is4In6() {
			it.prefix = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96).Masked()
		}
		return it, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		it.prefix = netip.PrefixFrom(a, a.BitLen())
		return it, nil
	}
	if strings.HasPrefix(s, "*") {
		it.suffix, it.name = true, strings.ToLower(s[1:])
		if it.name == "" || strings.Contains(it.name, "*") {
			return it, fmt.Errorf("hostlist: bad wildcard %q", s)
		}
		return it, nil
	}
	if strings.ContainsAny(s, "* \t/[]") {
		return it, fmt.Errorf("hostlist: bad host name %q", s)
	}
	it.name = strings.ToLower(strings.TrimSuffix(s, "."))
	return it, nil
}

// split cuts an Exim list at sep; a doubled sep stands for itself.
// IPv6 addresses are items too, so with the default ":" separator an
// address must be written with "::" doubled, or the list given a
// different separator ("<; 2001:db8::1 ; ...") — as in Exim.
func split(s string, sep byte) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != sep {
			cur.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == sep {
			cur.WriteByte(sep)
			i++
			continue
		}
		if t := strings.TrimSpace(cur.String()); t != "" {
			out = append(out, t)
		}
		cur.Reset()
	}
	if t := strings.TrimSpace(cur.String()); t != "" {
		out = append(out, t)
	}
	return out
}

func isSpaceOrAlnum(c byte) bool {
	return c == ' ' || c == '\t' || (c|0x20) >= 'a' && (c|0x20) <= 'z' || c >= '0' && c <= '9'
}
