package bmi

import (
	"strconv"
	"strings"

	"github.com/mailpolicy/mailpolicy/eximvar"
)

// Address is a delivery address with its parent link: an alias or a
// forward made while routing points at the address it came from, up to
// the envelope recipient. Exim's address_item has the same chain.
type Address struct {
	LocalPart string
	Domain    string
	// Parent is the address this one was generated from, nil for an
	// envelope recipient.
	Parent *Address
}

// TopLevel returns the envelope recipient a is descended from.
func (a *Address) TopLevel() *Address {
	for a.Parent != nil {
		a = a.Parent
	}
	return a
}

// Eval is one address's view of the verdicts: what Exim puts in the
// $bmi_* variables when it sets expansions for a single address, and
// what its bmi_* router preconditions test.
type Eval struct {
	// Verdict is the verdict that names the address's top-level
	// ancestor, or nil.
	Verdict *Verdict

	// checked and valid cache Verdict.Validate for Evals made by For;
	// an Eval built by hand validates on each use.
	checked, valid bool
}

// For returns the evaluation for a. Like Exim it looks up the top-level
// ancestor, so aliases and forwards inherit the verdict of the RCPT
// address, and takes the first verdict listing that recipient,
// comparing caselessly. Exim splits each listed recipient at its first
// '@' and compares the halves, so a local part containing '@' never
// matched; here the whole address is compared. Nil Verdicts (an
// unscanned message) give an Eval with no verdict.
func (vs Verdicts) For(a *Address) Eval {
	if a == nil || len(vs) == 0 {
		return Eval{}
	}
	top := a.TopLevel()
	for i := range vs {
		for _, r := range vs[i].Recipients {
			if sameAddress(r, top.LocalPart, top.Domain) {
				v := &vs[i]
				return Eval{Verdict: v, checked: true, valid: v.Validate() == nil}
			}
		}
	}
	return Eval{}
}

// ForRecipient is For for an envelope recipient given as one string,
// split at its last '@'.
func (vs Verdicts) ForRecipient(addr string) Eval {
	lp, dom := addr, ""
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		lp, dom = addr[:i], addr[i+1:]
	}
	return vs.For(&Address{LocalPart: lp, Domain: dom})
}

func sameAddress(r, lp, dom string) bool {
	return len(r) == len(lp)+1+len(dom) &&
		strings.EqualFold(r[:len(lp)], lp) && r[len(lp)] == '@' &&
		strings.EqualFold(r[len(lp)+1:], dom)
}

// usable reports whether the verdict exists, carries no error and is
// well formed; Exim treats an undecodable verdict like a missing one.
func (e Eval) usable() bool {
	if e.Verdict == nil || e.Verdict.Err != "" {
		return false
	}
	if e.checked {
		return e.valid
	}
	return e.Verdict.Validate() == nil
}

// Deliver is $bmi_deliver: false only when a usable verdict says not to
// deliver. No verdict, or one with an error, delivers.
func (e Eval) Deliver() bool {
	return !e.usable() || e.Verdict.Destination != None
}

// AltLocation is $bmi_alt_location: the alternate destination when the
// message is delivered there, else "".
func (e Eval) AltLocation() string {
	if e.usable() && e.Verdict.Destination == Alternate {
		return e.Verdict.AltLocation
	}
	return ""
}

// Base64Verdict is $bmi_base64_verdict, "" without a verdict.
func (e Eval) Base64Verdict() string {
	if e.Verdict == nil {
		return ""
	}
	return e.Verdict.Base64()
}

// Base64TrackerVerdict is $bmi_base64_tracker_verdict: the rules that
// fired, "" without a usable verdict.
func (e Eval) Base64TrackerVerdict() string {
	if !e.usable() {
		return ""
	}
	return e.Verdict.TrackerBase64()
}

// DeliverDefault is the bmi_deliver_default router precondition: the
// router runs when the address is delivered and has no alternate
// location. It holds for unscanned messages.
func (e Eval) DeliverDefault() bool { return e.Deliver() && e.AltLocation() == "" }

