package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Measure is what a rule counts: Exim's per_* option.
type Measure int

const (
	// PerUnset is a rule without a per_* option; it counts as PerMail
	// (Exim's default), and lets the MTA's configuration say which
	// check a rule belongs to.
	PerUnset Measure = iota
	PerConn
	PerMail
	PerRcpt
	PerByte
)

// String is Exim's option word ("per_mail" for PerUnset, its meaning).
func (m Measure) String() string {
	switch m {
	case PerConn:
		return "per_conn"
	case PerRcpt:
		return "per_rcpt"
	case PerByte:
		return "per_byte"
	}
	return "per_mail"
}

// Mode is how a rule records events: Exim's leaky, strict or readonly.
type Mode int

const (
	Leaky    Mode = iota // record only while under the limit (default)
	Strict               // record every event
	Readonly             // record nothing, count nothing
)

func (m Mode) String() string {
	switch m {
	case Strict:
		return "strict"
	case Readonly:
		return "readonly"
	}
	return "leaky"
}

// Rule is the m / p / options part of Exim's ratelimit condition.
type Rule struct {
	Limit      float64       // m, with the K/M/G suffix applied
	LimitText  string        // m as written: $sender_rate_limit
	Period     time.Duration // p
	PeriodText string        // p as written: $sender_rate_period
	Measure    Measure
	Mode       Mode
	// Count, when HasCount, replaces the per-event count (count=N).
	Count    float64
	HasCount bool
}

// ErrSyntax is wrapped by every error of ParseRule.
var ErrSyntax = errors.New("ratelimit syntax")

// maxPeriod bounds p (a time.Duration holds about 292 years).
const maxPeriod = 100 * 365 * 24 * time.Hour

// ParseRule parses "m / p [/ option]...": spaces around the slashes are
// allowed, option words are case-insensitive as in Exim. Errors wrap
// ErrSyntax and quote the part that is wrong.
func ParseRule(s string) (*Rule, error) {
	parts := strings.Split(s, "/")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return nil, fmt.Errorf("%w: %q: want \"limit / period [/ option]...\"", ErrSyntax, s)
	}
	r := &Rule{LimitText: parts[0], PeriodText: parts[1]}
	var err error
	if r.Limit, err = parseLimit(parts[0]); err != nil {
		return nil, err
	}
	if r.Period, err = ParseTime(parts[1]); err != nil {
		return nil, err
	}
	modes := 0
	for _, o := range parts[2:] {
		w := strings.ToLower(o)
		switch {
		case w == "leaky", w == "strict", w == "readonly", w == "noupdate":
			modes++
			switch w {
			case "strict":
				r.Mode = Strict
			case "readonly", "noupdate":
				r.Mode = Readonly
			default:
				r.Mode = Leaky
			}
		case w == "per_conn", w == "per_mail", w == "per_rcpt", w == "per_byte":
			m := map[string]Measure{"per_conn": PerConn, "per_mail": PerMail, "per_rcpt": PerRcpt, "per_byte": PerByte}[w]
			if r.Measure != PerUnset && r.Measure != m {
				return nil, fmt.Errorf("%w: %q: conflicting per_* options", ErrSyntax, s)
			}
			r.Measure = m
		case strings.HasPrefix(w, "count="):
			c, err := parseNumber(o[len("count="):])
			if err != nil {
				return nil, fmt.Errorf("%w: %q: count= %v", ErrSyntax, o, err)
			}
			r.Count, r.HasCount = c, true
		case w == "per_cmd", w == "per_addr", strings.HasPrefix(w, "unique="):
			return nil, fmt.Errorf("%w: %q is not implemented", ErrSyntax, o)
		case o == "":
			return nil, fmt.Errorf("%w: %q: empty option", ErrSyntax, s)
		default:
			return nil, fmt.Errorf("%w: unknown option %q (the key is chosen by the caller)", ErrSyntax, o)
		}
	}
	if modes > 1 {
		return nil, fmt.Errorf("%w: %q: conflicting update modes", ErrSyntax, s)
	}
	return r, nil
}

// String writes the rule back in Exim's syntax.
func (r *Rule) String() string {
	s := r.LimitText + " / " + r.PeriodText
	if r.Measure != PerUnset {
		s += " / " + r.Measure.String()
	}
	if r.Mode != Leaky {
		s += " / " + r.Mode.String()
	}
	if r.HasCount {
		s += " / count=" + strconv.FormatFloat(r.Count, 'g', -1, 64)
	}
	return s
}

// parseLimit is Exim's m: a non-negative number with an optional K, M
// or G (binary multiples).
func parseLimit(s string) (float64, error) {
	mul := 1.0
	switch s[len(s)-1] {
	case 'k', 'K':
		mul = 1024
	case 'm', 'M':
		mul = 1024 * 1024
	case 'g', 'G':
		mul = 1024 * 1024 * 1024
	}
	num := s
	if mul != 1 {
		num = s[:len(s)-1]
	}
	v, err := parseNumber(num)
	if err != nil {
		return 0, fmt.Errorf("%w: limit %q: %v", ErrSyntax, s, err)
	}
	return v * mul, nil
}

// parseNumber takes plain decimal notation only (digits, a point, an
// exponent): strconv.ParseFloat alone would also take "inf", "nan",
// hex floats and underscores, none of which Exim's strtod use means.
func parseNumber(s string) (float64, error) {
	if s == "" {
		return 0, errors.New("empty number")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || (c == '+' || c == '-') && i > 0 && (s[i-1] == 'e' || s[i-1] == 'E')) {
			return 0, fmt.Errorf("%q is not a positive number", s)
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a positive number", s)
	}
	return v, nil
}

// ParseTime parses an Exim time value (readconf_readtime): one or more
// <digits><unit> with the units s, m, h, d and w, as in 90s, 1h30m or
// 2w; a bare number is seconds. It must be positive and at most a
// century.
func ParseTime(s string) (time.Duration, error) {
	bad := func(why string) (time.Duration, error) {
		return 0, fmt.Errorf("%w: %q is not a time value: %s", ErrSyntax, s, why)
	}
	if s == "" {
		return bad("empty")
	}
	units := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}
	var total time.Duration
	for rest := s; rest != ""; {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return bad("a number must come before each unit")
		}
		if i > 10 {
			return bad("too large")
		}
		n, _ := strconv.ParseInt(rest[:i], 10, 64)
		unit := time.Second
		if i < len(rest) {
			u, ok := units[rest[i]]
			if !ok {
				return bad(fmt.Sprintf("unknown unit %q", rest[i]))
			}
			unit = u
			i++
		} else if rest != s {
			return bad("a unit must follow each number after the first")
		}
		if n > int64(maxPeriod/unit) {
			return bad("too large")
		}
		total += time.Duration(n) * unit
		if total > maxPeriod {
			return bad("too large")
		}
		rest = rest[i:]
	}
	if total <= 0 {
		return bad("must be positive")
	}
	return total, nil
}
