package report

import "encoding/xml"

// Feedback is an aggregate report, the <feedback> document of RFC 9990
// (Appendix A's schema) and of RFC 7489 Appendix C before it: the
// fields of both, so that either survives a Parse/Marshal round trip.
// Optional elements are omitted when empty; unknown elements (RFC
// 9990's extensions among them) are ignored by Parse.
//
// Enumerated values (dispositions, results, alignment modes, policies,
// scopes) are lower-cased and trimmed by Parse, since real reports
// capitalise them ("Pass", "None"), and known variants are mapped to
// the schema's words ("hardfail" → "fail"); other strings are kept as
// sent.
type Feedback struct {
	// XMLName keeps the document's namespace (RFC 9990 reports use
	// urn:ietf:params:xml:ns:dmarc-2.0), which Marshal writes back.
	XMLName  xml.Name        `xml:"feedback"`
	Version  string          `xml:"version,omitempty"` // "1.0" for RFC 7489 reports
	Metadata ReportMetadata  `xml:"report_metadata"`
	Policy   PolicyPublished `xml:"policy_published"`
	Records  []Record        `xml:"record"`
}

// MarshalXML writes the feedback element in the namespace of XMLName
// (the struct tag alone would drop it).
func (f Feedback) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	type plain Feedback
	start.Name = xml.Name{Space: f.XMLName.Space, Local: "feedback"}
	return e.EncodeElement(plain(f), start)
}

// ReportMetadata describes the reporter and the period.
type ReportMetadata struct {
	OrgName          string    `xml:"org_name"`
	Email            string    `xml:"email"`
	ExtraContactInfo string    `xml:"extra_contact_info,omitempty"`
	ReportID         string    `xml:"report_id"`
	DateRange        DateRange `xml:"date_range"`
	Errors           []string  `xml:"error"`
	Generator        string    `xml:"generator,omitempty"` // RFC 9990
}

// DateRange is the reporting period in seconds since the Unix epoch,
// both ends included.
type DateRange struct {
	Begin int64 `xml:"begin"`
	End   int64 `xml:"end"`
}

// PolicyPublished is the DMARC record the reporter found for Domain.
// The fields are in RFC 9990's order; Pct is RFC 7489's and stays for
// reading older reports.
type PolicyPublished struct {
	Domain          string `xml:"domain"`
	DiscoveryMethod string `xml:"discovery_method,omitempty"` // RFC 9990: "psl" or "treewalk"
	P               string `xml:"p"`                          // "none", "quarantine" or "reject"
	SP              string `xml:"sp,omitempty"`
	NP              string `xml:"np,omitempty"` // RFC 9990
	FO              string `xml:"fo,omitempty"`
	ADKIM           string `xml:"adkim,omitempty"`   // "r" or "s"
	ASPF            string `xml:"aspf,omitempty"`    // "r" or "s"
	Testing         string `xml:"testing,omitempty"` // RFC 9990: "y" or "n"
	// Pct is nil when the report has no <pct> (RFC 9990 dropped it), so
	// that pct=0 can still be written.
	Pct *int `xml:"pct,omitempty"`
}

// Record is one row of the report: Count messages from one source
// with the same identifiers and results.
type Record struct {
	Row         Row         `xml:"row"`
	Identifiers Identifiers `xml:"identifiers"`
	AuthResults AuthResults `xml:"auth_results"`
}

// Row is the source, the message count and the DMARC verdict.
type Row struct {
	// SourceIP is kept as text so that one malformed address does not
	// make a whole report unreadable.
	SourceIP        string          `xml:"source_ip"`
	Count           int64           `xml:"count"`
	PolicyEvaluated PolicyEvaluated `xml:"policy_evaluated"`
}

// PolicyEvaluated is the policy applied and the DMARC (aligned) results.
type PolicyEvaluated struct {
	Disposition string   `xml:"disposition"` // "none", "quarantine", "reject" (RFC 9990 adds "pass")
	DKIM        string   `xml:"dkim"`        // "pass" or "fail"
	SPF         string   `xml:"spf"`         // "pass" or "fail"
	Reasons     []Reason `xml:"reason"`
}

// Reason explains a disposition other than the published policy.
type Reason struct {
	Type    string `xml:"type"` // "forwarded", "sampled_out", "trusted_forwarder", "mailing_list", "local_policy", "other"
	Comment string `xml:"comment,omitempty"`
}

// Identifiers are the domains the message carried. RFC 7489 makes
// envelope_from required, so it is always written.
type Identifiers struct {
	EnvelopeTo   string `xml:"envelope_to,omitempty"`
	EnvelopeFrom string `xml:"envelope_from"`
	HeaderFrom   string `xml:"header_from"`
}

// AuthResults are the raw (unaligned) DKIM and SPF results.
type AuthResults struct {
	DKIM []DKIMAuthResult `xml:"dkim"`
	SPF  []SPFAuthResult  `xml:"spf"`
}

