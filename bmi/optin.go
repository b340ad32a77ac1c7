package bmi

import "strings"

// Envelope collects a message's BMI state during the SMTP transaction:
// whether it is to be scanned (control = bmi_run) and the recipients
// with their opt-in strings (bmi_optin). Reset it on RSET, at the end
// of each message, and do not reuse it across connections. An Envelope
// is not safe for concurrent use; one SMTP transaction is sequential.
//
// Exim keeps the pending opt-in until the next recipient is added, so
// a bmi_optin set for a RCPT that is then rejected leaks to the next
// accepted recipient. Here each RCPT starts clean: BeginRcpt (or
// RejectRcpt, or AddRecipient) drops whatever was pending.
type Envelope struct {
	// Run is control = bmi_run: scan this message.
	Run bool
	// Recipients are the accepted recipients, in order.
	Recipients []Recipient

	pending []string
}

// BeginRcpt starts a RCPT command: any opt-in left from an earlier
// RCPT is dropped.
func (e *Envelope) BeginRcpt() { e.pending = nil }

// SetOptIn is the bmi_optin ACL modifier: the colon-separated feature
// list applies to the recipient of the current RCPT once it is
// accepted. As in Exim, strings of one character or less are ignored,
// and a later SetOptIn for the same RCPT replaces an earlier one.
// Items are trimmed; empty items are dropped; "::" stands for a ':'
// inside an item, as in every Exim list.
func (e *Envelope) SetOptIn(list string) {
	if len(list) <= 1 {
		return
	}
	var features []string
	for item := range splitList(list, ":") {
		if item != "" && clean(item) {
			features = append(features, item)
		}
	}
	e.pending = features
}

// AddRecipient records an accepted RCPT with the pending opt-in, which
// it consumes, and returns the stored Recipient.
func (e *Envelope) AddRecipient(addr string) Recipient {
	r := Recipient{Address: addr, OptIn: e.pending}
	e.pending = nil
	e.Recipients = append(e.Recipients, r)
	return r
}

// RejectRcpt ends a RCPT that was not accepted: its opt-in is dropped
// and does not reach the next recipient (Exim's leak, fixed).
func (e *Envelope) RejectRcpt() { e.pending = nil }

// Reset forgets the message: Run, recipients and any pending opt-in,
// as Exim's SMTP reset does.
func (e *Envelope) Reset() { *e = Envelope{} }

// OptInString returns r's opt-in as the colon list Exim would hand the
// SDK ("" when none), with ':' inside a feature doubled.
func (r Recipient) OptInString() string {
	quoted := make([]string, len(r.OptIn))
	for i, f := range r.OptIn {
		quoted[i] = strings.ReplaceAll(f, ":", "::")
	}
	return strings.Join(quoted, ":")
}
