package dmarc

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseRecordRFC9989 parses a DMARC Policy Record the way RFC 9989 has
// receivers read it, which is more forgiving than RFC 7489 (ParseRecord):
//
//   - "v=DMARC1" must come first (the value is case-sensitive), else
//     ErrNotDMARC (§4.7). Tags may follow in any order.
//   - Unknown tags, parts that are no tag=value, and values that do not
//     parse are ignored, the tag keeping its default (§4.7, §4.8), and
//     listed in Record.Ignored. That includes the historic pct=, rf=
//     and ri= (§9.3), which are read into their fields when valid but
//     never make a record unusable.
//   - p= is optional: without it the record says p=none (§4.7).
//   - A p=, sp= or np= with an invalid value makes the record act as
//     plain p=none when rua= names at least one valid URI, and makes it
//     unusable (a *RecordError: no DMARC processing, §4.10.1) otherwise.
//   - pct= no longer samples; pct=0 without t= reads as t=y (Appendix
//     A.6). Any other pct= value is kept in Percent but has no effect.
//   - rua= and ruf= keep the URIs that parse; the obsolete "!size"
//     suffix is still read into MaxSize (§4.8 obs-dmarc-report-size).
//   - A known tag given twice makes the record unusable: DMARC records
//     use DKIM's tag-list syntax (§4.7), where that invalidates the
//     whole list (RFC 6376 §3.2).
func ParseRecordRFC9989(txt string) (*Record, error) {
	r, err := parseRFC9989(txt)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Bits for the tags RFC 9989 registers (§9.3), to find repeats.
const (
	tagV = 1 << iota
	tagP
	tagSP
	tagNP
	tagADKIM
	tagASPF
	tagFO
	tagRUA
	tagRUF
	tagPSD
	tagT
	tagPct
	tagRF
	tagRI
)

func tagBit(name string) uint16 {
	switch name {
	case "v":
		return tagV
	case "p":
		return tagP
	case "sp":
		return tagSP
	case "np":
		return tagNP
	case "adkim":
		return tagADKIM
	case "aspf":
		return tagASPF
	case "fo":
		return tagFO
	case "rua":
		return tagRUA
	case "ruf":
		return tagRUF
	case "psd":
		return tagPSD
	case "t":
		return tagT
	case "pct":
		return tagPct
	case "rf":
		return tagRF
	case "ri":
		return tagRI
	}
	return 0
}

// parseRFC9989 is ParseRecordRFC9989 that also returns the record it
// read when that record is unusable (a *RecordError), because the tree
// walk still honours its psd= (§4.10 step 2 stops at any single record
// with psd=y or psd=n).
func parseRFC9989(txt string) (*Record, error) {
	if !isDMARCRecord(txt) {
		return nil, ErrNotDMARC
	}
	r := &Record{
		Policy: PolicyNone, ADKIM: Relaxed, ASPF: Relaxed, Percent: 100, Interval: 86400,
		FailureOptions: []string{"0"}, ReportFormats: []string{"afrf"}, Raw: txt,
	}
	ignore := func(part string) {
		part = trimWSP(part)
		if len(part) > 64 {
			part = part[:64] + "..."
		}
		r.Ignored = append(r.Ignored, part)
	}
	var seen uint16 = tagV
	var badPolicy, repeated string
	pctZero := false
	for _, part := range strings.Split(txt, ";")[1:] {
		if trimWSP(part) == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		name, value = strings.ToLower(trimWSP(name)), trimWSP(value)
		bit := tagBit(name)
		switch {
		case !ok || !isAlphaWord(name) || bit == 0:
			ignore(part) // not a tag, or one RFC 9989 does not know
			continue
		case seen&bit != 0:
			repeated = name
			continue
		}
		seen |= bit
		if value == "" || !isDMARCValue(value) {
			if bit&(tagP|tagSP|tagNP) != 0 && badPolicy == "" {
				badPolicy = fmt.Sprintf("invalid %s=%q", name, value)
			}
			ignore(part)
			continue
		}
		if !r.setRFC9989(name, value) {
			if bit&(tagP|tagSP|tagNP) != 0 && badPolicy == "" {
				badPolicy = fmt.Sprintf("invalid %s=%q", name, value)
			}
			ignore(part)
		}
		if name == "pct" && r.Percent == 0 {
			pctZero = true
		}
	}
	if pctZero && seen&tagT == 0 {
		r.Testing = true
	}
	switch {
	case repeated != "":
		return r, &RecordError{Record: txt, Reason: fmt.Sprintf("tag %q repeated", repeated)}
	case badPolicy != "" && len(r.RUA) == 0:
		return r, &RecordError{Record: txt, Reason: badPolicy + " and no valid rua="}
	case badPolicy != "":
		// §4.10.1: act as if the record said p=none.
		r.Policy, r.SubdomainPolicy, r.NPPolicy = PolicyNone, "", ""
	}
	return r, nil
}

// setRFC9989 stores one tag's value; false when the value is invalid
// (the field keeps its default).
func (r *Record) setRFC9989(name, value string) bool {
	switch name {
	case "p", "sp", "np":
		p, ok := parsePolicy(value)
		switch {
		case !ok:
		case name == "p":
			r.Policy = p
		case name == "sp":
			r.SubdomainPolicy = p
		default:
			r.NPPolicy = p
		}
		return ok
	case "adkim", "aspf":
		m, ok := parseAlign(value)
		if ok && name == "adkim" {
			r.ADKIM = m
		} else if ok {
			r.ASPF = m
		}
		return ok
	case "fo":
		fo, ok := parseFO9989(value)
		if ok {
			r.FailureOptions = fo
		}
		return ok
	case "rua", "ruf":
		uris, all := parseURIs9989(value)
		if name == "rua" {
			r.RUA = uris
		} else {
			r.RUF = uris
		}
		return all
	case "psd":
		switch v := strings.ToLower(value); v {
		case "y", "n", "u":
			r.PSD = v[0]
			return true
		}
	case "t":
		switch strings.ToLower(value) {
		case "y":
			r.Testing = true
			return true
		case "n":
			return true
		}
	case "pct":
		n, err := strconv.Atoi(value)
		if err == nil && allDigits(value) && n <= 100 {
			r.Percent = n
			return true
		}
	case "ri":
		n, err := strconv.ParseUint(value, 10, 32)
		if err == nil && allDigits(value) {
			r.Interval = uint32(n)
			return true
		}
	case "rf":
		fmts, ok := parseColonList(value, isKeyword)
		if ok {
			r.ReportFormats = fmts
		}
		return ok
	}
	return false
}

// parseFO9989 is RFC 9989's dmarc-fo: "0" or "1" (not both) and "d"
// and "s", each at most once, colon-separated.
func parseFO9989(s string) ([]string, bool) {
	opts, ok := parseColonList(s, func(e string) bool { return e == "0" || e == "1" || e == "d" || e == "s" })
	if !ok {
		return nil, false
	}
	var policy, d, sp bool // "0" or "1", "d", "s" seen
	for _, o := range opts {
		seen := &d
		switch o {
		case "0", "1":
			seen = &policy
		case "s":
			seen = &sp
		}
		if *seen {
			return nil, false
		}
		*seen = true
	}
	return opts, true
}

// parseURIs9989 keeps the URIs of a dmarc-urilist that parse; all is
// false when some did not.
func parseURIs9989(s string) (uris []URI, all bool) {
	all = true
	for _, raw := range strings.Split(s, ",") {
		u, ok := parseURI9989(trimWSP(raw))
		if !ok {
			all = false
			continue
		}
		uris = append(uris, u)
	}
	return uris, all
}

// parseURI9989 reads a dmarc-uri (commas and "!" must be encoded) or an
// obs-dmarc-uri with its "!" size. A size too large to count is
// dropped: reporters ignore it anyway (§4.8).
func parseURI9989(raw string) (URI, bool) {
	u := URI{Address: raw}
	if i := strings.IndexByte(raw, '!'); i >= 0 {
		u.Address = raw[:i]
		size := raw[i+1:]
		if size != "" {
			if last := size[len(size)-1] | 0x20; strings.IndexByte("kmgt", last) >= 0 {
				u.Unit = last
				size = size[:len(size)-1]
			}
		}
		if !allDigits(size) {
			return URI{}, false
		}
		if n, err := strconv.ParseUint(size, 10, 64); err == nil {
			u.MaxSize = n
		} else {
			u.Unit = 0
		}
	}
	scheme, rest, ok := strings.Cut(u.Address, ":")
	if !ok || scheme == "" || rest == "" || !isScheme(scheme) || strings.ContainsAny(rest, " \t") {
		return URI{}, false
	}
	return u, true
}

// isAlphaWord is RFC 9989's tag name: 1*ALPHA.
func isAlphaWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAlpha(s[i]) {
			return false
		}
	}
	return s != ""
}

// isDMARCValue is 1*dmarc-value: printing ASCII and space, no ";", and
// the tabs that dmarc-urilist allows around its commas.
func isDMARCValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c > 0x7e {
			return false
		}
	}
	return true
}
