package mtasts

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Mode is a policy's mode (RFC 8461 §5).
type Mode string

// The modes.
const (
	// ModeEnforce: deliver only to MX hosts the policy names, over TLS
	// with a certificate valid for the host; anything else defers.
	ModeEnforce Mode = "enforce"
	// ModeTesting: deliver as without MTA-STS, and report (TLS-RPT)
	// what enforce would have refused.
	ModeTesting Mode = "testing"
	// ModeNone: the domain has withdrawn its policy.
	ModeNone Mode = "none"
)

// MaxMaxAge is the largest max_age a policy may give (RFC 8461 §3.2):
// about a year.
const MaxMaxAge = 31557600 * time.Second

// Policy is a parsed MTA-STS policy (RFC 8461 §3.2).
type Policy struct {
	Mode Mode
	// MaxAge is how long the policy may be cached, in whole seconds.
	MaxAge time.Duration
	// MX are the mx patterns in order, lower case without a trailing
	// dot: host names, or "*." and a name for any host one label
	// below it.
	MX []string
	// Extensions are the fields the RFC does not define, in order.
	Extensions []Extension
}

// ParsePolicy parses a policy body. Lines end in LF or CRLF; each is
// "name: value" (white space after the colon and at the end of the line
// is ignored; field names are case-sensitive, as the ABNF's %s says);
// blank lines are skipped. version (STSv1), mode and max_age must appear
// once, mx at least once unless the mode is none; fields the RFC does
// not define are kept in Extensions, not interpreted. Errors are
// *SyntaxError with the line.
func ParsePolicy(body []byte) (*Policy, error) {
	p := &Policy{}
	var seenVersion, seenMode, seenMaxAge bool
	n := 0
	rest := string(body) // one copy; lines and values are slices of it
	for rest != "" {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		n++
		line = strings.TrimSuffix(line, "\r")
		text := strings.TrimRight(line, " \t")
		if text == "" {
			continue
		}
		if !utf8.ValidString(text) {
			return nil, syntaxError("policy", n, text, "not UTF-8")
		}
		name, value, ok := strings.Cut(text, ":")
		if !ok {
			return nil, syntaxError("policy", n, text, `want "name: value"`)
		}
		if !validExtName(name) {
			return nil, syntaxError("policy", n, text, "invalid field name")
		}
		value = strings.TrimLeft(value, " \t")
		dup := func() error { return syntaxError("policy", n, text, name+" given more than once") }
		switch name {
		case "version":
			if seenVersion {
				return nil, dup()
			}
			if value != version {
				return nil, syntaxError("policy", n, text, "version must be STSv1")
			}
			seenVersion = true
		case "mode":
			if seenMode {
				return nil, dup()
			}
			switch m := Mode(value); m {
			case ModeEnforce, ModeTesting, ModeNone:
				p.Mode = m
			default:
				return nil, syntaxError("policy", n, text, "mode must be enforce, testing or none")
			}
			seenMode = true
		case "max_age":
			if seenMaxAge {
				return nil, dup()
			}
			age, ok := parseMaxAge(value)
			if !ok {
				return nil, syntaxError("policy", n, text, "max_age must be 1 to 10 digits, at most 31557600")
			}
			p.MaxAge, seenMaxAge = age, true
		case "mx":
			pat, ok := parseMXPattern(value)
			if !ok {
				return nil, syntaxError("policy", n, text, `mx must be a host name or "*." and a domain`)
			}
			// A copy: a slice would keep the whole body (up to
			// 64 KiB) alive in the cache.
			p.MX = append(p.MX, strings.Clone(pat))
		default:
			if !validPolicyExtValue(value) {
				return nil, syntaxError("policy", n, text, "invalid field value")
			}
			p.Extensions = append(p.Extensions, Extension{strings.Clone(name), strings.Clone(value)})
		}
	}
	switch {
	case !seenVersion:
		return nil, syntaxError("policy", 0, "", "no version")
	case !seenMode:
		return nil, syntaxError("policy", 0, "", "no mode")
	case !seenMaxAge:
		return nil, syntaxError("policy", 0, "", "no max_age")
	case len(p.MX) == 0 && p.Mode != ModeNone:
		return nil, syntaxError("policy", 0, "", "no mx (required unless the mode is none)")
	}
	return p, nil
}

// parseMaxAge is 1*10(DIGIT), at most MaxMaxAge.
func parseMaxAge(s string) (time.Duration, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || time.Duration(v)*time.Second > MaxMaxAge {
		return 0, false
	}
	return time.Duration(v) * time.Second, true
}

// parseMXPattern is ["*."] Domain, in lower case without a trailing
// dot (which the ABNF does not allow, but names in DNS form carry).
func parseMXPattern(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSuffix(s, "."))
	if validDomain(strings.TrimPrefix(s, "*.")) {
		return s, true
	}
	return "", false
}

// validPolicyExtValue is sts-policy-vchar [*(%x20 / sts-policy-vchar)
// sts-policy-vchar]: visible ASCII or UTF-8 beyond it, with inner
// spaces (the caller has trimmed the ends).
func validPolicyExtValue(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\t' {
			return false
		}
	}
	return true
}

// Lines are the policy's lines in canonical order, without line ends:
// version, mode, each mx, max_age, then the extensions. They are the
// policy-string of a TLS report (RFC 8460 §4.4).
func (p *Policy) Lines() []string {
	lines := make([]string, 0, 3+len(p.MX)+len(p.Extensions))
	lines = append(lines, "version: "+version, "mode: "+string(p.Mode))
	for _, mx := range p.MX {
		lines = append(lines, "mx: "+mx)
	}
	lines = append(lines, "max_age: "+strconv.FormatInt(int64(p.MaxAge/time.Second), 10))
	for _, e := range p.Extensions {
		lines = append(lines, e.Name+": "+e.Value)
	}
	return lines
}

// String is the policy as a body (CRLF after each line), which
// ParsePolicy reads back to an equal Policy.
func (p *Policy) String() string {
	return strings.Join(p.Lines(), "\r\n") + "\r\n"
}

// Match reports whether host, an MX host name, is one the policy
// allows (RFC 8461 §4.1): equal to an mx pattern, or one label below the
// domain of a "*." pattern ("*.example.com" matches mail.example.com,
// not example.com nor a.b.example.com). Case and a trailing dot do not
// matter.
func (p *Policy) Match(host string) bool {
	if p == nil {
		return false
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	for _, pat := range p.MX {
		if matchPattern(pat, h) {
			return true
		}
	}
	return false
}

func matchPattern(pat, host string) bool {
	if rest, ok := strings.CutPrefix(pat, "*."); ok {
		i := strings.IndexByte(host, '.')
		return i > 0 && host[i+1:] == rest
	}
	return pat == host
}
