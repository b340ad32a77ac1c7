package checks

import (
	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// dmarcVerdict is what DMARC enforcement makes of a message: a refusal
// or delivery, to the Junk folder when quarantined.
type dmarcVerdict struct {
	refuse     *Refusal
	quarantine bool
}

// decideDMARC turns the DMARC outcome and the header reader's verdict
// into enforcement. When enforcing, a message whose header section a
// mail reader could read otherwise than we did (hdrErr), or whose From
// is missing or unreadable (nofrom), is refused (RFC 7489 §6.6.1 lets
// receivers reject it; Exim would deliver it as nofrom): otherwise any
// header defect would be a way around p=reject.
func decideDMARC(dm *dmarc.Outcome, hdrErr error, enforce bool) dmarcVerdict {
	if !enforce {
		return dmarcVerdict{}
	}
	if hdrErr != nil {
		return dmarcVerdict{refuse: &Refusal{Code: smtp.ReplyMailboxUnavailable, Enhanced: "5.6.0", Reason: "malformed header", Text: "Message refused: malformed header section (RFC 5322)"}}
	}
	switch dm.Status {
	case dmarc.StatusReject:
		return dmarcVerdict{refuse: &Refusal{Code: smtp.ReplyMailboxUnavailable, Enhanced: "5.7.1", Reason: "dmarc", Text: "Rejected by DMARC policy for " + dm.FromDomain}}
	case dmarc.StatusNoFrom:
		return dmarcVerdict{refuse: &Refusal{Code: smtp.ReplyMailboxUnavailable, Enhanced: "5.7.1", Reason: "dmarc nofrom", Text: "Message refused: no usable From: header field (RFC 5322, RFC 7489 section 6.6.1)"}}
	case dmarc.StatusTempError:
		return dmarcVerdict{refuse: &Refusal{Code: smtp.ReplyLocalError, Enhanced: "4.7.5", Reason: "dmarc temperror", Text: "Temporary DMARC error, try again later"}}
	case dmarc.StatusQuarantine:
		return dmarcVerdict{quarantine: true}
	}
	return dmarcVerdict{}
}
