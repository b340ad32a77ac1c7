package spf

import (
	"net/netip"
	"strings"
)

// mechKind is the mechanism a directive names (RFC 7208 §5).
type mechKind uint8

const (
	mechAll mechKind = iota
	mechInclude
	mechA
	mechMX
	mechPTR
	mechIP4
	mechIP6
	mechExists
)

// term is one parsed directive. domain is the unexpanded domain-spec
// ("" for the current domain).
type term struct {
	kind   mechKind
	qual   Result
	domain string
	prefix netip.Prefix // ip4/ip6
	cidr4  int8         // a/mx: -1 when absent
	cidr6  int16        // a/mx: -1 when absent
	text   string       // the term as written, for Outcome.Mechanism
}

// record is a validated SPF record. Directives are not kept: they are
// parsed again, without allocating, as evaluation reaches them, so a
// record costs no heap memory on the hot path.
type record struct {
	text     string // terms after "v=spf1"
	nterms   int
	redirect string // unexpanded domain-spec, valid when hasRedir
	exp      string // unexpanded domain-spec, valid when hasExp
	hasRedir bool
	hasExp   bool
}

// isSPFRecord reports whether a TXT string is an SPF version 1 record
// (RFC 7208 §4.5: "v=spf1" followed by a space or the end).
func isSPFRecord(s string) bool {
	if len(s) < 6 || !strings.EqualFold(s[:6], "v=spf1") {
		return false
	}
	return len(s) == 6 || s[6] == ' '
}

// parseRecord validates a whole record. Any syntax error anywhere is a
// permerror before evaluation starts (RFC 7208 §4.6).
func parseRecord(txt string) (record, error) {
	if !isSPFRecord(txt) {
		return record{}, &SyntaxError{Code: ErrCodeNotSPF, Term: txt}
	}
	r := record{text: txt[6:]}
	for rest := r.text; ; {
		var tok string
		if tok, rest = nextToken(rest); tok == "" {
			break
		}
		if err := r.addTerm(tok); err != nil {
			return record{}, err
		}
	}
	return r, nil
}

// nextToken splits the next space-separated term off s.
func nextToken(s string) (tok, rest string) {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	end := strings.IndexByte(s, ' ')
	if end < 0 {
		return s, ""
	}
	return s[:end], s[end:]
}

// modifierName returns the name of a modifier term, or "" for a
// directive: name "=" value with the "=" before any ":" or "/".
func modifierName(tok string) string {
	if i := indexDelim(tok, true); i > 0 && tok[i] == '=' && isModifierName(tok[:i]) {
		return tok[:i]
	}
	return ""
}

// nextDirective returns the next directive of a validated record text,
// skipping modifiers; ok is false at the end.
func nextDirective(rest string) (t term, tail string, ok bool) {
	for {
		var tok string
		if tok, rest = nextToken(rest); tok == "" {
			return term{}, "", false
		}
		if modifierName(tok) != "" {
			continue
		}
		t, err := parseDirective(tok, false)
		if err != nil {
			// Unreachable for a record that parseRecord accepted.
			continue
		}
		return t, rest, true
	}
}

func (r *record) addTerm(tok string) error {
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c < 0x21 || c > 0x7e {
			return &SyntaxError{Code: ErrCodeInvalidChar, Term: tok}
		}
	}
	if name := modifierName(tok); name != "" {
		return r.addModifier(name, tok[len(name)+1:], tok)
	}
	if _, err := parseDirective(tok, true); err != nil {
		return err
	}
	r.nterms++
	return nil
}

func (r *record) addModifier(name, value, tok string) error {
	switch {
	case strings.EqualFold(name, "redirect"):
		if r.hasRedir {
			return &SyntaxError{Code: ErrCodeDupModifier, Term: tok}
		}
		if err := checkDomainSpec(value, tok); err != nil {
			return err
		}
		r.redirect, r.hasRedir = value, true
	case strings.EqualFold(name, "exp"):
		if r.hasExp {
			return &SyntaxError{Code: ErrCodeDupModifier, Term: tok}
		}
		if err := checkDomainSpec(value, tok); err != nil {
			return err
		}
		r.exp, r.hasExp = value, true
	default:
		// Unknown modifiers are ignored, but must still be well formed.
		if err := checkMacroString(value, true); err != nil {
			return &SyntaxError{Code: ErrCodeInvalidMacro, Term: tok}
		}
	}
	return nil
}

