package prdr

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mailpolicy/mailpolicy/smtp"
)

// A Verdict is a per-recipient decision on a message.
type Verdict int

// The three verdicts, mapped to 250, 450 and 550 as in Exim's PRDR ACL
// (accept/discard, defer, anything else).
const (
	Accept Verdict = iota
	Temporary
	Permanent
)

var verdictNames = [...]string{"accept", "temporary", "permanent"}

func (v Verdict) String() string {
	if v >= 0 && int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return "Verdict(" + strconv.Itoa(int(v)) + ")"
}

func (v Verdict) code() int {
	switch v {
	case Accept:
		return 250
	case Temporary:
		return 450
	}
	return 550
}

// A Decision is what the server's policy says about one recipient.
type Decision struct {
	Verdict Verdict
	// Code replaces the verdict's code (250, 450, 550) when it is in the
	// same class; a code of another class is ignored, as Exim does with
	// a message whose code disagrees with the ACL verdict.
	Code int
	// Enhanced is an RFC 3463 code such as "5.7.1" put before every line
	// of Text; ignored unless its class matches the verdict.
	Enhanced string
	// Text replaces the default reply text; "\n" separates the lines of
	// a multi-line reply. Empty means Exim's default text.
	Text string
}

// Reply returns the reply the decision gives for rcpt (the address
// without angle brackets), with Exim's default texts:
//
//	250 PRDR R=<rcpt> acceptance
//	450 PRDR R=<rcpt> temporary refusal
//	550 PRDR R=<rcpt> refusal
func (d Decision) Reply(rcpt string) smtp.Reply {
	v := d.Verdict
	if v < Accept || v > Permanent {
		v = Permanent
	}
	code := v.code()
	if d.Code >= 200 && d.Code <= 599 && d.Code/100 == code/100 {
		code = d.Code
	}
	text := d.Text
	if text == "" {
		text = "PRDR R=<" + rcpt + "> " + [...]string{"acceptance", "temporary refusal", "refusal"}[v]
	}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	prefix := ""
	if e, err := smtp.ParseEnhancedCode(d.Enhanced); err == nil && e.Class == code/100 {
		prefix = d.Enhanced + " "
	}
	for i, l := range lines {
		lines[i] = prefix + sanitize(l)
	}
	return smtp.Reply{Code: code, Text: lines}
}

// sanitize keeps a reply line on one line: CR, LF and other controls
// but tab become spaces.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// A Transaction is what the server knows when the message body has been
// received (after the final dot of DATA or after BDAT ... LAST).
type Transaction struct {
	// Requested is true when MAIL carried the PRDR parameter (and the
	// server advertised PRDR).
	Requested bool
	// Recipients are the addresses accepted at RCPT time, in order,
	// without angle brackets.
	Recipients []string
	// MessageID, when set, goes into the final reply as "id=<MessageID>".
	MessageID string
}

// Active reports whether the PRDR reply block is used: PRDR was
// requested and more than one recipient remains. Otherwise the server
// sends one ordinary reply.
func (t *Transaction) Active() bool { return t.Requested && len(t.Recipients) > 1 }

// A Result is the server's answer for one recipient.
type Result struct {
	Recipient string
	Verdict   Verdict
	Reply     smtp.Reply // the per-recipient reply sent (the final reply when PRDR was not active)
}

// Delivered reports whether the recipient accepted the message, that
// is whether the server must deliver it to this recipient.
func (r Result) Delivered() bool { return r.Verdict == Accept }

// An Outcome is the server's answer to one message.
type Outcome struct {
	PRDR    bool       // the 353 block was sent
	Results []Result   // one per recipient, in RCPT order
	Final   smtp.Reply // the last reply sent
}

// Accepted returns the recipients the message must be delivered to.
func (o *Outcome) Accepted() []string {
	var out []string
	for _, r := range o.Results {
		if r.Delivered() {
			out = append(out, r.Recipient)
		}
	}
	return out
}

// IntroReply is the reply that opens the PRDR block.
var IntroReply = smtp.Reply{Code: smtp.ReplyPRDRStart, Text: []string{"PRDR content analysis beginning"}}

// FinalReply computes the overall reply after the per-recipient replies
// from the verdicts, fixing Exim's bit-trick computation (see the
// package documentation):
//
//	every recipient accepted               250 [id=X ]message accepted
//	some accepted                          250 [id=X ]message accepted for some recipients
//	none accepted, at least one temporary  450 [id=X ]message temporarily rejected for all recipients
//	every recipient permanently refused    550 [id=X ]message rejected for all recipients
//
// With no verdicts at all it gives the 550.
func FinalReply(messageID string, verdicts []Verdict) smtp.Reply {
	var acc, temp int
	for _, v := range verdicts {
		switch v {
		case Accept:
			acc++
		case Temporary:
			temp++
		}
	}
	id := ""
	if messageID != "" {
		id = "id=" + sanitize(messageID) + " "
	}
	switch {
	case acc > 0 && acc == len(verdicts):
		return smtp.Reply{Code: 250, Text: []string{id + "message accepted"}}
	case acc > 0:
		return smtp.Reply{Code: 250, Text: []string{id + "message accepted for some recipients"}}
	case temp > 0:
		return smtp.Reply{Code: 450, Text: []string{id + "message temporarily rejected for all recipients"}}
	}
	return smtp.Reply{Code: 550, Text: []string{id + "message rejected for all recipients"}}
}

// A DecideFunc returns the decision for recipient number i (from 0) of
// the transaction.
type DecideFunc func(i int, rcpt string) Decision

// Respond writes the server's reply to the end of a message body to w,
// in a single Write, and returns what it sent.
//
// When t.Active, it writes the 353 intro, one reply per recipient from
// decide, in order, and the final reply of FinalReply. Otherwise it
// writes one ordinary reply: decide is still asked about every
// recipient, and the reply is FinalReply of the verdicts, except that a
// single refused recipient gets its own refusal. In that
// case a Result can say Temporary or Permanent although the client was
// told 250 ("accepted for some recipients"); the caller must then
// generate a delivery status notification for those recipients itself,
// as any non-PRDR server must.
func Respond(w io.Writer, t *Transaction, decide DecideFunc) (*Outcome, error) {
	out := &Outcome{PRDR: t.Active()}
	verdicts := make([]Verdict, 0, len(t.Recipients))
	var b strings.Builder
	if out.PRDR {
		b.WriteString(IntroReply.Wire())
	}
	for i, rcpt := range t.Recipients {
		d := decide(i, rcpt)
		rep := d.Reply(rcpt)
		v := verdictOf(rep.Code)
		verdicts = append(verdicts, v)
		out.Results = append(out.Results, Result{Recipient: rcpt, Verdict: v, Reply: rep})
		if out.PRDR {
			b.WriteString(rep.Wire())
		}
	}
	out.Final = FinalReply(t.MessageID, verdicts)
	if !out.PRDR && len(out.Results) == 1 && out.Results[0].Verdict != Accept {
		out.Final = out.Results[0].Reply
	}
	if !out.PRDR {
		for i := range out.Results {
			out.Results[i].Reply = out.Final
		}
	}
	b.WriteString(out.Final.Wire())
	if _, err := io.WriteString(w, b.String()); err != nil {
		return out, fmt.Errorf("prdr: writing replies: %w", err)
	}
	return out, nil
}

func verdictOf(code int) Verdict {
	switch code / 100 {
	case 2:
		return Accept
	case 4:
		return Temporary
	}
	return Permanent
}
