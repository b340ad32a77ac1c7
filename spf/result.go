package spf

import (
	"fmt"
	"strings"
)

// Result is the outcome of an SPF evaluation (RFC 7208 §2.6).
type Result int

// The RFC 7208 results. Invalid exists only because Exim (via libspf2)
// can report it; this engine never produces it from Check.
const (
	None Result = iota
	Neutral
	Pass
	Fail
	SoftFail
	TempError
	PermError
	Invalid
)

var resultNames = [...]string{
	None:      "none",
	Neutral:   "neutral",
	Pass:      "pass",
	Fail:      "fail",
	SoftFail:  "softfail",
	TempError: "temperror",
	PermError: "permerror",
	Invalid:   "(invalid)",
}

// String returns the word Exim puts in $spf_result: the libspf2 result
// string. Invalid is "(invalid)", with parentheses, as libspf2 prints it.
func (r Result) String() string {
	if r < 0 || int(r) >= len(resultNames) {
		return fmt.Sprintf("Result(%d)", int(r))
	}
	return resultNames[r]
}

// ConditionName returns the word Exim's "spf =" ACL condition matches for
// this result. It differs from String only for Invalid ("invalid").
func (r Result) ConditionName() string {
	if r == Invalid {
		return "invalid"
	}
	return r.String()
}

// ParseResult maps a result word to a Result. It accepts the RFC words,
// Exim's condition word "invalid" and libspf2's "(invalid)", and the
// deprecated Exim 4.83–4.90 aliases "err_perm" (PermError) and "err_temp"
// (TempError), mapped by their numeric value in Exim's table, not by the
// swapped wording of the old documentation. Matching is case-insensitive.
func ParseResult(s string) (Result, error) {
	w := strings.ToLower(strings.TrimSpace(s))
	switch w {
	case "err_perm":
		return PermError, nil
	case "err_temp":
		return TempError, nil
	case "invalid", "(invalid)":
		return Invalid, nil
	}
	for i, n := range resultNames {
		if n == w {
			return Result(i), nil
		}
	}
	return None, fmt.Errorf("spf: unknown result word %q", s)
}
