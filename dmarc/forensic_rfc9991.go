package dmarc

import (
	"strings"

	"github.com/mailpolicy/mailpolicy/dkim"
	"github.com/mailpolicy/mailpolicy/spf"
)

// forensicKind is one kind of failure report: Auth-Failure "dmarc",
// or for RFC 9991's fo=d and fo=s a DKIM ("bodyhash", "signature")
// or SPF ("spf") failure report of RFC 6591, about sig for DKIM.
type forensicKind struct {
	auth string
	sig  *dkim.Result
}

func (k forensicKind) subject() string {
	switch k.auth {
	case "dmarc":
		return "DMARC Failure Report"
	case "spf":
		return "SPF Failure Report"
	}
	return "DKIM Failure Report"
}

func (k forensicKind) intro() []string {
	switch k.auth {
	case "dmarc":
		return []string{
			"A message claiming to be from you has failed the published DMARC",
			"policy for your domain.",
		}
	case "spf":
		return []string{
			"A message claiming to be from you has failed the SPF check of its",
			"envelope sender (your DMARC record asks for SPF failure reports, fo=s).",
		}
	}
	return []string{
		"A message claiming to be from you carried a DKIM signature that failed",
		"to verify (your DMARC record asks for DKIM failure reports, fo=d).",
	}
}

// forensicKinds9991 decides from fo= (RFC 9989 §4.7) which reports the
// message gets: a DMARC failure report for fo=0 when neither mechanism
// gave an aligned pass and for fo=1 when either did not, a DKIM failure
// report for fo=d about the first signature that failed to verify
// (aligned or not), an SPF failure report for fo=s when SPF failed.
// Evaluate chose the recipients (Outcome.Forensic) by the same rules.
func forensicKinds9991(in *Input, o *Outcome) []forensicKind {
	fo := o.Record.FailureOptions
	if len(fo) == 0 {
		fo = []string{"0"}
	}
	var dmarcReport, dkimReport, spfReport bool
	for _, f := range fo {
		switch f {
		case "0":
			dmarcReport = dmarcReport || !o.AlignedSPF && !o.AlignedDKIM
		case "1":
			dmarcReport = dmarcReport || !o.AlignedSPF || !o.AlignedDKIM
		case "d":
			dkimReport = true
		case "s":
			spfReport = spfReport || in.SPF == spf.Fail
		}
	}
	var kinds []forensicKind
	if dmarcReport {
		kinds = append(kinds, forensicKind{auth: "dmarc"})
	}
	if dkimReport {
		for i := range in.DKIM {
			if d := &in.DKIM[i]; d.Status == dkim.StatusFail {
				auth := "signature"
				if d.Reason == dkim.ReasonBodyHashMismatch {
					auth = "bodyhash"
				}
				kinds = append(kinds, forensicKind{auth: auth, sig: d})
				break
			}
		}
	}
	if spfReport {
		kinds = append(kinds, forensicKind{auth: "spf"})
	}
	return kinds
}

// forensicAlignment9991 is RFC 9991 §4's Identity-Alignment: the
// mechanisms that failed to authenticate an aligned identity, or
// "none" when neither did.
func forensicAlignment9991(o *Outcome) string {
	switch {
	case !o.AlignedDKIM && !o.AlignedSPF:
		return "dkim, spf"
	case !o.AlignedDKIM:
		return "dkim"
	case !o.AlignedSPF:
		return "spf"
	}
	return "none"
}

// forensicFields9991 appends the ARF fields RFC 9991 §4 adds for the
// report's kind: for a DMARC report Identity-Alignment, the DKIM-*
// fields of the first signature of an aligned domain that did not pass
// and SPF-DNS when the SPF domain was aligned but did not pass; for a
// DKIM report the failed signature's DKIM-* fields; for an SPF report
// SPF-DNS.
func forensicFields9991(r []byte, in *Input, o *Outcome, c *config, k forensicKind) []byte {
	switch k.auth {
	case "dmarc":
		r = forensicField(r, "Identity-Alignment", forensicAlignment9991(o))
		if !o.AlignedDKIM {
			for i := range in.DKIM {
				d := &in.DKIM[i]
				if d.Status != dkim.StatusPass && d.Status != dkim.StatusNone && forensicAligned(c, o, d.Domain, o.Record.ADKIM) {
					r = forensicDKIMFields(r, d)
					break
				}
			}
		}
		if !o.AlignedSPF && in.SPF != spf.Pass && forensicAligned(c, o, in.SPFDomain, o.Record.ASPF) {
			r = forensicSPFFields(r, in.SPFDomain, c.forensic.spfRecords)
		}
	case "spf":
		r = forensicSPFFields(r, in.SPFDomain, c.forensic.spfRecords)
	default:
		r = forensicDKIMFields(r, k.sig)
	}
	return r
}

func forensicDKIMFields(r []byte, d *dkim.Result) []byte {
	id := d.Identifier
	if id == "" {
		id = "@" + d.Domain // RFC 6376 §3.5: i= defaults to @d=
	}
	r = forensicField(r, "DKIM-Domain", forensicASCII(d.Domain))
	r = forensicField(r, "DKIM-Identity", forensicASCII(id))
	return forensicField(r, "DKIM-Selector", forensicASCII(d.Selector))
}

// forensicSPFFields writes one SPF-DNS field per record, "txt : domain
// : record" as RFC 6591 §3.2 lays it out.
func forensicSPFFields(r []byte, domain string, records []string) []byte {
	for _, rec := range records {
		r = forensicField(r, "SPF-DNS", "txt : "+forensicASCII(domain)+" : "+forensicASCII(rec))
	}
	return r
}

// forensicAligned says whether an authenticated domain is aligned with
// the From domain under mode: equal, or for relaxed alignment with the
// same organizational domain. The outcome's OrgDomain is used for the
// From domain when Evaluate found it; the other side's comes from the
// Public Suffix List (in ModeRFC9989 the tree walk would need DNS
// queries a report builder does not make; both agree for all but
// private suffixes).
func forensicAligned(c *config, o *Outcome, domain string, mode AlignMode) bool {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	from := strings.TrimSuffix(strings.ToLower(o.FromDomain), ".")
	if domain == "" || from == "" {
		return false
	}
	if domain == from {
		return true
	}
	if mode == Strict {
		return false
	}
	fromOrg := strings.ToLower(o.OrgDomain)
	if fromOrg == "" {
		fromOrg, _ = c.orgDomain(from)
	}
	org, ok := c.orgDomain(domain)
	return ok && fromOrg != "" && strings.EqualFold(org, fromOrg)
}
