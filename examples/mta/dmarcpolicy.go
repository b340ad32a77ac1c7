package main

import (
	"github.com/mailpolicy/mailpolicy/dmarc"
)

// dmarcVerdict is what DMARC enforcement makes of a message: a refusal
// (code != 0) or delivery, to the Junk folder when quarantined.
type dmarcVerdict struct {
	code       int
	enhanced   string
	text       string
	reason     string // for the log
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
		return dmarcVerdict{code: 550, enhanced: "5.6.0", reason: "malformed header",
			text: "Message refused: malformed header section (RFC 5322)"}
	}
	switch dm.Status {
	case dmarc.StatusReject:
		return dmarcVerdict{code: 550, enhanced: "5.7.1", reason: "dmarc", text: "Rejected by DMARC policy for " + dm.FromDomain}
	case dmarc.StatusNoFrom:
		return dmarcVerdict{code: 550, enhanced: "5.7.1", reason: "dmarc nofrom",
			text: "Message refused: no usable From: header field (RFC 5322, RFC 7489 section 6.6.1)"}
	case dmarc.StatusTempError:
		return dmarcVerdict{code: 451, enhanced: "4.7.5", reason: "dmarc temperror", text: "Temporary DMARC error, try again later"}
	case dmarc.StatusQuarantine:
		return dmarcVerdict{quarantine: true}
	}
	return dmarcVerdict{}
}