func isModifierName(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// parseDirective parses one directive. check validates domain-specs;
// evaluation re-parses terms of an already validated record without it.
func parseDirective(tok string, check bool) (term, error) {
	t := term{qual: Pass, cidr4: -1, cidr6: -1, text: tok}
	s := tok
	switch s[0] {
	case '+':
		s = s[1:]
	case '-':
		t.qual, s = Fail, s[1:]
	case '~':
		t.qual, s = SoftFail, s[1:]
	case '?':
		t.qual, s = Neutral, s[1:]
	}
	nameEnd := indexDelim(s, false)
	if nameEnd < 0 {
		nameEnd = len(s)
	}
	name, arg := s[:nameEnd], s[nameEnd:]
	switch {
	case foldEq(name, "all"):
		t.kind = mechAll
		if arg != "" {
			return t, &SyntaxError{Code: ErrCodeSyntax, Term: tok}
		}
	case foldEq(name, "include"), foldEq(name, "exists"):
		t.kind = mechInclude
		if len(name) == 6 {
			t.kind = mechExists
		}
		if len(arg) < 2 || arg[0] != ':' {
			return t, &SyntaxError{Code: ErrCodeMissingOpt, Term: tok}
		}
		if check {
			if err := checkDomainSpec(arg[1:], tok); err != nil {
				return t, err
			}
		}
		t.domain = arg[1:]
	case foldEq(name, "a"), foldEq(name, "mx"):
		t.kind = mechA
		if len(name) == 2 {
			t.kind = mechMX
		}
		dom, c4, c6, err := splitDualCIDR(arg, tok, check)
		if err != nil {
			return t, err
		}
		t.domain, t.cidr4, t.cidr6 = dom, c4, c6
	case foldEq(name, "ptr"):
		t.kind = mechPTR
		if arg != "" {
			if len(arg) < 2 || arg[0] != ':' {
				return t, &SyntaxError{Code: ErrCodeSyntax, Term: tok}
			}
			if check {
				if err := checkDomainSpec(arg[1:], tok); err != nil {
					return t, err
				}
			}
			t.domain = arg[1:]
		}
	case foldEq(name, "ip4"), foldEq(name, "ip6"):
		t.kind = mechIP4
		if name[2] == '6' {
			t.kind = mechIP6
		}
		p, err := parseIPNetwork(arg, t.kind == mechIP6, tok)
		if err != nil {
			return t, err
		}
		t.prefix = p
	default:
		return t, &SyntaxError{Code: ErrCodeUnknownMech, Term: tok}
	}
	return t, nil
}

// splitDualCIDR splits the argument of a/mx (":domain/24//64", "/24",
// "//64", "") into its domain-spec and CIDR lengths.
func splitDualCIDR(arg, tok string, check bool) (string, int8, int16, error) {
	c4, c6 := -1, -1
	if i := strings.LastIndex(arg, "//"); i >= 0 && allDigits(arg[i+2:]) {
		n, ok := cidrLen(arg[i+2:], 128)
		if !ok {
			return "", 0, 0, &SyntaxError{Code: ErrCodeInvalidCIDR, Term: tok}
		}
		c6, arg = n, arg[:i]
	}
	if i := strings.LastIndexByte(arg, '/'); i >= 0 && allDigits(arg[i+1:]) {
		n, ok := cidrLen(arg[i+1:], 32)
		if !ok {
			return "", 0, 0, &SyntaxError{Code: ErrCodeInvalidCIDR, Term: tok}
		}
		c4, arg = n, arg[:i]
	}
	dom := ""
	if arg != "" {
		if arg[0] != ':' || len(arg) == 1 {
			return "", 0, 0, &SyntaxError{Code: ErrCodeSyntax, Term: tok}
		}
		dom = arg[1:]
		if check {
			if err := checkDomainSpec(dom, tok); err != nil {
				return "", 0, 0, err
			}
		}
	}
	return dom, int8(c4), int16(c6), nil
}

// cidrLen parses a CIDR length without leading zeros, as the ABNF
// requires, and at most limit.
func cidrLen(s string, limit int) (int, bool) {
	if s == "" || len(s) > 3 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n, n <= limit
}

func parseIPNetwork(arg string, v6 bool, tok string) (netip.Prefix, error) {
	code := ErrCodeInvalidIP4
	limit := 32
	if v6 {
		code, limit = ErrCodeInvalidIP6, 128
	}
	if len(arg) < 2 || arg[0] != ':' {
		return netip.Prefix{}, &SyntaxError{Code: code, Term: tok}
	}
	addr, bits := arg[1:], limit
	if i := strings.IndexByte(addr, '/'); i >= 0 {
		n, ok := cidrLen(addr[i+1:], limit)
		if !ok || !allDigits(addr[i+1:]) {
			return netip.Prefix{}, &SyntaxError{Code: ErrCodeInvalidCIDR, Term: tok}
		}
		addr, bits = addr[:i], n
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Zone() != "" || ip.Is4() == v6 {
		return netip.Prefix{}, &SyntaxError{Code: code, Term: tok}
	}
	return netip.PrefixFrom(ip, bits).Masked(), nil
}

// checkDomainSpec validates an unexpanded domain-spec (RFC 7208 §7.1):
// a macro-string ending in a macro-expand or in "." toplabel ["."].
func checkDomainSpec(s, tok string) error {
	if s == "" {
		return &SyntaxError{Code: ErrCodeMissingOpt, Term: tok}
	}
	if err := checkMacroString(s, false); err != nil {
		return &SyntaxError{Code: ErrCodeInvalidMacro, Term: tok}
	}
	if endsWithMacro(s) {
		return nil
	}
	d := strings.TrimSuffix(s, ".")
	i := strings.LastIndexByte(d, '.')
	if i < 0 || !isTopLabel(d[i+1:]) {
		return &SyntaxError{Code: ErrCodeBadHostTLD, Term: tok}
	}
	return nil
}

// endsWithMacro reports whether s ends with a macro-expand: "%{...}",
// "%%", "%_" or "%-". s is already known to be a valid macro-string.
func endsWithMacro(s string) bool {
	if strings.HasSuffix(s, "}") {
		i := strings.LastIndex(s, "%{")
		return i >= 0 && !strings.Contains(s[i:len(s)-1], "}")
	}
	// Count the run of '%' before the last char: an odd count means the
	// last two characters form an escape.
	if len(s) < 2 {
		return false
	}
	switch s[len(s)-1] {
	case '%', '_', '-':
		n := 0
		for i := len(s) - 2; i >= 0 && s[i] == '%'; i-- {
			n++
		}
		return n%2 == 1
	}
	return false
}

// isTopLabel: ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-"
// *( alphanum / "-" ) alphanum ).
func isTopLabel(l string) bool {
	if l == "" || !isAlnum(l[0]) || !isAlnum(l[len(l)-1]) {
		return false
	}
	alpha, dash := false, false
	for i := 0; i < len(l); i++ {
		switch c := l[i]; {
		case isAlpha(c):
			alpha = true
		case isDigit(c):
		case c == '-':
			dash = true
		default:
			return false
		}
	}
	return alpha || dash
}

func isAlpha(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// indexDelim finds the first ':' or '/' (and '=' when eq) in s; a byte
// loop beats strings.IndexAny, which builds its set on every call.
func indexDelim(s string, eq bool) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ':', '/':
			return i
		case '=':
			if eq {
				return i
			}
		}
	}
	return -1
}

// foldEq is an ASCII case-insensitive comparison against a lower-case
// keyword; mechanism names are ASCII, and strings.EqualFold's Unicode
// folding shows up in profiles.
func foldEq(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
