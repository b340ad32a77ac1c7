package dmarc

import (
	"net/netip"

	"github.com/mailpolicy/mailpolicy/spf"

	"github.com/mailpolicy/mailpolicy/dkim"
)

// Policy is a DMARC requested policy (p=, sp=, np=).
type Policy string

// Policies of RFC 7489 §6.3.
const (
	PolicyNone       Policy = "none"
	PolicyQuarantine Policy = "quarantine"
	PolicyReject     Policy = "reject"
)

// AlignMode is adkim= or aspf=: 'r' (relaxed) or 's' (strict).
type AlignMode byte

// Alignment modes.
const (
	Relaxed AlignMode = 'r'
	Strict  AlignMode = 's'
)

// URI is one rua= or ruf= reporting URI with its optional size limit
// ("!10m" is MaxSize 10, Unit 'm'; MaxBytes gives it in bytes).
type URI struct {
	Address string // the URI, e.g. "mailto:dmarc@example.com"
	MaxSize uint64 // 0 when no limit was given
	Unit    byte   // 0, 'k', 'm', 'g' or 't'
}

// Record is a parsed DMARC record (RFC 7489 §6.3, with DMARCbis np= and
// psd=).
type Record struct {
	Policy          Policy // p=; PolicyNone when absent but rua= is valid (§6.6.3)
	SubdomainPolicy Policy // sp=; "" when absent
	NPPolicy        Policy // np= (DMARCbis); "" when absent
	ADKIM           AlignMode
	ASPF            AlignMode
	Percent         int      // pct=, default 100
	RUA             []URI    // aggregate report URIs
	RUF             []URI    // failure report URIs
	FailureOptions  []string // fo=: "0", "1", "d", "s"; default ["0"]
	ReportFormats   []string // rf=, default ["afrf"]
	Interval        uint32   // ri=, default 86400
	PSD             byte     // psd= (DMARCbis): 'y', 'n', 'u' or 0 when absent
	// Testing is t=y (RFC 9989 §4.7). ParseRecordRFC9989 also sets it
	// for pct=0 without a t= tag: Appendix A.6 makes t=y the
	// replacement for pct=0, which domains used for the same purpose.
	Testing bool
	Raw     string // the TXT text as published
	// Ignored lists what ParseRecordRFC9989 left out (RFC 9989 §4.8:
	// unknown tags, and values that do not parse, replaced by the
	// defaults), each as written, for diagnostics. ParseRecord, which
	// refuses such records, leaves it empty.
	Ignored []string
}

// Input is what Evaluate needs about one message.
type Input struct {
	HeaderFrom []string // raw values of every From: header field, in order
	MailFrom   string   // envelope sender ("" for <>)
	HELO       string
	ClientIP   netip.Addr
	SPF        spf.Result    // from spf.Check
	SPFDomain  string        // spf.Outcome.UsedDomain
	DKIM       []dkim.Result // from dkim.Verify: one per signature evaluated
	Disabled   bool          // control = dmarc_disable_verify: Status "off"
}

// Outcome is the result of Evaluate, in the shape of Exim's $dmarc_*
// variables.
type Outcome struct {
	Status     Status // $dmarc_status
	StatusText string // $dmarc_status_text
	UsedDomain string // $dmarc_used_domain: where the record was found (or last looked for)
	FromDomain string // the RFC5322.From domain evaluated
	// DomainPolicy is $dmarc_domain_policy: "none", "quarantine",
	// "reject", or "" when there is no usable record.
	DomainPolicy string
	AlignedSPF   bool // $dmarc_alignment_spf
	AlignedDKIM  bool // $dmarc_alignment_dkim
	Record       *Record
	Authentic    bool // the record's DNS answer was DNSSEC-authenticated
	// Sampled is false when pct= excluded the message from the policy,
	// which is then applied one step lighter (RFC 7489 §6.6.4).
	Sampled bool
	// Forensic lists the ruf mailto: addresses that should receive a
	// failure report for this message, according to fo=.
	Forensic []string
	// OrgDomain is the organizational domain of the From domain. In
	// ModeRFC9989 it comes from the DNS tree walk, which Evaluate only
	// completes when policy discovery or a relaxed alignment check
	// needed it; it is "" otherwise.
	OrgDomain string
	// Mode is the specification the outcome was evaluated under
	// (WithMode); package authres chooses its words by it.
	Mode Mode
	// AppliedPolicy is the policy after the record's options (pct=
	// sampling, t=y) for a message that passed or failed with a usable
	// record: what RFC 9989 §9.1 calls policy.dmarc. It is "" for
	// norecord, nofrom, temperror and off.
	AppliedPolicy Policy
	Err           error
}
