package spf

import "github.com/mailpolicy/mailpolicy/eximvar"

// Variables returns the outcome as Exim's $spf_* variables, in a fixed
// order: spf_result, spf_header_comment, spf_received, spf_smtp_comment,
// spf_used_domain, spf_result_guessed ("yes"/"no"), spf_explanation,
// spf_mechanism. Values are header-safe (no CR, LF or other controls).
func (o *Outcome) Variables() []eximvar.Variable {
	guessed := "no"
	if o.Guessed {
		guessed = "yes"
	}
	return []eximvar.Variable{
		{Name: "spf_result", Value: o.Result.String()},
		{Name: "spf_header_comment", Value: o.HeaderComment},
		{Name: "spf_received", Value: o.Received},
		{Name: "spf_smtp_comment", Value: o.SMTPComment},
		{Name: "spf_used_domain", Value: o.UsedDomain},
		{Name: "spf_result_guessed", Value: guessed},
		{Name: "spf_explanation", Value: o.Explanation},
		{Name: "spf_mechanism", Value: o.Mechanism},
	}
}
