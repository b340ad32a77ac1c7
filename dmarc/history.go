package dmarc

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/spf"

	"github.com/mailpolicy/mailpolicy/dkim"
)

// ARES result codes, the numbers Exim (dmarc.h) and OpenDMARC write in
// the history file for SPF and DKIM results. opendmarc-import and the
// report tools read them, so they are part of the file format.
const (
	ARESPass      = 0
	ARESUnused    = 1
	ARESSoftFail  = 2
	ARESNeutral   = 3
	ARESTempError = 4
	ARESPermError = 5
	ARESNone      = 6
	ARESFail      = 7
	ARESPolicy    = 8
	ARESNXDomain  = 9
	ARESSigned    = 10
	ARESUnknown   = 11
	ARESDiscard   = 12
)

// History file policy codes (the "policy" line): the policy that was
// enforced, in OpenDMARC's DMARC_POLICY_* numbering.
const (
	HistoryPolicyAbsent     = 14
	HistoryPolicyPass       = 15
	HistoryPolicyReject     = 16
	HistoryPolicyQuarantine = 17
	HistoryPolicyNone       = 18
)

// History file alignment codes (align_dkim, align_spf). OpenDMARC may
// write 0 when alignment was never computed.
const (
	HistoryAlignPass = 4
	HistoryAlignFail = 5
)

// History file action codes (the "action" line): what the receiver did.
const (
	HistoryActionReject     = 0
	HistoryActionDiscard    = 1
	HistoryActionAccept     = 2
	HistoryActionTempFail   = 3
	HistoryActionQuarantine = 4
)

// HistoryEntry is one message's block of an Exim/OpenDMARC DMARC history
// file, the input of aggregate reporting. Numeric fields hold the codes
// of the file (see the ARES*, HistoryPolicy*, HistoryAlign* and
// HistoryAction* constants) so that files written by Exim, OpenDMARC and
// this package read back the same.
type HistoryEntry struct {
	Job      string    // "job": the message id
	Reporter string    // "reporter": the receiving host's name
	Received time.Time // "received": unix seconds when DMARC ran
	IPAddr   netip.Addr
	From     string // "from": the RFC5322.From domain
	MailFrom string // "mfrom": the envelope sender's domain ("" for <>)
	// SPF is the "spf" ARES code; -1 when the line is omitted (Exim
	// writes none when no SPF result was known).
	SPF          int
	DKIM         []HistoryDKIM
	PolicyDomain string   // "pdomain": where the record was found
	Policy       int      // "policy": HistoryPolicy*
	RUA          []string // "rua" URIs; nil writes "rua -"
	Pct          int
	// ADKIM, ASPF, P and SP are the ASCII codes of the first character
	// of the record's tags ('r' 114, 's' 115, 'n' 110, 'q' 113), 0 when
	// the tag is absent.
	ADKIM, ASPF, P, SP  int
	AlignDKIM, AlignSPF int // HistoryAlignPass / HistoryAlignFail
	Action              int // HistoryAction*
}

// HistoryDKIM is one "dkim <d> <s> <code>" line: a signature and its
// ARES result.
type HistoryDKIM struct {
	Domain   string
	Selector string
	Result   int
}

// NewHistoryEntry builds the history block Exim writes for a message
// (spec §2.8) from the Evaluate input and outcome. job is the message
// id, reporter the receiving host name ($primary_hostname) and received
// the time of the evaluation.
//
// Exim writes a block only when a record was found (o.Record != nil);
// callers should do the same. With no record the tag fields are 0, the
// policy is HistoryPolicyAbsent and there is no rua.
//
// Mappings:
//
//	spf        spf.Result → ARES: pass 0, fail 7, softfail 2, neutral 3,
//	           none 6, temperror 4, permerror 5, invalid (and any other) 11
//	dkim       Status "pass" 0, "fail" 7, "none" 6, "invalid" 5 when the
//	           Reason is pubkey_unavailable, pubkey_dns_syntax or
//	           pubkey_der_syntax, else 11; any other status 11
//	policy     Status accept 15, reject 16, quarantine 17, none 18,
//	           anything else (norecord, nofrom, temperror, off) 14: the
//	           policy actually enforced, so after pct= sampling
//	action     reject 0, quarantine 4, temperror 3 (tempfail), anything
//	           else 2 (accept); 1 (discard) is never produced
//	adkim ...  ASCII of the first character of adkim/aspf/p/sp, 0 if absent
//	align_*    AlignedDKIM/AlignedSPF: 4 pass, 5 fail
//	mfrom      the part of in.MailFrom after its last "@", "" for <> or
//	           an address without "@"
//	rua        each URI as published, with its "!size" suffix
//	from       o.FromDomain; pdomain o.UsedDomain
//	ipaddr     in.ClientIP, an IPv4-mapped IPv6 address written as IPv4
//	           (Exim sees such clients as IPv4)
func NewHistoryEntry(in *Input, o *Outcome, job, reporter string, received time.Time) *HistoryEntry {
	e := &HistoryEntry{
		Job:          job,
		Reporter:     reporter,
		Received:     received,
		IPAddr:       in.ClientIP.Unmap(),
		From:         o.FromDomain,
		MailFrom:     senderDomain(in.MailFrom),
		SPF:          aresSPF(in.SPF),
		PolicyDomain: o.UsedDomain,
		Policy:       historyPolicy(o.Status),
		AlignDKIM:    historyAlign(o.AlignedDKIM),
		AlignSPF:     historyAlign(o.AlignedSPF),
		Action:       historyAction(o.Status),
	}
	for _, d := range in.DKIM {
		e.DKIM = append(e.DKIM, HistoryDKIM{Domain: d.Domain, Selector: d.Selector, Result: aresDKIM(d.Status, d.Reason)})
	}
	if r := o.Record; r != nil {
		e.Pct = r.Percent
		e.ADKIM, e.ASPF = int(r.ADKIM), int(r.ASPF)
		e.P, e.SP = firstChar(string(r.Policy)), firstChar(string(r.SubdomainPolicy))
		for _, u := range r.RUA {
			e.RUA = append(e.RUA, uriText(u))
		}
	}
	return e
}

