package bmi

import (
	"encoding/base64"
	"encoding/binary"
	"slices"
	"strings"
)

// Destination is where a verdict sends the message for its recipients.
type Destination uint8

const (
	// Default delivers normally ($bmi_deliver 1, no $bmi_alt_location).
	Default Destination = iota
	// Alternate delivers to Verdict.AltLocation ($bmi_alt_location).
	Alternate
	// None does not deliver ($bmi_deliver 0).
	None
)

// String returns "default", "alternate" or "none".
func (d Destination) String() string {
	switch d {
	case Default:
		return "default"
	case Alternate:
		return "alternate"
	case None:
		return "none"
	}
	return "invalid"
}

// Verdict is the scanner's decision for a group of recipients: the
// Go form of one Brightmail SDK verdict.
type Verdict struct {
	// Recipients are the envelope recipients the verdict applies to.
	Recipients []string
	// Destination says whether and where to deliver.
	Destination Destination
	// AltLocation names the alternate destination (typically a
	// header-like string or a folder). Only meaningful for Alternate.
	AltLocation string
	// Rules are the numbers of the rules that fired, each > 0.
	Rules []int
	// Err, when not empty, says why the scanner could not judge these
	// recipients. Such a verdict delivers to the default destination
	// and fires no rules, as in Exim.
	Err string
}

// Encoding limits: a verdict is small, and a decoder must not be talked
// into large allocations by a hostile spool line.
const (
	// MaxEncoded is the largest base64 verdict ParseVerdict accepts.
	MaxEncoded     = 64 << 10
	verdictVersion = 1
	trackerVersion = 't'
)

// Base64 returns the verdict's portable form: standard base64 of a
// versioned, length-prefixed encoding. It never contains ':' so a list
// of verdicts joins with ':' as in $bmi_verdicts. Rules are written
// sorted and without duplicates, so ParseVerdict(v.Base64()) equals v
// up to that normalisation.
func (v *Verdict) Base64() string {
	n := 32 + len(v.AltLocation) + len(v.Err) + len(v.Rules)*2
	for _, r := range v.Recipients {
		n += len(r) + 2
	}
	b := make([]byte, 0, n+base64.StdEncoding.EncodedLen(n))
	b = append(b, verdictVersion, byte(v.Destination))
	b = binary.AppendUvarint(b, uint64(len(v.Recipients)))
	for _, r := range v.Recipients {
		b = appendString(b, r)
	}
	b = appendString(b, v.AltLocation)
	b = appendRules(b, v.Rules)
	b = appendString(b, v.Err)
	return encode64(b)
}

// TrackerBase64 returns the tracker form of the verdict: only the rules
// that fired ($bmi_base64_tracker_verdict). ParseTracker reads it back.
func (v *Verdict) TrackerBase64() string {
	b := make([]byte, 0, 16+len(v.Rules)*8)
	b = append(b, trackerVersion)
	b = appendRules(b, v.Rules)
	return encode64(b)
}

// Fired reports whether rule n fired.
func (v *Verdict) Fired(n int) bool {
	if v.Err != "" {
		return false
	}
	return slices.Contains(v.Rules, n)
}

// Validate checks what ParseVerdict would refuse: an unknown
// Destination, rule numbers ≤ 0, and control characters (CR, LF, NUL
// ...) in recipients, AltLocation or Err, which end up in headers and
// logs.
func (v *Verdict) Validate() error {
	if v.Destination > None {
		return &FormatError{What: "verdict", Reason: "unknown destination"}
	}
	for _, r := range v.Recipients {
		if !clean(r) || r == "" {
			return &FormatError{What: "verdict", Reason: "bad recipient"}
		}
	}
	if !clean(v.AltLocation) {
		return &FormatError{What: "verdict", Reason: "control character in alternate location"}
	}
	if !clean(v.Err) {
		return &FormatError{What: "verdict", Reason: "control character in error"}
	}
	for _, n := range v.Rules {
		if n <= 0 || n > maxRule {
			return &FormatError{What: "verdict", Reason: "rule number out of range"}
		}
	}
	return nil
}

const maxRule = 1<<31 - 1

