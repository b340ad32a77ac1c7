package dmarc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mailpolicy/mailpolicy/internal/header"
)

// ErrNoFrom is the Err of a nofrom Outcome for a message without any
// From: field.
var ErrNoFrom = errors.New("dmarc: message has no From: header field")

// FromError is the Err of an Outcome when a From: field could not be
// read in full: an address that does not parse, a domain literal or a
// domain that is no host name, or a field without any address. The
// status is then at least nofrom: a From that cannot be read cannot be
// authenticated, so it never yields accept or none, and domains that
// could be found in it are still evaluated (a more severe result of
// theirs wins).
type FromError struct {
	Problems []string // one per problem, remote text quoted and cut
}

func (e *FromError) Error() string {
	return "dmarc: unusable From: " + strings.Join(e.Problems, "; ")
}

// ErrMalformedHeader is matched (errors.Is) by a *HeaderError.
var ErrMalformedHeader = errors.New("dmarc: malformed header section")

// HeaderError reports a header section that departs from RFC 5322 in a
// way that leaves field boundaries or names open to more than one
// reading (a line without a colon, an invalid field name, a NUL or bare
// CR, a continuation line first), or that has more than one From:
// field (RFC 5322 §3.6 allows one). FromHeaders still returns every
// From: value it found; a receiver that enforces DMARC should refuse
// such a message (RFC 7489 §6.6.1) rather than guess which reading a
// mail reader will show.
type HeaderError struct {
	Defects []string
}

func (e *HeaderError) Error() string {
	return "dmarc: malformed header section: " + strings.Join(e.Defects, "; ")
}

func (e *HeaderError) Is(target error) bool { return target == ErrMalformedHeader }

// FromHeaders reads a message's header section from r and returns the
// values of all its From: fields (not Resent-From:), unfolded, in
// order: the HeaderFrom of an Input. It stops at the end of the header
// section.
//
// The header is read the way receivers must (RFC 5322 with its
// obsolete syntax): every From: field is found however the other lines
// look. Defects are reported as a *HeaderError alongside the values,
// never instead of them, so a caller that only logs the error still
// evaluates the From that is there. Other errors (the reader's, or a
// header section over 1 MiB) come with no values.
func FromHeaders(r io.Reader) ([]string, error) {
	s, err := header.Read(bufio.NewReader(r), header.Options{})
	if err != nil {
		return nil, fmt.Errorf("dmarc: reading message header: %w", err)
	}
	from := s.Values("From")
	var defects []string
	for _, d := range s.Defects {
		defects = append(defects, d.String())
	}
	if len(from) > 1 {
		defects = append(defects, strconv.Itoa(len(from))+" From: fields")
	}
	if defects != nil {
		return from, &HeaderError{Defects: defects}
	}
	return from, nil
}

// fromDomains returns the distinct domains (lower-cased, in order of
// appearance) of the addresses in the From: field values, and a
// *FromError (or ErrNoFrom) when something could not be read. A value
// that does not parse is still searched for "@domain" runs, so a
// malformed field cannot hide a domain from the check.
func fromDomains(values []string) ([]string, error) {
	if len(values) == 0 {
		return nil, ErrNoFrom
	}
	var out, problems []string
	add := func(d string) bool {
		d = strings.ToLower(strings.TrimSuffix(d, "."))
		if !plausibleDomain(d) {
			return false
		}
		for _, o := range out {
			if o == d {
				return true
			}
		}
		out = append(out, d)
		return true
	}
	for _, v := range values {
		mbs, err := parseFromMailboxes(v)
		if err != nil {
			problems = append(problems, "cannot parse "+quoteCut(v))
			for _, d := range lenientDomains(v) {
				add(d)
			}
		}
		for _, mb := range mbs {
			switch {
			case mb.literal:
				problems = append(problems, "domain literal "+quoteCut(mb.domain))
			case !add(mb.domain):
				problems = append(problems, "not a host name: "+quoteCut(mb.domain))
			}
		}
		if err == nil && len(mbs) == 0 {
			problems = append(problems, "no address in "+quoteCut(v))
		}
	}
	if problems != nil {
		return out, &FromError{Problems: problems}
	}
	return out, nil
}

// quoteCut quotes remote text for an error message, 7-bit and short.
func quoteCut(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return strconv.QuoteToASCII(s)
}

// lenientDomains finds "@domain" runs in text the parser rejects.
func lenientDomains(v string) []string {
	var out []string
	for {
		i := strings.IndexByte(v, '@')
		if i < 0 {
			return out
		}
		v = v[i+1:]
		end := strings.IndexFunc(v, func(r rune) bool {
			return r <= ' ' || r == 0x7f || strings.ContainsRune("<>,;:()\"[]\\@", r)
		})
		if end < 0 {
			end = len(v)
		}
		out = append(out, v[:end])
		v = v[end:]
	}
}

// plausibleDomain accepts a multi-label host name (Unicode allowed) and
// rejects domain literals and junk.
func plausibleDomain(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, l := range strings.Split(d, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if r < 0x80 && !(r == '-' || r == '_' || isAlnum(byte(r))) {
				return false
			}
		}
	}
	return true
}
