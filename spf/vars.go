package spf

// Variable is one Exim expansion variable and its value.
type Variable struct {
	Name  string
	Value string
}

// Variables returns the outcome as Exim's $spf_* variables, in a fixed
// order: spf_result, spf_header_comment, spf_received, spf_smtp_comment,
// spf_used_domain, spf_result_guessed ("yes"/"no"), spf_explanation,
// spf_mechanism. Values are header-safe (no CR, LF or other controls).
func (o *Outcome) Variables() []Variable {
	guessed := "no"
	if o.Guessed {
		guessed = "yes"
	}
	return []Variable{
		{"spf_result", o.Result.String()},
		{"spf_header_comment", o.HeaderComment},
		{"spf_received", o.Received},
		{"spf_smtp_comment", o.SMTPComment},
		{"spf_used_domain", o.UsedDomain},
		{"spf_result_guessed", guessed},
		{"spf_explanation", o.Explanation},
		{"spf_mechanism", o.Mechanism},
	}
}