// ParseVerdict decodes the output of Base64. Errors are *FormatError.
func ParseVerdict(s string) (*Verdict, error) {
	b, err := decode64(s, "verdict")
	if err != nil {
		return nil, err
	}
	d := decoder{b: b, what: "verdict"}
	if d.byte() != verdictVersion {
		return nil, d.fail("unknown version")
	}
	v := &Verdict{Destination: Destination(d.byte())}
	n := d.count(1)
	if n > 0 {
		v.Recipients = make([]string, 0, n)
	}
	for i := 0; i < n && d.err == nil; i++ {
		v.Recipients = append(v.Recipients, d.string())
	}
	v.AltLocation = d.string()
	v.Rules = d.rules()
	v.Err = d.string()
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return nil, d.err
	}
	if err := v.Validate(); err != nil {
		return nil, err
	}
	return v, nil
}

// ParseTracker decodes the output of TrackerBase64 into rule numbers.
func ParseTracker(s string) ([]int, error) {
	b, err := decode64(s, "tracker")
	if err != nil {
		return nil, err
	}
	d := decoder{b: b, what: "tracker"}
	if d.byte() != trackerVersion {
		return nil, d.fail("unknown version")
	}
	rules := d.rules()
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return nil, d.err
	}
	return rules, nil
}

// encode64 encodes into the spare capacity of b when there is room.
func encode64(b []byte) string {
	return string(base64.StdEncoding.AppendEncode(b[len(b):], b))
}

// decode64 returns the decoded bytes as a string, so that the strings
// a verdict holds are slices of one allocation.
func decode64(s, what string) (string, error) {
	if len(s) > MaxEncoded {
		return "", &FormatError{What: what, Reason: "too long"}
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return "", &FormatError{What: what, Reason: "bad base64"}
	}
	return string(b), nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendRules writes the rule numbers ascending, without duplicates,
// as deltas so that a typical verdict stays a few bytes long.
func appendRules(b []byte, rules []int) []byte {
	sorted := rules
	if !slices.IsSorted(rules) {
		sorted = slices.Clone(rules)
		slices.Sort(sorted)
	}
	n, prev := 0, 0
	for i, r := range sorted {
		if r > 0 && (i == 0 || r != sorted[i-1]) {
			n++
		}
	}
	b = binary.AppendUvarint(b, uint64(n))
	for i, r := range sorted {
		if r > 0 && (i == 0 || r != sorted[i-1]) {
			b = binary.AppendUvarint(b, uint64(r-prev))
			prev = r
		}
	}
	return b
}

type decoder struct {
	b    string
	what string
	err  error
}

func (d *decoder) fail(reason string) error {
	if d.err == nil {
		d.err = &FormatError{What: d.what, Reason: reason}
	}
	d.b = ""
	return d.err
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	var v uint64
	for i := 0; i < len(d.b) && i < binary.MaxVarintLen64; i++ {
		c := d.b[i]
		if i == binary.MaxVarintLen64-1 && c > 1 {
			break
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			d.b = d.b[i+1:]
			return v
		}
	}
	d.fail("truncated")
	return 0
}

// count reads an element count and checks it against the bytes left,
// each element taking at least min bytes.
func (d *decoder) count(min int) int {
	n := d.uvarint()
	if d.err != nil {
		return 0
	}
	if n > uint64(len(d.b)/min) {
		d.fail("count exceeds data")
		return 0
	}
	return int(n)
}

func (d *decoder) string() string {
	n := d.count(1)
	if d.err != nil {
		return ""
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) rules() []int {
	n := d.count(1)
	if d.err != nil || n == 0 {
		return nil
	}
	rules := make([]int, 0, n)
	prev := uint64(0)
	for i := 0; i < n; i++ {
		delta := d.uvarint()
		if d.err != nil {
			return nil
		}
		if delta == 0 || delta > maxRule-prev {
			d.fail("bad rule number")
			return nil
		}
		prev += delta
		rules = append(rules, int(prev))
	}
	return rules
}

// clean reports whether s has no ASCII control characters, so it cannot
// break a header, a spool line or a log line.
func clean(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
