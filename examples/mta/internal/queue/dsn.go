package queue

import (
	"io"
	"strings"

	"github.com/mailpolicy/mailpolicy/smtp"
)

// NewRecipient is a recipient to spool with its RCPT parameters (nil:
// none): NOTIFY and ORCPT are kept for the DSNs and the next hop.
func NewRecipient(addr string, p *smtp.RcptParams) *Recipient {
	r := &Recipient{Addr: addr}
	if p != nil {
		r.Notify = p.Notify.String()
		if p.ORCPT.Type != "" {
			r.ORCPT = p.ORCPT.Type + ";" + p.ORCPT.Addr
		}
	}
	return r
}

// Notifies reports whether r asked for a DSN on cond (one of
// smtp.NotifySuccess, NotifyFailure, NotifyDelay). Without NOTIFY,
// failures and delays are reported: RFC 3461 §4.1 leaves the choice of
// FAILURE or FAILURE,DELAY to the MTA, and Exim and Postfix take the
// second.
func (r *Recipient) Notifies(cond smtp.Notify) bool {
	n := smtp.NotifyFailure | smtp.NotifyDelay
	if r.Notify != "" {
		if p, err := smtp.ParseRcptParams("NOTIFY=" + r.Notify); err == nil {
			n = p.Notify
		}
	}
	return n&cond != 0
}

// RcptParams are r's DSN parameters for a next hop that offers DSN
// (RFC 3461 §5.2.1: NOTIFY and ORCPT are passed on as received).
func (r *Recipient) RcptParams() *smtp.RcptParams {
	p := &smtp.RcptParams{}
	if r.Notify != "" {
		if q, err := smtp.ParseRcptParams("NOTIFY=" + r.Notify); err == nil {
			p.Notify = q.Notify
		}
	}
	if typ, addr, ok := strings.Cut(r.ORCPT, ";"); ok && typ != "" && addr != "" {
		p.ORCPT = smtp.OriginalRecipient{Type: typ, Addr: addr}
	}
	return p
}

// UTF8Status says whether env can go to a server that does not offer
// SMTPUTF8 (RFC 6531 §3.2 allows neither an internationalised address
// nor UTF-8 in the header there): "" when it can, because it was not
// received with SMTPUTF8 or needs none of it (it goes as ASCII mail);
// else the enhanced status of its failure, X.6.7 (RFC 6531 §3.5) when
// the sender or one of rcpts is not ASCII, X.6.9 when only the header
// of msg, the spooled message, is not (or cannot be read: it would not
// go out either). The header is scanned as it is read, never held.
func (env *Envelope) UTF8Status(rcpts []*Recipient, msg *io.SectionReader) string {
	if !env.SMTPUTF8 {
		return ""
	}
	if !isASCII(env.From) {
		return "5.6.7"
	}
	for _, r := range rcpts {
		if !isASCII(r.Addr) {
			return "5.6.7"
		}
	}
	if ok, err := headerASCII(msg); !ok || err != nil {
		return "5.6.9"
	}
	return ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
