package dmarc

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// PSL is a Public Suffix List loaded from a file, as Exim's
// dmarc_tld_file names one. Without one, Evaluate uses the list compiled
// into golang.org/x/net/publicsuffix.
type PSL struct {
	rules map[string]uint8 // ASCII rule name without "*." or "!" -> rule bits
}

const (
	ruleNormal    = 1 << iota // "name"
	ruleWildcard              // "*.name"
	ruleException             // "!name"
)

// LoadPSL reads a public_suffix_list.dat file.
func LoadPSL(path string) (*PSL, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := ParsePSL(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// ParsePSL reads the Public Suffix List format: one rule per line,
// "//" comments, "*." wildcards and "!" exceptions; both ICANN and
// private sections are used.
func ParsePSL(r io.Reader) (*PSL, error) {
	p := &PSL{rules: make(map[string]uint8)}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			line = line[:i]
		}
		if line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		kind := uint8(ruleNormal)
		switch {
		case strings.HasPrefix(line, "!"):
			kind, line = ruleException, line[1:]
		case strings.HasPrefix(line, "*."):
			kind, line = ruleWildcard, line[2:]
		}
		a, err := toASCII(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: rule %q: %v", n, line, err)
		}
		p.rules[a] |= kind
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(p.rules) == 0 {
		return nil, fmt.Errorf("no rules")
	}
	return p, nil
}

// OrgDomain returns the registrable domain of domain (RFC 7489 §3.2:
// the public suffix plus one label), lower-cased; ok is false when the
// domain is itself a public suffix or malformed.
func (p *PSL) OrgDomain(domain string) (string, bool) {
	labels, ascii, ok := splitDomain(domain)
	if !ok {
		return "", false
	}
	n := len(ascii)
	// The prevailing rule is an exception if one matches, else the
	// longest match; the default rule "*" makes the last label a suffix.
	suffix := 1
	for i := 0; i < n; i++ {
		bits := p.rules[strings.Join(ascii[i:], ".")]
		if bits&ruleException != 0 {
			suffix = n - i - 1
			break
		}
		if bits&ruleNormal != 0 && n-i > suffix {
			suffix = n - i
		}
		if bits&ruleWildcard != 0 && i > 0 && n-i+1 > suffix {
			suffix = n - i + 1
		}
	}
	if suffix >= n {
		return "", false
	}
	return strings.Join(labels[n-suffix-1:], "."), true
}

// splitDomain lower-cases domain and returns its labels as given and in
// ASCII (punycode) form.
func splitDomain(domain string) (labels, ascii []string, ok bool) {
	domain = strings.TrimSuffix(domain, ".")
	if domain == "" || strings.HasPrefix(domain, ".") || strings.Contains(domain, "..") {
		return nil, nil, false
	}
	labels = strings.Split(strings.ToLower(domain), ".")
	ascii = make([]string, len(labels))
	for i, l := range labels {
		a, err := toASCII(l)
		if err != nil || a == "" {
			return nil, nil, false
		}
		ascii[i] = a
	}
	return labels, ascii, true
}

func toASCII(s string) (string, error) {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return idna.Lookup.ToASCII(s)
		}
	}
	return strings.ToLower(s), nil
}

// orgDomain uses the configured list, else x/net/publicsuffix.
func (c *config) orgDomain(domain string) (string, bool) {
	if c.psl != nil {
		return c.psl.OrgDomain(domain)
	}
	labels, ascii, ok := splitDomain(domain)
	if !ok {
		return "", false
	}
	org, err := publicsuffix.EffectiveTLDPlusOne(strings.Join(ascii, "."))
	if err != nil {
		return "", false
	}
	// Map back to the labels as given (Unicode stays Unicode).
	return strings.Join(labels[len(labels)-strings.Count(org, ".")-1:], "."), true
}
