package tlsrpt

import (
	"cmp"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Organization is the reporting organization, as a report names it.
type Organization struct {
	Name    string // organization-name, e.g. "Example Mail Services"
	Contact string // contact-info: an address or URL to reach the operator
	// Domain is the submitter's domain: the TLS-Report-Submitter field,
	// the sender part of the file name and the right side of the
	// report-id (RFC 8460 §5.3). Empty means the domain of Contact (the
	// part after "@", or a URL's host).
	Domain string
}

// submitter returns the submitter domain of o.
func (o Organization) submitter() string {
	if o.Domain != "" {
		return normDomain(o.Domain)
	}
	c := strings.TrimPrefix(o.Contact, "mailto:")
	if i := strings.LastIndexByte(c, '@'); i >= 0 {
		return normDomain(strings.Trim(c[i+1:], "<> "))
	}
	if u, err := url.Parse(o.Contact); err == nil && u.Hostname() != "" {
		return normDomain(u.Hostname())
	}
	return ""
}

// Report is an RFC 8460 §4.4 aggregate report: what Reports builds and
// Parse reads. Its JSON form is the report.
type Report struct {
	OrganizationName string         `json:"organization-name"`
	DateRange        DateRange      `json:"date-range"`
	ContactInfo      string         `json:"contact-info"`
	ReportID         string         `json:"report-id"`
	Policies         []PolicyResult `json:"policies"`
	// Submitter is the submitter's domain (Organization.Domain), which
	// the report's JSON does not carry: Filename and Mail use it. Parse
	// leaves it empty.
	Submitter string `json:"-"`
}

// DateRange is the report's date-range. End is the last second the
// report covers, as in the RFC's example ("...T23:59:59Z").
type DateRange struct {
	Start time.Time `json:"start-datetime"`
	End   time.Time `json:"end-datetime"`
}

// PolicyResult is one element of policies: a policy applied to the
// policy domain and what came of the sessions under it.
type PolicyResult struct {
	Policy         Policy          `json:"policy"`
	Summary        Summary         `json:"summary"`
	FailureDetails []FailureDetail `json:"failure-details,omitempty"`
}

// Summary counts the sessions of one policy.
type Summary struct {
	TotalSuccessfulSessionCount int64 `json:"total-successful-session-count"`
	TotalFailureSessionCount    int64 `json:"total-failure-session-count"`
}

// FailureDetail is one failure-details entry. Addresses are strings,
// not netip.Addr, so that a received report with an odd one still
// parses.
type FailureDetail struct {
	ResultType            ResultType `json:"result-type"`
	SendingMTAIP          string     `json:"sending-mta-ip,omitempty"`
	ReceivingMXHostname   string     `json:"receiving-mx-hostname,omitempty"`
	ReceivingMXHelo       string     `json:"receiving-mx-helo,omitempty"`
	ReceivingIP           string     `json:"receiving-ip,omitempty"`
	FailedSessionCount    int64      `json:"failed-session-count"`
	AdditionalInformation string     `json:"additional-information,omitempty"`
	FailureReasonCode     string     `json:"failure-reason-code,omitempty"`
}

// PolicyDomain returns the domain the report is about: the policy
// domain of its policies (the first one's, for a received report that
// mixes them).
func (rep *Report) PolicyDomain() string {
	if len(rep.Policies) == 0 {
		return ""
	}
	return rep.Policies[0].Policy.Domain
}

// Reports returns one report per policy domain with sessions recorded
// on the UTC days that start in [begin, end), sorted by policy domain.
// The date range is [begin, end) (End written as end less one second),
// and the report-id is "<begin as YYYYMMDD>.<16 hex digits>@<submitter
// domain>": unique per instance, policy domain and range, and the same
// when the same range is asked for again, so that a report sent twice
// after a crash can be recognised as one (RFC 8460 §4.4 leaves the
// scheme to the reporter; §5.3 needs the msg-id form for the Subject).
func (r *Recorder) Reports(begin, end time.Time, org Organization) []*Report {
	begin, end = begin.UTC().Truncate(time.Second), end.UTC().Truncate(time.Second)
	byDomain := map[string][]*accum{}
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		for _, es := range s.m {
			for _, e := range es {
				start := dayStart(e.day)
				if start.Before(begin) || !start.Before(end) {
					continue
				}
				byDomain[e.policy.Domain] = merge(byDomain[e.policy.Domain], e)
			}
		}
		s.mu.Unlock()
	}
	submitter := org.submitter()
	idDomain := submitter
	if idDomain == "" {
		idDomain = "localhost"
	}
	reports := make([]*Report, 0, len(byDomain))
	for domain, accs := range byDomain {
		results := make([]PolicyResult, len(accs))
		for i, a := range accs {
			results[i] = a.result()
		}
		slices.SortFunc(results, comparePolicyResults)
		reports = append(reports, &Report{
			OrganizationName: org.Name,
			DateRange:        DateRange{Start: begin, End: end.Add(-time.Second)},
			ContactInfo:      org.Contact,
			ReportID:         r.reportID(domain, begin, end) + "@" + idDomain,
			Policies:         results,
			Submitter:        submitter,
		})
	}
	slices.SortFunc(reports, func(a, b *Report) int { return strings.Compare(a.PolicyDomain(), b.PolicyDomain()) })
	return reports
}

// accum sums one policy's counts over the days of a report.
type accum struct {
	policy          Policy
	success, failed int64
	details         map[detailKey]int64
}

