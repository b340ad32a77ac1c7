package report

import (
	"cmp"
	"encoding/xml"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc"
)

// Reporter is the organisation sending the reports.
type Reporter struct {
	OrgName          string // report_metadata/org_name
	Email            string // report_metadata/email: the reporter's contact address
	ExtraContactInfo string // optional
	// ReportIDPrefix is put in front of every report_id, to keep the IDs
	// of several reporting hosts of one organisation apart.
	ReportIDPrefix string
}

// Aggregate builds one report per policy domain (HistoryEntry
// PolicyDomain, lower-cased) from the history entries received between
// begin and end, both included at one-second resolution: pass the last
// second of the period as end (a day is begin + 86399 s), as the
// date_range of reports does. Entries without a policy domain are
// skipped. Reports are sorted by domain.
//
// Rows group the messages with the same source IP, header_from,
// envelope_from, disposition, DMARC results and raw DKIM and SPF
// results, and are sorted by source IP, header_from and envelope_from
// (then the other fields, so the order is total). Domains are
// lower-cased so that case variants count together.
//
// policy_published is taken from the domain's latest entry (by
// Received), the record as it stood at the end of the period.
//
// The report_id is ReportIDPrefix + "<domain>.<begin>.<end>" (Unix
// seconds): deterministic, so re-running a period gives the same ID and
// report receivers discard the duplicate instead of counting it twice.
//
// History codes become report words as follows:
//
//	disposition   action reject 0 and discard 1 → reject, quarantine 4
//	              → quarantine, others (accept, tempfail) → none
//	dkim, spf     align_dkim/align_spf 4 → pass, else fail
//	auth dkim     ARES 0 pass, 7 fail, 6 none, 3 neutral, 4 temperror,
//	              5 permerror, 8 policy; others (11: a signature Exim
//	              calls invalid for a non-key reason) → neutral
//	auth spf      domain mfrom with scope mfrom, or scope helo with no
//	              domain for the null sender (the file does not record
//	              the HELO name); ARES 0 pass, 7 fail, 2 softfail,
//	              3 neutral, 6 none, 4 temperror, 5 permerror; others
//	              (11: no SPF check; -1: no spf line) → none
//	p, sp         'n' none, 'q' quarantine, 'r' reject; a missing sp
//	              is written as p's value (RFC 7489 §6.3: p= then
//	              applies to subdomains); a missing p as none
//	adkim, aspf   's' → s, anything else → r
func Aggregate(entries []dmarc.HistoryEntry, begin, end time.Time, org Reporter) []*Feedback {
	b, e := begin.Unix(), end.Unix()
	type group struct {
		latest *dmarc.HistoryEntry
		rows   map[string]*Record
	}
	groups := map[string]*group{}
	for i := range entries {
		en := &entries[i]
		domain := strings.ToLower(en.PolicyDomain)
		if t := en.Received.Unix(); domain == "" || t < b || t > e {
			continue
		}
		g := groups[domain]
		if g == nil {
			g = &group{rows: map[string]*Record{}}
			groups[domain] = g
		}
		if g.latest == nil || !en.Received.Before(g.latest.Received) {
			g.latest = en
		}
		rec := recordOf(en)
		key := rowKey(rec)
		if r := g.rows[key]; r != nil {
			r.Row.Count++
		} else {
			rec.Row.Count = 1
			g.rows[key] = &rec
		}
	}
	var out []*Feedback
	for domain, g := range groups {
		f := &Feedback{
			XMLName: xml.Name{Local: "feedback"},
			Version: "1.0",
			Metadata: ReportMetadata{
				OrgName:          org.OrgName,
				Email:            org.Email,
				ExtraContactInfo: org.ExtraContactInfo,
				ReportID:         org.ReportIDPrefix + domain + "." + strconv.FormatInt(b, 10) + "." + strconv.FormatInt(e, 10),
				DateRange:        DateRange{Begin: b, End: e},
			},
			Policy: policyOf(domain, g.latest),
		}
		for _, r := range g.rows {
			f.Records = append(f.Records, *r)
		}
		slices.SortFunc(f.Records, compareRecords)
		out = append(out, f)
	}
	slices.SortFunc(out, func(x, y *Feedback) int { return strings.Compare(x.Policy.Domain, y.Policy.Domain) })
	return out
}

