package dmarc

import (
	"strings"

	"github.com/mailpolicy/mailpolicy/eximvar"
)

// Variables returns the outcome as Exim's $dmarc_* variables, in a
// fixed order: dmarc_status, dmarc_status_text, dmarc_used_domain,
// dmarc_domain_policy, dmarc_alignment_spf and dmarc_alignment_dkim
// ("yes"/"no"). Exim's $dmarc_ar_header, the Authentication-Results
// field, is package authres's: authres.FromDMARC(o) is this outcome's
// dmarc method, and authres.Build writes the field.
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
		{Name: "dmarc_alignment_spf", Value: yn(o.AlignedSPF)},
		{Name: "dmarc_alignment_dkim", Value: yn(o.AlignedDKIM)},
	}
}

// clean replaces control characters and the characters that would end
// a header value's token or comment, so remote text stays one value.
// Variables uses it.
func clean(s string) string {
	if strings.IndexFunc(s, func(r rune) bool {
		return r < 0x20 || r == 0x7f || r == ';' || r == '(' || r == ')' || r == '"' || r == '\\'
	}) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == ';' || r == '(' || r == ')' || r == '"' || r == '\\' {
			return '?'
		}
		return r
	}, s)
}
