package mtasts

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailpolicy/mailpolicy/resolver"
)

// Resolver is the DNS the package needs: *resolver.Resolver and
// resolver.NetResolver satisfy it. The bool (DNSSEC) is not used:
// MTA-STS trusts the HTTPS fetch, not DNS.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, bool, error)
}

// Record is a domain's "_mta-sts" TXT record (RFC 8461 §3.1).
type Record struct {
	// ID identifies the policy instance: a change tells senders to
	// fetch the policy again. 1 to 32 letters and digits.
	ID string
	// Extensions are the other fields, in order; none is defined.
	Extensions []Extension
}

// Extension is a name=value field the RFC leaves to later documents.
type Extension struct {
	Name, Value string
}

// String is the record in its canonical form.
func (r *Record) String() string {
	var b strings.Builder
	b.WriteString("v=STSv1; id=")
	b.WriteString(r.ID)
	b.WriteByte(';')
	for _, e := range r.Extensions {
		b.WriteString(" " + e.Name + "=" + e.Value + ";")
	}
	return b.String()
}

const version = "STSv1"

// isRecord is the filter of RFC 8461 §3.1: records that do not begin
// with "v=STSv1" are someone else's and discarded before counting.
// Erratum 6285 allows white space before the ";", so "v=STSv1 ;"
// counts as well as "v=STSv1;".
func isRecord(txt string) bool {
	rest, ok := strings.CutPrefix(txt, "v="+version)
	return ok && (rest == "" || rest[0] == ';' || rest[0] == ' ' || rest[0] == '\t')
}

// ParseRecord parses an MTA-STS TXT record:
//
//	v=STSv1; id=20240101T000000;
//
// The version comes first and exactly once, the id exactly once;
// fields are separated by ";" with optional white space, and one
// trailing ";" is allowed. Errors are *SyntaxError.
func ParseRecord(txt string) (*Record, error) {
	if !isRecord(txt) {
		return nil, syntaxError("record", 0, txt, `does not begin with "v=STSv1"`)
	}
	rest := txt[len("v="+version):]
	rec := &Record{}
	seenID := false
	for {
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			break
		}
		if rest[0] != ';' {
			return nil, syntaxError("record", 0, rest, `want ";" between fields`)
		}
		rest = strings.TrimLeft(rest[1:], " \t")
		if rest == "" {
			break // the optional trailing delimiter
		}
		field := rest
		if i := strings.IndexAny(rest, "; \t"); i >= 0 {
			field, rest = rest[:i], rest[i:]
		} else {
			rest = ""
		}
		name, value, ok := strings.Cut(field, "=")
		switch {
		case !ok:
			return nil, syntaxError("record", 0, field, "field without =")
		case name == "id":
			if seenID {
				return nil, syntaxError("record", 0, field, "more than one id")
			}
			if !validID(value) {
				return nil, syntaxError("record", 0, field, "id must be 1 to 32 letters and digits")
			}
			rec.ID, seenID = value, true
		case name == "v":
			return nil, syntaxError("record", 0, field, "more than one v")
		case !validExtName(name):
			return nil, syntaxError("record", 0, field, "invalid field name")
		case !validRecordExtValue(value):
			return nil, syntaxError("record", 0, field, "invalid field value")
		default:
			rec.Extensions = append(rec.Extensions, Extension{name, value})
		}
	}
	if !seenID {
		return nil, syntaxError("record", 0, txt, "no id")
	}
	return rec, nil
}

// validID is 1*32(ALPHA / DIGIT).
func validID(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

// validExtName is (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."),
// shared by the record's and the policy's extension fields.
func validExtName(s string) bool {
	if len(s) == 0 || len(s) > 32 || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '_' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// validRecordExtValue is 1*(%x21-3A / %x3C / %x3E-7E): visible ASCII
// but ";" and "=".
func validRecordExtValue(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == ';' || c == '=' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// LookupRecord looks up _mta-sts.<domain> TXT. No record (NXDOMAIN, no
// TXT, or none beginning with "v=STSv1") is ErrNoRecord, more than one
// ErrMultipleRecords, a bad one a *SyntaxError; a DNS failure is
// returned wrapped, so errors.Is(err, resolver.ErrTemporary) tells a
// temporary one.
func LookupRecord(ctx context.Context, r Resolver, domain string) (*Record, error) {
	d, err := normalizeDomain(domain)
	if err != nil {
		return nil, err
	}
	if r == nil {
		r = resolver.Default()
	}
	name := "_mta-sts." + d
	txts, _, err := r.LookupTXT(ctx, name)
	if err != nil {
		if resolver.IsNoRecord(err) {
			return nil, fmt.Errorf("%w: %w", ErrNoRecord, err)
		}
		return nil, fmt.Errorf("mtasts: looking up %s TXT: %w", name, err)
	}
	var found []string
	for _, t := range txts {
		if isRecord(t) {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 0:
		return nil, ErrNoRecord
	case 1:
		return ParseRecord(found[0])
	default:
		return nil, ErrMultipleRecords
	}
}

// normalizeDomain is domain in lower case without a trailing dot, or
// an error wrapping ErrInvalidDomain when it is not an LDH name (an
// address literal, a U-label, an empty label). The policy host and URL
// are made from it, so nothing else may get into them.
func normalizeDomain(domain string) (string, error) {
	d := strings.ToLower(strings.TrimSuffix(domain, "."))
	if !validDomain(d) {
		return "", fmt.Errorf("%w: %q", ErrInvalidDomain, truncate(domain, 100))
	}
	return d, nil
}

// validDomain is an RFC 5321 Domain in lower case: LDH labels of 1 to
// 63 octets, letter or digit at both ends, 253 octets in all.
func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
