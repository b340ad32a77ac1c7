package dmarc

// Variable is one Exim expansion variable and its value.
type Variable struct {
	Name  string
	Value string
}

// Variables returns the outcome as Exim's $dmarc_* variables, in a
// fixed order: dmarc_status, dmarc_status_text, dmarc_used_domain,
// dmarc_domain_policy, dmarc_ar_header (the Authentication-Results
// line), dmarc_alignment_spf and dmarc_alignment_dkim ("yes"/"no").
func (o *Outcome) Variables() []Variable {
	yn := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	return []Variable{
		{"dmarc_status", string(o.Status)},
		{"dmarc_status_text", o.StatusText},
		{"dmarc_used_domain", clean(o.UsedDomain)},
		{"dmarc_domain_policy", o.DomainPolicy},
		{"dmarc_ar_header", o.ARHeader},
		{"dmarc_alignment_spf", yn(o.AlignedSPF)},
		{"dmarc_alignment_dkim", yn(o.AlignedDKIM)},
	}
}