// DKIMAuthResult is one signature's result.
type DKIMAuthResult struct {
	Domain      string `xml:"domain"`
	Selector    string `xml:"selector,omitempty"`
	Result      string `xml:"result"` // none, pass, fail, policy, neutral, temperror, permerror
	HumanResult string `xml:"human_result,omitempty"`
}

// SPFAuthResult is the SPF result for one identity.
type SPFAuthResult struct {
	Domain      string `xml:"domain"`
	Scope       string `xml:"scope,omitempty"` // "helo" or "mfrom"
	Result      string `xml:"result"`          // none, neutral, pass, fail, softfail, temperror, permerror
	HumanResult string `xml:"human_result,omitempty"`
}

// normalize lower-cases and trims the enumerated values (see Feedback)
// and maps the misspellings reporters are known to send to the words of
// the schema, so that a report counts the same whoever wrote it.
func (f *Feedback) normalize() {
	p := &f.Policy
	for _, s := range []*string{&p.ADKIM, &p.ASPF, &p.P, &p.SP, &p.NP, &p.Testing, &p.DiscoveryMethod} {
		*s = enumValue(*s)
	}
	for _, s := range []*string{&p.P, &p.SP, &p.NP} {
		*s = alias(*s, policyAliases)
	}
	p.ADKIM, p.ASPF = alias(p.ADKIM, alignAliases), alias(p.ASPF, alignAliases)
	p.Testing = alias(p.Testing, testingAliases)
	p.DiscoveryMethod = alias(p.DiscoveryMethod, discoveryAliases)
	for i := range f.Records {
		r := &f.Records[i]
		pe := &r.Row.PolicyEvaluated
		pe.Disposition = alias(enumValue(pe.Disposition), policyAliases)
		pe.DKIM = alias(enumValue(pe.DKIM), dmarcAliases)
		pe.SPF = alias(enumValue(pe.SPF), dmarcAliases)
		for j := range pe.Reasons {
			pe.Reasons[j].Type = alias(enumValue(pe.Reasons[j].Type), reasonAliases)
		}
		for j := range r.AuthResults.DKIM {
			d := &r.AuthResults.DKIM[j]
			d.Result = alias(enumValue(d.Result), authAliases)
		}
		for j := range r.AuthResults.SPF {
			s := &r.AuthResults.SPF[j]
			s.Scope = alias(enumValue(s.Scope), scopeAliases)
			s.Result = alias(enumValue(s.Result), authAliases)
		}
	}
}

// alias returns the schema's word for s, or s when it has none.
func alias(s string, m map[string]string) string {
	if w, ok := m[s]; ok {
		return w
	}
	return s
}

// The known variants of each enumeration, lower-cased. Every target is
// a schema word, which maps to nothing, so normalizing twice changes
// nothing more.
var (
	// authAliases covers auth_results results (RFC 8601 words). The
	// RFC 7489 schema itself notes that temperror is commonly sent as
	// "unknown" and permerror as "error".
	authAliases = map[string]string{
		"hardfail": "fail", "hard_fail": "fail", "hard-fail": "fail", "failed": "fail", "failure": "fail",
		"soft_fail": "softfail", "soft-fail": "softfail",
		"passed": "pass", "success": "pass",
		"temp_error": "temperror", "temp-error": "temperror", "tempfail": "temperror", "unknown": "temperror",
		"perm_error": "permerror", "perm-error": "permerror", "permfail": "permerror", "error": "permerror",
		"": "none",
	}
	// dmarcAliases covers the aligned results of policy_evaluated,
	// which are "pass" or "fail" only.
	dmarcAliases = map[string]string{
		"hardfail": "fail", "softfail": "fail", "failed": "fail", "failure": "fail", "passed": "pass",
	}
	policyAliases = map[string]string{
		"rejected": "reject", "quarantined": "quarantine",
	}
	alignAliases     = map[string]string{"relaxed": "r", "strict": "s"}
	testingAliases   = map[string]string{"yes": "y", "no": "n", "true": "y", "false": "n"}
	discoveryAliases = map[string]string{"tree_walk": "treewalk", "tree-walk": "treewalk"}
	scopeAliases     = map[string]string{"mailfrom": "mfrom", "mail_from": "mfrom", "envelope_from": "mfrom"}
	reasonAliases    = map[string]string{"sampledout": "sampled_out", "localpolicy": "local_policy", "mailinglist": "mailing_list"}
)

// enumValue trims XML white space and lower-cases ASCII letters only,
// so that the result is stable under repetition.
func enumValue(s string) string {
	start, end := 0, len(s)
	for start < end && isXMLSpace(s[start]) {
		start++
	}
	for end > start && isXMLSpace(s[end-1]) {
		end--
	}
	s = s[start:end]
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