func senderDomain(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return addr[i+1:]
}

func aresSPF(r spf.Result) int {
	switch r {
	case spf.Pass:
		return ARESPass
	case spf.Fail:
		return ARESFail
	case spf.SoftFail:
		return ARESSoftFail
	case spf.Neutral:
		return ARESNeutral
	case spf.None:
		return ARESNone
	case spf.TempError:
		return ARESTempError
	case spf.PermError:
		return ARESPermError
	}
	return ARESUnknown
}

// dkimKeyProblems are the $dkim_verify_reason words of an "invalid"
// signature that Exim records as permerror rather than unknown: the key
// could not be fetched, or its DNS record or DER data is malformed.
// Exim also counts an overlong key record here; it has no reason word
// of its own (its $dkim_verify_reason is empty), so such a signature is
// recognised only if the verifier reports it as one of these.
var dkimKeyProblems = [...]dkim.Reason{
	dkim.ReasonPubkeyUnavailable, dkim.ReasonPubkeyDNSSyntax, dkim.ReasonPubkeyDERSyntax,
}

func aresDKIM(status dkim.Status, reason dkim.Reason) int {
	switch status {
	case dkim.StatusPass:
		return ARESPass
	case dkim.StatusFail:
		return ARESFail
	case dkim.StatusNone:
		return ARESNone
	case dkim.StatusInvalid:
		for _, w := range dkimKeyProblems {
			if reason == w {
				return ARESPermError
			}
		}
	}
	return ARESUnknown
}

func historyPolicy(s Status) int {
	switch s {
	case StatusAccept:
		return HistoryPolicyPass
	case StatusReject:
		return HistoryPolicyReject
	case StatusQuarantine:
		return HistoryPolicyQuarantine
	case StatusNone:
		return HistoryPolicyNone
	}
	return HistoryPolicyAbsent
}

func historyAction(s Status) int {
	switch s {
	case StatusReject:
		return HistoryActionReject
	case StatusQuarantine:
		return HistoryActionQuarantine
	case StatusTempError:
		return HistoryActionTempFail
	}
	return HistoryActionAccept
}

func historyAlign(ok bool) int {
	if ok {
		return HistoryAlignPass
	}
	return HistoryAlignFail
}

func firstChar(s string) int {
	if s == "" {
		return 0
	}
	return int(s[0])
}

func uriText(u URI) string {
	if u.MaxSize == 0 {
		return u.Address
	}
	s := u.Address + "!" + strconv.FormatUint(u.MaxSize, 10)
	if u.Unit != 0 {
		s += string(rune(u.Unit))
	}
	return s
}

// AppendTo appends the entry's block, as Exim writes it (spec §2.8,
// without the ARC lines), to b. Values come partly from the message
// (From domain, DKIM d= and s=) and the sender's DNS (rua), so control
// characters are replaced with '?' to keep a value from starting a new
// line or key; in the space-separated dkim line spaces are replaced too.
func (e *HistoryEntry) AppendTo(b []byte) []byte {
	line := func(key, value string) {
		b = append(b, key...)
		b = append(b, ' ')
		b = appendSafe(b, value, false)
		b = append(b, '\n')
	}
	num := func(key string, n int) {
		b = append(b, key...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, '\n')
	}
	line("job", e.Job)
	line("reporter", e.Reporter)
	b = append(b, "received "...)
	b = strconv.AppendInt(b, e.Received.Unix(), 10)
	b = append(b, '\n')
	ip := ""
	if e.IPAddr.IsValid() {
		ip = e.IPAddr.String()
	}
	line("ipaddr", ip)
	line("from", e.From)
	line("mfrom", e.MailFrom)
	if e.SPF >= 0 {
		num("spf", e.SPF)
	}
	for _, d := range e.DKIM {
		b = append(b, "dkim "...)
		b = appendSafe(b, d.Domain, true)
		b = append(b, ' ')
		b = appendSafe(b, d.Selector, true)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(d.Result), 10)
		b = append(b, '\n')
	}
	line("pdomain", e.PolicyDomain)
	num("policy", e.Policy)
	if len(e.RUA) == 0 {
		b = append(b, "rua -\n"...)
	}
	for _, u := range e.RUA {
		line("rua", u)
	}
	num("pct", e.Pct)
	num("adkim", e.ADKIM)
	num("aspf", e.ASPF)
	num("p", e.P)
	num("sp", e.SP)
	num("align_dkim", e.AlignDKIM)
	num("align_spf", e.AlignSPF)
	num("action", e.Action)
	return b
}

// appendSafe appends s with ASCII control characters (and, for
// space-separated fields, spaces) replaced by '?'.
func appendSafe(b []byte, s string, field bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || (field && c == ' ') {
			c = '?'
		}
		b = append(b, c)
	}
	return b
}