func recordOf(en *dmarc.HistoryEntry) Record {
	ip := ""
	if en.IPAddr.IsValid() {
		ip = en.IPAddr.Unmap().String()
	}
	mfrom := strings.ToLower(en.MailFrom)
	r := Record{
		Row: Row{
			SourceIP: ip,
			PolicyEvaluated: PolicyEvaluated{
				Disposition: disposition(en.Action),
				DKIM:        dmarcResult(en.AlignDKIM),
				SPF:         dmarcResult(en.AlignSPF),
			},
		},
		Identifiers: Identifiers{EnvelopeFrom: mfrom, HeaderFrom: strings.ToLower(en.From)},
	}
	for _, d := range en.DKIM {
		r.AuthResults.DKIM = append(r.AuthResults.DKIM, DKIMAuthResult{
			Domain: strings.ToLower(d.Domain), Selector: d.Selector, Result: dkimWord(d.Result),
		})
	}
	scope := "mfrom"
	if mfrom == "" {
		scope = "helo"
	}
	r.AuthResults.SPF = []SPFAuthResult{{Domain: mfrom, Scope: scope, Result: spfWord(en.SPF)}}
	return r
}

// rowKey identifies the rows that are counted together: every field but
// the count, each prefixed with its length so that no value can run
// into the next.
func rowKey(r Record) string {
	var b strings.Builder
	add := func(s ...string) {
		for _, x := range s {
			b.WriteString(strconv.Itoa(len(x)))
			b.WriteByte(':')
			b.WriteString(x)
		}
	}
	pe := r.Row.PolicyEvaluated
	add(r.Row.SourceIP, r.Identifiers.HeaderFrom, r.Identifiers.EnvelopeFrom, pe.Disposition, pe.DKIM, pe.SPF)
	for _, d := range r.AuthResults.DKIM {
		add("dkim", d.Domain, d.Selector, d.Result)
	}
	for _, s := range r.AuthResults.SPF {
		add("spf", s.Domain, s.Scope, s.Result)
	}
	return b.String()
}

func compareRecords(x, y Record) int {
	ax, errx := netip.ParseAddr(x.Row.SourceIP)
	ay, erry := netip.ParseAddr(y.Row.SourceIP)
	if errx == nil && erry == nil {
		if c := ax.Compare(ay); c != 0 {
			return c
		}
	} else if c := strings.Compare(x.Row.SourceIP, y.Row.SourceIP); c != 0 {
		return c
	}
	return cmp.Or(strings.Compare(x.Identifiers.HeaderFrom, y.Identifiers.HeaderFrom),
		strings.Compare(x.Identifiers.EnvelopeFrom, y.Identifiers.EnvelopeFrom),
		strings.Compare(rowKey(x), rowKey(y)))
}

func policyOf(domain string, en *dmarc.HistoryEntry) PolicyPublished {
	p := policyWord(en.P)
	if p == "" {
		p = "none"
	}
	sp := policyWord(en.SP)
	if sp == "" {
		sp = p
	}
	pct := en.Pct
	return PolicyPublished{
		Domain: domain,
		ADKIM:  alignWord(en.ADKIM),
		ASPF:   alignWord(en.ASPF),
		P:      p,
		SP:     sp,
		Pct:    &pct,
	}
}

func policyWord(c int) string {
	switch c {
	case 'n':
		return "none"
	case 'q':
		return "quarantine"
	case 'r':
		return "reject"
	}
	return ""
}

func alignWord(c int) string {
	if c == 's' {
		return "s"
	}
	return "r"
}

func disposition(action int) string {
	switch action {
	case dmarc.HistoryActionReject, dmarc.HistoryActionDiscard:
		return "reject"
	case dmarc.HistoryActionQuarantine:
		return "quarantine"
	}
	return "none"
}

func dmarcResult(align int) string {
	if align == dmarc.HistoryAlignPass {
		return "pass"
	}
	return "fail"
}

func dkimWord(ares int) string {
	switch ares {
	case dmarc.ARESPass:
		return "pass"
	case dmarc.ARESFail:
		return "fail"
	case dmarc.ARESNone:
		return "none"
	case dmarc.ARESTempError:
		return "temperror"
	case dmarc.ARESPermError:
		return "permerror"
	case dmarc.ARESPolicy:
		return "policy"
	}
	return "neutral"
}

func spfWord(ares int) string {
	switch ares {
	case dmarc.ARESPass:
		return "pass"
	case dmarc.ARESFail:
		return "fail"
	case dmarc.ARESSoftFail:
		return "softfail"
	case dmarc.ARESNeutral:
		return "neutral"
	case dmarc.ARESTempError:
		return "temperror"
	case dmarc.ARESPermError:
		return "permerror"
	}
	return "none"
}
