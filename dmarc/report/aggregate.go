package report

import (
	"cmp"
	"encoding/xml"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/mailpolicy/mailpolicy/dmarc"
)

// Namespace is the XML namespace of RFC 9990 reports, which Aggregate
// writes.
const Namespace = "urn:ietf:params:xml:ns:dmarc-2.0"

// DefaultGenerator is the report_metadata/generator Aggregate writes
// when Reporter.Generator is empty.
const DefaultGenerator = "mailpolicy dmarc/report"

// maxSignatures is RFC 9990's bound on DKIM results per row.
const maxSignatures = 100

// Reporter is the organisation sending the reports and what it knows
// beyond the history file.
type Reporter struct {
	OrgName          string // report_metadata/org_name
	Email            string // report_metadata/email: the reporter's contact address
	ExtraContactInfo string // optional
	// ReportIDPrefix is put in front of every report_id, to keep the IDs
	// of several reporting hosts of one organisation apart. It should be
	// letters, digits, '-' and '.' so that the ID stays the dot-atom RFC
	// 9990 asks for.
	ReportIDPrefix string
	// Generator is report_metadata/generator, the software's name and
	// version; DefaultGenerator when empty.
	Generator string
	// DiscoveryMethod is policy_published/discovery_method: "psl" when
	// policies were found as RFC 7489 (Exim, the dmarc package's
	// default) does, "treewalk" with RFC 9989's DNS tree walk
	// (dmarc.WithTreeWalk). Left out when empty.
	DiscoveryMethod string
	// Policy, when set, gives a domain's DMARC record for the tags the
	// history file does not record: np, fo and testing (t=) are taken
	// from it, each with its RFC 9989 default when the record lacks it.
	// It is called once per report with the lower-cased policy domain
	// and may return nil (the three are then left out). p, sp, adkim and
	// aspf always come from the history, the record the messages were
	// evaluated against.
	Policy func(domain string) *dmarc.Record
}

