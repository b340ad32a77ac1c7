package dmarc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// RecordError is a DMARC record that cannot be used: a syntax error or
// an invalid value (RFC 7489 §6.3).
type RecordError struct {
	Record string
	Reason string
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("dmarc: malformed record %q: %s", e.Record, e.Reason)
}

// ErrNotDMARC is returned by ParseRecord for text that is not a DMARC
// record at all (it does not start with v=DMARC1).
var ErrNotDMARC = errors.New("dmarc: not a DMARC record")

// isDMARCRecord reports whether a TXT string claims to be a DMARC
// record: its first tag is "v" with the value "DMARC1".
func isDMARCRecord(txt string) bool {
	first, _, _ := strings.Cut(txt, ";")
	name, value, ok := strings.Cut(first, "=")
	return ok && strings.EqualFold(trimWSP(name), "v") && trimWSP(value) == "DMARC1"
}

// ParseRecord parses a DMARC record. Tag names are case-insensitive and
// whitespace around tags is allowed; "v=DMARC1" must come first and "p"
// (when present) second, and a tag may not repeat. An invalid p= or sp=
// with a valid rua= gives a record with policy none and no sp (RFC 7489
// §6.6.3); without a valid rua= it is an error.
func ParseRecord(txt string) (*Record, error) {
	if !isDMARCRecord(txt) {
		return nil, ErrNotDMARC
	}
	r := &Record{
		ADKIM: Relaxed, ASPF: Relaxed, Percent: 100, Interval: 86400,
		FailureOptions: []string{"0"}, ReportFormats: []string{"afrf"}, Raw: txt,
	}
	bad := func(reason string, args ...any) (*Record, error) {
		return nil, &RecordError{Record: txt, Reason: fmt.Sprintf(reason, args...)}
	}
	parts := strings.Split(txt, ";")
	// A single trailing ";" is allowed (RFC 7489's examples end with one).
	if len(parts) > 1 && trimWSP(parts[len(parts)-1]) == "" {
		parts = parts[:len(parts)-1]
	}
	if len(parts) < 2 {
		return bad("no tags after v=DMARC1")
	}
	seen := map[string]bool{}
	var pErr, spErr string
	hasP := false
	for i, part := range parts[1:] {
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return bad("tag %q has no value", trimWSP(part))
		}
		name, value = strings.ToLower(trimWSP(name)), trimWSP(value)
		if name == "" || !isTagName(name) {
			return bad("invalid tag name %q", name)
		}
		if seen[name] {
			return bad("tag %q repeated", name)
		}
		seen[name] = true
		switch name {
		case "p":
			if i != 0 {
				return bad("p= must follow v=DMARC1")
			}
			hasP = true
			if p, ok := parsePolicy(value); ok {
				r.Policy = p
			} else {
				pErr = fmt.Sprintf("invalid p=%q", value)
			}
		case "sp":
			if p, ok := parsePolicy(value); ok {
				r.SubdomainPolicy = p
			} else {
				spErr = fmt.Sprintf("invalid sp=%q", value)
			}
		case "np":
			p, ok := parsePolicy(value)
			if !ok {
				return bad("invalid np=%q", value)
			}
			r.NPPolicy = p
		case "adkim", "aspf":
			m, ok := parseAlign(value)
			if !ok {
				return bad("invalid %s=%q", name, value)
			}
			if name == "adkim" {
				r.ADKIM = m
			} else {
				r.ASPF = m
			}
		case "pct":
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 || n > 100 || !allDigits(value) {
				return bad("invalid pct=%q", value)
			}
			r.Percent = n
		case "ri":
			n, err := strconv.ParseUint(value, 10, 32)
			if err != nil || !allDigits(value) {
				return bad("invalid ri=%q", value)
			}
			r.Interval = uint32(n)
		case "fo":
			opts, ok := parseColonList(value, func(s string) bool { return s == "0" || s == "1" || s == "d" || s == "s" })
			if !ok {
				return bad("invalid fo=%q", value)
			}
			r.FailureOptions = opts
		case "rf":
			fmts, ok := parseColonList(value, isKeyword)
			if !ok {
				return bad("invalid rf=%q", value)
			}
			r.ReportFormats = fmts
		case "rua", "ruf":
			uris, err := parseURIs(value)
			if err != nil {
				return bad("invalid %s=%q: %v", name, value, err)
			}
			if name == "rua" {
				r.RUA = uris
			} else {
				r.RUF = uris
			}
		case "psd":
			switch strings.ToLower(value) {
			case "y", "n", "u":
				r.PSD = strings.ToLower(value)[0]
			default:
				return bad("invalid psd=%q", value)
			}
		case "t":
			switch strings.ToLower(value) {
			case "y":
				r.Testing = true
			case "n":
			default:
				return bad("invalid t=%q", value)
			}
		}
	}
	if !hasP || pErr != "" || spErr != "" {
		// §6.6.3: act as p=none when rua= has a valid URI, else the
		// record is unusable.
		if len(r.RUA) == 0 {
			switch {
			case pErr != "":
				return bad("%s", pErr)
			case spErr != "":
				return bad("%s", spErr)
			}
			return bad("no p= tag and no rua=")
		}
		r.Policy, r.SubdomainPolicy = PolicyNone, ""
	}
	return r, nil
}

