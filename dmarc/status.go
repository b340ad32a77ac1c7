package dmarc

import "github.com/mailpolicy/mailpolicy/internal/condlist"

// Status is Exim's $dmarc_status word.
type Status string

// The words Exim's dmarc_status condition matches.
const (
	StatusAccept     Status = "accept"     // aligned pass
	StatusReject     Status = "reject"     // not aligned, policy reject
	StatusQuarantine Status = "quarantine" // not aligned, policy quarantine
	StatusNone       Status = "none"       // not aligned, policy none (also Exim's initial value)
	StatusNoRecord   Status = "norecord"   // no usable DMARC record
	StatusNoFrom     Status = "nofrom"     // no From: domain found
	StatusTempError  Status = "temperror"  // DNS temporary failure or internal error
	StatusOff        Status = "off"        // control = dmarc_disable_verify
)

// Text is Exim's $dmarc_status_text for the status ("" for off).
func (s Status) Text() string {
	switch s {
	case StatusAccept:
		return "Accept"
	case StatusReject:
		return "Reject"
	case StatusQuarantine:
		return "Quarantine"
	case StatusNone:
		return "None, Accept"
	case StatusNoRecord:
		return "No DMARC record"
	case StatusNoFrom:
		return "No From: domain found"
	case StatusTempError:
		return "Internal Policy Error"
	}
	return ""
}

func (s Status) String() string { return string(s) }

func canonStatus(w string) (string, bool) {
	switch Status(w) {
	case StatusAccept, StatusReject, StatusQuarantine, StatusNone, StatusNoRecord, StatusNoFrom, StatusTempError, StatusOff:
		return w, true
	}
	return "", false
}

// Match evaluates Exim's "dmarc_status = <list>" condition: an Exim
// string list, caseless, with "!" negation, "*" and "*suffix" and
// "^regex" items, true at a matching plain item, false at a matching
// negated one, and at the end true only if the last item was negated.
// DMARC has always used these semantics (spf.MatchList is the same). A
// literal word that is not a status word is an error naming it.
func Match(s Status, list string) (bool, error) {
	return condlist.MatchList(string(s), list, canonStatus)
}