// Aggregate builds one RFC 9990 report per policy domain (HistoryEntry
// PolicyDomain, lower-cased) from the history entries received in
// [begin, end): begin included, end not, so that consecutive periods
// (Day) neither overlap nor leave gaps. date_range is begin and the
// last second before end, both included as RFC 9990's timestamps are;
// pass whole seconds (a day's report is begin = 00:00:00 UTC, end = the
// next 00:00:00, see Day). Entries without a policy domain are skipped.
// Reports are sorted by domain; a domain without entries in the period
// gets none.
//
// Rows group the messages with the same source IP, header_from,
// envelope_from, disposition, DMARC results and raw DKIM and SPF
// results, and are sorted by source IP, header_from and envelope_from
// (then the other fields, so the order is total). Domains are
// lower-cased so that case variants count together. A row carries at
// most 100 DKIM results, in RFC 9990's order of preference: passing
// signatures strictly aligned with header_from, then relaxed aligned
// (organizational domains from the Public Suffix List), then other
// passes, then the rest, each group in the order the message had them.
//
// policy_published is taken from the domain's latest entry (by
// Received), the record as it stood at the end of the period, with
// Reporter.DiscoveryMethod and what Reporter.Policy adds.
//
// The report_id is ReportIDPrefix + "<domain>.<begin>.<end>" (the
// date_range's Unix seconds): unique per domain and period, and the
// same when a period is re-run, as RFC 9990 wants of a report sent
// again, so that receivers discard the duplicate instead of counting it
// twice.
//
// History codes become report words as follows:
//
//	disposition   action reject 0 and discard 1 → reject, quarantine 4
//	              → quarantine, others (accept, tempfail) → none
//	dkim, spf     align_dkim/align_spf 4 → pass, else fail
//	auth dkim     ARES 0 pass, 7 fail, 6 none, 3 neutral, 4 temperror,
//	              5 permerror, 8 policy; others (11: a signature Exim
//	              calls invalid for a non-key reason) → neutral
//	auth spf      domain mfrom with scope mfrom; for the null sender
//	              (whose check is of the HELO name, which the file does
//	              not record) an empty domain and no scope; ARES 0 pass,
//	              7 fail, 2 softfail, 3 neutral, 6 none, 4 temperror,
//	              5 permerror; others (11: no SPF check; -1: no spf
//	              line) → none
//	p, sp         'n' none, 'q' quarantine, 'r' reject; a missing sp
//	              is written as p's value (it then applies to
//	              subdomains); a missing p as none
//	adkim, aspf   's' → s, anything else → r
//
// pct is not written: RFC 9990 has no such element.
func Aggregate(entries []dmarc.HistoryEntry, begin, end time.Time, org Reporter) []*Feedback {
	b, e := begin.Unix(), end.Unix()-1
	type group struct {
		latest *dmarc.HistoryEntry
		rows   map[string]*Record
	}
	groups := map[string]*group{}
	for i := range entries {
		en := &entries[i]
		if en.PolicyDomain == "" || en.Received.Before(begin) || !en.Received.Before(end) {
			continue
		}
		domain := strings.ToLower(en.PolicyDomain)
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
	generator := org.Generator
	if generator == "" {
		generator = DefaultGenerator
	}
	var out []*Feedback
	for domain, g := range groups {
		f := &Feedback{
			XMLName: xml.Name{Space: Namespace, Local: "feedback"},
			Version: "1.0",
			Metadata: ReportMetadata{
				OrgName:          org.OrgName,
				Email:            org.Email,
				ExtraContactInfo: org.ExtraContactInfo,
				ReportID:         org.ReportIDPrefix + domain + "." + strconv.FormatInt(b, 10) + "." + strconv.FormatInt(e, 10),
				DateRange:        DateRange{Begin: b, End: e},
				Generator:        generator,
			},
			Policy: policyOf(domain, g.latest, org),
		}
		f.Records = sortedRecords(g.rows)
		out = append(out, f)
	}
	slices.SortFunc(out, func(x, y *Feedback) int { return strings.Compare(x.Policy.Domain, y.Policy.Domain) })
	return out
}

// Day returns the UTC day that holds t as a period for Aggregate: its
// 00:00:00 and the next day's. RFC 9990 reports of a day begin at
// 00:00 UTC whatever the reporter's time zone, so that reports of
// different receivers cover the same period.
func Day(t time.Time) (begin, end time.Time) {
	y, m, d := t.UTC().Date()
	begin = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return begin, begin.AddDate(0, 0, 1)
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
	r.AuthResults.DKIM = preferSignatures(r.AuthResults.DKIM, r.Identifiers.HeaderFrom)
	scope := "mfrom"
	if mfrom == "" {
		scope = ""
	}
	r.AuthResults.SPF = []SPFAuthResult{{Domain: mfrom, Scope: scope, Result: spfWord(en.SPF)}}
	return r
}

// preferSignatures orders a row's DKIM results as RFC 9990 prefers
// them and keeps the first 100.
func preferSignatures(sigs []DKIMAuthResult, from string) []DKIMAuthResult {
	if len(sigs) < 2 {
		return sigs
	}
	fromOrg := orgDomain(from)
	rank := func(d DKIMAuthResult) int {
		switch {
		case d.Result != "pass":
			return 3
		case d.Domain == from:
			return 0
		case fromOrg != "" && orgDomain(d.Domain) == fromOrg:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(sigs, func(x, y DKIMAuthResult) int { return cmp.Compare(rank(x), rank(y)) })
	if len(sigs) > maxSignatures {
		sigs = sigs[:maxSignatures]
	}
	return sigs
}

// orgDomain is the organizational domain of a lower-case domain by the
// Public Suffix List, "" when it has none (a public suffix itself).
func orgDomain(domain string) string {
	domain = strings.TrimSuffix(domain, ".")
	org, err := publicsuffix.EffectiveTLDPlusOne(domain)
	if err != nil {
		return ""
	}
	return org
}

// rowKey identifies the rows that are counted together: every field but
// the count, each prefixed with its length so that no value can run
// into the next.
func rowKey(r Record) string {
	var b strings.Builder
	b.Grow(128)
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

// sortedRecords returns the rows ordered by source IP (as addresses,
// so 192.0.2.9 comes before 192.0.2.10), header_from, envelope_from,
// then their keys. Addresses are parsed once, not per comparison.
func sortedRecords(rows map[string]*Record) []Record {
	type sortable struct {
		ip  netip.Addr
		key string
		r   *Record
	}
	s := make([]sortable, 0, len(rows))
	for key, r := range rows {
		ip, _ := netip.ParseAddr(r.Row.SourceIP)
		s = append(s, sortable{ip, key, r})
	}
	slices.SortFunc(s, func(x, y sortable) int {
		if x.ip.IsValid() && y.ip.IsValid() {
			if c := x.ip.Compare(y.ip); c != 0 {
				return c
			}
		} else if c := strings.Compare(x.r.Row.SourceIP, y.r.Row.SourceIP); c != 0 {
			return c
		}
		return cmp.Or(strings.Compare(x.r.Identifiers.HeaderFrom, y.r.Identifiers.HeaderFrom),
			strings.Compare(x.r.Identifiers.EnvelopeFrom, y.r.Identifiers.EnvelopeFrom),
			strings.Compare(x.key, y.key))
	})
	out := make([]Record, len(s))
	for i, x := range s {
		out[i] = *x.r
	}
	return out
}

func policyOf(domain string, en *dmarc.HistoryEntry, org Reporter) PolicyPublished {
	p := policyWord(en.P)
	if p == "" {
		p = "none"
	}
	sp := policyWord(en.SP)
	if sp == "" {
		sp = p
	}
	pp := PolicyPublished{
		Domain:          domain,
		DiscoveryMethod: org.DiscoveryMethod,
		P:               p,
		SP:              sp,
		ADKIM:           alignWord(en.ADKIM),
		ASPF:            alignWord(en.ASPF),
	}
	if org.Policy == nil {
		return pp
	}
	rec := org.Policy(domain)
	if rec == nil {
		return pp
	}
	// RFC 9989 defaults: np is sp's policy, fo is 0, t is n.
	pp.NP = string(rec.NPPolicy)
	if pp.NP == "" {
		pp.NP = sp
	}
	pp.FO = strings.Join(rec.FailureOptions, ":")
	if pp.FO == "" {
		pp.FO = "0"
	}
	pp.Testing = "n"
	if rec.Testing {
		pp.Testing = "y"
	}
	return pp
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
