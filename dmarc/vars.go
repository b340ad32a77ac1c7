package dmarc

import "github.com/mailpolicy/mailpolicy/eximvar"

// Variables returns the outcome as Exim's $dmarc_* variables, in a
// fixed order: dmarc_status, dmarc_status_text, dmarc_used_domain,
// dmarc_domain_policy, dmarc_ar_header (the Authentication-Results
// line), dmarc_alignment_spf and dmarc_alignment_dkim ("yes"/"no").
func (o *Outcome) Variables() []eximvar.Variable {
	yn := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	return []eximvar.Variable{
		{Name: "dmarc_status", Value: string(o.Status)},
		{Name: "dmarc_status_text", Value: o.StatusText},
		{Name: "dmarc_used_domain", Value: clean(o.UsedDomain)},
		{Name: "dmarc_domain_policy", Value: o.DomainPolicy},
		{Name: "dmarc_ar_header", Value: o.ARHeader},
		{Name: "dmarc_alignment_spf", Value: yn(o.AlignedSPF)},
		{Name: "dmarc_alignment_dkim", Value: yn(o.AlignedDKIM)},
	}
}