// merge adds e, one day's counts, to the policies of its domain: a
// policy seen on several days of the range is one element.
func merge(accs []*accum, e *entry) []*accum {
	i := slices.IndexFunc(accs, func(a *accum) bool { return samePolicy(&a.policy, &e.policy) })
	if i < 0 {
		accs = append(accs, &accum{policy: clonePolicy(e.policy), details: make(map[detailKey]int64, len(e.details))})
		i = len(accs) - 1
	}
	a := accs[i]
	a.success += e.success
	a.failed += e.failed
	for k, n := range e.details {
		a.details[k] += n
	}
	return accs
}

func (a *accum) result() PolicyResult {
	pr := PolicyResult{
		Policy: a.policy,
		Summary: Summary{
			TotalSuccessfulSessionCount: a.success,
			TotalFailureSessionCount:    a.failed,
		},
	}
	if len(a.details) > 0 {
		pr.FailureDetails = make([]FailureDetail, 0, len(a.details))
		for k, n := range a.details {
			d := k.detail()
			d.FailedSessionCount = n
			pr.FailureDetails = append(pr.FailureDetails, d)
		}
		slices.SortFunc(pr.FailureDetails, compareDetails)
	}
	return pr
}

func samePolicy(a, b *Policy) bool {
	return a.Type == b.Type && a.Domain == b.Domain &&
		slices.Equal(a.Strings, b.Strings) && slices.Equal(a.MXHosts, b.MXHosts)
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func (k detailKey) detail() FailureDetail {
	return FailureDetail{
		ResultType:            k.result,
		SendingMTAIP:          addrString(k.sendingIP),
		ReceivingMXHostname:   k.mxHost,
		ReceivingMXHelo:       k.mxHelo,
		ReceivingIP:           addrString(k.recvIP),
		AdditionalInformation: k.info,
		FailureReasonCode:     k.code,
	}
}

func comparePolicyResults(a, b PolicyResult) int {
	return cmp.Or(
		strings.Compare(string(a.Policy.Type), string(b.Policy.Type)),
		slices.Compare(a.Policy.Strings, b.Policy.Strings),
		slices.Compare(a.Policy.MXHosts, b.Policy.MXHosts),
	)
}

// compareDetails orders failure-details by result type, then MX, so a
// reader finds one MX's failures together.
func compareDetails(a, b FailureDetail) int {
	return cmp.Or(
		strings.Compare(string(a.ResultType), string(b.ResultType)),
		strings.Compare(a.ReceivingMXHostname, b.ReceivingMXHostname),
		strings.Compare(a.ReceivingIP, b.ReceivingIP),
		strings.Compare(a.SendingMTAIP, b.SendingMTAIP),
		strings.Compare(a.ReceivingMXHelo, b.ReceivingMXHelo),
		strings.Compare(a.AdditionalInformation, b.AdditionalInformation),
		strings.Compare(a.FailureReasonCode, b.FailureReasonCode),
	)
}

// reportID is the left side of a report-id: the begin date and a hash
// of the instance, the domain and the range.
func (r *Recorder) reportID(domain string, begin, end time.Time) string {
	h := sha256.New()
	io.WriteString(h, r.instance)
	h.Write([]byte{0})
	io.WriteString(h, domain)
	h.Write([]byte{0})
	io.WriteString(h, strconv.FormatInt(begin.Unix(), 10)+"-"+strconv.FormatInt(end.Unix(), 10))
	return begin.Format("20060102") + "." + hex.EncodeToString(h.Sum(nil)[:8])
}

// jsonForm is the report as it is written: times in UTC (RFC 3339 with
// "Z") and an empty policies array rather than null.
func (rep *Report) jsonForm() *Report {
	c := *rep
	if c.Policies == nil {
		c.Policies = []PolicyResult{}
	}
	c.DateRange.Start = c.DateRange.Start.UTC()
	c.DateRange.End = c.DateRange.End.UTC()
	return &c
}

// WriteJSON writes the report's JSON (application/tlsrpt+json), one
// line, "<", ">" and "&" left as they are.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(rep.jsonForm())
}

// WriteGzip writes the report's JSON, gzip-compressed: the
// application/tlsrpt+gzip body of RFC 8460 §5.3 and §6.
func (rep *Report) WriteGzip(w io.Writer) error {
	gz := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(gz)
	gz.Reset(w)
	if err := rep.WriteJSON(gz); err != nil {
		gz.Close()
		return err
	}
	return gz.Close()
}

// gzipWriters keeps gzip writers for reuse: each holds about 800 KB of
// compressor state, which a day's thousand reports would otherwise
// allocate a thousand times.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// Filename returns the RFC 8460 §5.3 file name of the gzip report:
//
//	submitter!policy-domain!begin!end!unique-id.json.gz
//
// with begin and end in seconds since 1970 (the date range's), and the
// unique-id the letters and digits of the report-id's left side.
// Characters a file name or a quoted MIME parameter must not hold are
// replaced by "_".
func (rep *Report) Filename() string {
	id, _, _ := strings.Cut(rep.ReportID, "@")
	id = strings.Map(func(c rune) rune {
		if c < 0x80 && isAlnum(byte(c)) {
			return c
		}
		return -1
	}, id)
	var b strings.Builder
	b.WriteString(fileSafe(rep.Submitter))
	b.WriteByte('!')
	b.WriteString(fileSafe(rep.PolicyDomain()))
	b.WriteByte('!')
	b.WriteString(strconv.FormatInt(rep.DateRange.Start.Unix(), 10))
	b.WriteByte('!')
	b.WriteString(strconv.FormatInt(rep.DateRange.End.Unix(), 10))
	if id != "" {
		b.WriteByte('!')
		b.WriteString(id)
	}
	b.WriteString(".json.gz")
	return b.String()
}

func fileSafe(s string) string {
	return strings.Map(func(c rune) rune {
		if c < 0x80 && (isAlnum(byte(c)) || c == '.' || c == '-' || c == '_') {
			return c
		}
		return '_'
	}, s)
}