// DeliverAlternate is the bmi_deliver_alternate precondition: the
// router runs when the address is delivered to an alternate location.
func (e Eval) DeliverAlternate() bool { return e.Deliver() && e.AltLocation() != "" }

// DontDeliver is the bmi_dont_deliver precondition: the router runs
// only when $bmi_deliver is 0.
func (e Eval) DontDeliver() bool { return !e.Deliver() }

// RuleFired is the bmi_rule precondition: list is a colon-separated
// list of rule numbers ("5:8:11"); the router runs when the address
// has a usable verdict and at least one of them fired. As in Exim, a
// leading "<c" changes the separator, items are trimmed, each is read
// like C's "%d" (leading digits count, the rest is ignored), and items
// that give no number > 0 are skipped.
func (e Eval) RuleFired(list string) bool {
	if !e.usable() {
		return false
	}
	for n := range ruleNumbers(list) {
		if e.Verdict.Fired(n) {
			return true
		}
	}
	return false
}

// RuleList returns the rule numbers of a bmi_rule list, read as
// RuleFired reads them.
func RuleList(list string) []int {
	var rules []int
	for n := range ruleNumbers(list) {
		rules = append(rules, n)
	}
	return rules
}

func ruleNumbers(list string) func(func(int) bool) {
	return func(yield func(int) bool) {
		sep := ":"
		s := strings.TrimLeft(list, " \t\r\n")
		if len(s) >= 2 && s[0] == '<' && !isSpaceOrAlnum(s[1]) {
			sep, s = s[1:2], s[2:]
		}
		for item := range splitList(s, sep) {
			if n := scanInt(item); n > 0 && !yield(n) {
				return
			}
		}
	}
}

// splitList yields the items of an Exim list: a doubled separator
// stands for one separator character inside an item.
func splitList(s, sep string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for s != "" {
			i := strings.Index(s, sep)
			if i < 0 || !strings.HasPrefix(s[i+len(sep):], sep) {
				item := s
				if i < 0 {
					s = ""
				} else {
					item, s = s[:i], s[i+len(sep):]
				}
				if !yield(strings.TrimSpace(item)) {
					return
				}
				continue
			}
			var item strings.Builder
			for {
				i := strings.Index(s, sep)
				if i < 0 {
					item.WriteString(s)
					s = ""
					break
				}
				item.WriteString(s[:i])
				s = s[i+len(sep):]
				if !strings.HasPrefix(s, sep) {
					break
				}
				item.WriteString(sep)
				s = s[len(sep):]
			}
			if !yield(strings.TrimSpace(item.String())) {
				return
			}
		}
	}
}

// scanInt reads an integer the way sscanf("%d") does: optional blanks,
// an optional sign, digits; the rest is ignored. No digits or overflow
// gives 0.
func scanInt(s string) int {
	s = strings.TrimLeft(s, " \t\r\n\v\f")
	end := 0
	if end < len(s) && (s[end] == '+' || s[end] == '-') {
		end++
	}
	digits := end
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == digits {
		return 0
	}
	n, err := strconv.ParseInt(s[:end], 10, 32)
	if err != nil {
		return 0
	}
	return int(n)
}

func isSpaceOrAlnum(c byte) bool {
	return c == ' ' || c == '\t' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// Variables returns the address's $bmi_* variables in a fixed order:
// bmi_deliver ("1" or "0"), bmi_alt_location, bmi_base64_verdict,
// bmi_base64_tracker_verdict. Values never contain control characters.
func (e Eval) Variables() []eximvar.Variable {
	deliver := "0"
	if e.Deliver() {
		deliver = "1"
	}
	return []eximvar.Variable{
		{Name: "bmi_deliver", Value: deliver},
		{Name: "bmi_alt_location", Value: e.AltLocation()},
		{Name: "bmi_base64_verdict", Value: e.Base64Verdict()},
		{Name: "bmi_base64_tracker_verdict", Value: e.Base64TrackerVerdict()},
	}
}
