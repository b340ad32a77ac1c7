package report

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc"
)

// Destination is one reporting URI of a rua= (or ruf=) tag.
type Destination struct {
	URI string // as published, without its "!size" suffix
	// Addr is the mailbox of a mailto: URI, percent-decoded, without a
	// ?query; "" for other schemes, which this package cannot send to.
	Addr string
	// MaxSize is the "!size" limit in bytes (units k, m, g, t are powers
	// of 1024, RFC 7489 §6.2); 0 means none.
	MaxSize int64
}

// Host is the destination host RFC 9990 §4 verifies: the domain of a
// mailto: address, or the host of another URI's authority, lower-cased;
// "" when there is none.
func (d Destination) Host() string {
	if d.Addr != "" {
		return strings.ToLower(d.Addr[strings.LastIndexByte(d.Addr, '@')+1:])
	}
	u, err := url.Parse(d.URI)
	if err != nil {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
}

// DestinationError is one URI of a rua=/ruf= value that cannot be used.
type DestinationError struct {
	Value string // the comma-separated element, trimmed
	Err   error
}

func (e *DestinationError) Error() string {
	return fmt.Sprintf("report: reporting URI %q: %v", e.Value, e.Err)
}

func (e *DestinationError) Unwrap() error { return e.Err }

// maxDestinations bounds what one tag value yields; RFC 9990 lets a
// receiver limit the URIs it supports, and a record listing thousands
// is an attempt at amplification.
const maxDestinations = 32

// ParseDestinations reads the value of a rua= or ruf= tag: URIs
// separated by commas, each optionally followed by "!" and a size with
// an optional unit ("mailto:dmarc@example.com!10m"). White space around
// the URIs and empty elements are ignored.
//
// It returns every usable destination, in the order given (RFC 9990
// §5.3 wants them tried in that order), and, when some element is not,
// a join of one *DestinationError each: a URI without a scheme, a
// malformed size, a mailto: URI whose address is not local@domain, more
// than 32 URIs. Non-mailto URIs (https:, ...) are returned with Addr
// "", since RFC 9990 leaves other schemes to future documents.
func ParseDestinations(rua string) ([]Destination, error) {
	var (
		out  []Destination
		errs []error
	)
	for _, raw := range strings.Split(rua, ",") {
		raw = strings.Trim(raw, " \t\r\n")
		if raw == "" {
			continue
		}
		if len(out) == maxDestinations {
			errs = append(errs, &DestinationError{Value: raw, Err: fmt.Errorf("more than %d URIs", maxDestinations)})
			break
		}
		d, err := parseDestination(raw)
		if err != nil {
			errs = append(errs, &DestinationError{Value: raw, Err: err})
			continue
		}
		out = append(out, d)
	}
	return out, errors.Join(errs...)
}

func parseDestination(raw string) (Destination, error) {
	d := Destination{URI: raw}
	// A "!" in the URI itself must be escaped as %21 (RFC 7489 §6.2), so
	// the last one starts the size.
	if i := strings.LastIndexByte(raw, '!'); i >= 0 {
		d.URI = raw[:i]
		n, err := parseSize(raw[i+1:])
		if err != nil {
			return Destination{}, err
		}
		d.MaxSize = n
	}
	scheme, rest, ok := strings.Cut(d.URI, ":")
	if !ok || !validScheme(scheme) || rest == "" {
		return Destination{}, errors.New("not a URI")
	}
	if strings.ContainsAny(d.URI, " \t\r\n\"<>\\^`{|}") {
		return Destination{}, errors.New("characters a URI cannot hold")
	}
	if strings.IndexByte(d.URI, '!') >= 0 {
		// Two "!": the URI's own must have been written %21.
		return Destination{}, errors.New(`an unescaped "!" in the URI (write it %21)`)
	}
	if !strings.EqualFold(scheme, "mailto") {
		return d, nil
	}
	box, _, _ := strings.Cut(rest, "?")
	box, err := url.PathUnescape(box)
	if err != nil {
		return Destination{}, fmt.Errorf("mailto: %v", err)
	}
	if !plainMailbox(box) {
		return Destination{}, fmt.Errorf("mailto: %q is not a plain local@domain address", box)
	}
	at := strings.LastIndexByte(box, '@')
	d.Addr = box[:at+1] + strings.ToLower(box[at+1:])
	return d, nil
}

// parseSize reads "10", "10k", "10M"... as bytes.
func parseSize(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("empty size after \"!\"")
	}
	shift := 0
	switch s[len(s)-1] | 0x20 {
	case 'k':
		shift = 10
	case 'm':
		shift = 20
	case 'g':
		shift = 30
	case 't':
		shift = 40
	}
	digits := s
	if shift > 0 {
		digits = s[:len(s)-1]
	}
	if digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, fmt.Errorf("bad size %q", s)
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("size %q out of range", s)
	}
	return n << shift, nil
}

func validScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

// plainMailbox reports whether s is local@domain with a dot-atom local
// part and a host-name domain: an address that goes into an SMTP
// envelope and a To: field as it is.
func plainMailbox(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at > 64 || !hostname(s[at+1:]) {
		return false
	}
	return dotAtom(s[:at])
}

// dotAtom reports whether s is an RFC 5322 dot-atom-text.
func dotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !(c >= '0' && c <= '9') && c != '.' && !strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", rune(c)) {
			return false
		}
	}
	return true
}

// hostname reports whether s is an ASCII domain name (letters, digits,
// hyphens, and underscores, which DNS names of services carry), at
// most 253 octets, with a trailing dot allowed.
func hostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isAlpha(c) && !(c >= '0' && c <= '9') && c != '-' && c != '_' {
				return false
			}
		}
	}
	return true
}

// DestinationsFor returns the rua= destinations of a report made by
// Aggregate from entries: those of the latest entry for its domain in
// its period (the record as it stood at the end of it), parsed by
// ParseDestinations.
func DestinationsFor(entries []dmarc.HistoryEntry, f *Feedback) ([]Destination, error) {
	begin := time.Unix(f.Metadata.DateRange.Begin, 0)
	end := time.Unix(f.Metadata.DateRange.End+1, 0)
	var latest *dmarc.HistoryEntry
	for i := range entries {
		en := &entries[i]
		if en.Received.Before(begin) || !en.Received.Before(end) || !strings.EqualFold(en.PolicyDomain, f.Policy.Domain) {
			continue
		}
		if latest == nil || !en.Received.Before(latest.Received) {
			latest = en
		}
	}
	if latest == nil {
		return nil, nil
	}
	return ParseDestinations(strings.Join(latest.RUA, ","))
}