func parsePolicy(s string) (Policy, bool) {
	switch p := Policy(strings.ToLower(s)); p {
	case PolicyNone, PolicyQuarantine, PolicyReject:
		return p, true
	}
	return "", false
}

func parseAlign(s string) (AlignMode, bool) {
	switch strings.ToLower(s) {
	case "r":
		return Relaxed, true
	case "s":
		return Strict, true
	}
	return 0, false
}

func parseColonList(s string, valid func(string) bool) ([]string, bool) {
	var out []string
	for _, e := range strings.Split(s, ":") {
		e = strings.ToLower(trimWSP(e))
		if e == "" || !valid(e) {
			return nil, false
		}
		out = append(out, e)
	}
	return out, true
}

// isKeyword: ALPHA / DIGIT / "-", not ending in "-" (RFC 7489 §6.4).
func isKeyword(s string) bool {
	if s == "" || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '-' {
			return false
		}
	}
	return true
}

// parseURIs parses a comma-separated DMARC URI list (RFC 7489 §6.4):
// each a URI with a scheme, optionally followed by "!" size [unit].
func parseURIs(s string) ([]URI, error) {
	var out []URI
	for _, raw := range strings.Split(s, ",") {
		raw = trimWSP(raw)
		u := URI{Address: raw}
		if i := strings.LastIndexByte(raw, '!'); i >= 0 {
			u.Address = raw[:i]
			size := raw[i+1:]
			if size == "" {
				return nil, errors.New("empty size after !")
			}
			if last := size[len(size)-1] | 0x20; strings.IndexByte("kmgt", last) >= 0 {
				u.Unit = last
				size = size[:len(size)-1]
			}
			n, err := strconv.ParseUint(size, 10, 64)
			if err != nil || !allDigits(size) {
				return nil, fmt.Errorf("bad size %q", raw[i+1:])
			}
			u.MaxSize = n
		}
		scheme, rest, ok := strings.Cut(u.Address, ":")
		if !ok || scheme == "" || rest == "" || !isScheme(scheme) {
			return nil, fmt.Errorf("not a URI: %q", raw)
		}
		out = append(out, u)
	}
	return out, nil
}

// MaxBytes is the size limit in bytes (0 = none); units are powers of
// 1024 as RFC 7489 §6.4 defines them.
func (u URI) MaxBytes() uint64 {
	shift := map[byte]uint{'k': 10, 'm': 20, 'g': 30, 't': 40}[u.Unit]
	if shift > 0 && u.MaxSize > (^uint64(0))>>shift {
		return ^uint64(0)
	}
	return u.MaxSize << shift
}

// Mailbox is the address of a mailto: URI ("" for other schemes),
// without any ?query part.
func (u URI) Mailbox() string {
	scheme, rest, ok := strings.Cut(u.Address, ":")
	if !ok || !strings.EqualFold(scheme, "mailto") {
		return ""
	}
	rest, _, _ = strings.Cut(rest, "?")
	return rest
}

func isScheme(s string) bool {
	if !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isTagName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' {
			return false
		}
	}
	return true
}

func trimWSP(s string) string { return strings.Trim(s, " \t") }

func isAlpha(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}
