package dsninfo

import (
	"net/netip"
	"strings"
	"time"
)

// DefaultDiagnosticField is the name of Exim's extra diagnostic field
// (EXPERIMENTAL_DSN_INFO), used when Report.DiagnosticField is empty.
const DefaultDiagnosticField = "X-Exim-Diagnostic"

// Exim's field names for the extra information of §11.3.
const (
	fieldGreeting = "X-Remote-MTA-smtp-greeting"
	fieldHELO     = "X-Remote-MTA-helo-response"
)

// A Report is one delivery status notification: the bounce message's
// own header fields, the human-readable text, the per-message and
// per-recipient fields of the message/delivery-status part, and the
// returned message or header.
type Report struct {
	// The bounce message's header. From defaults to
	// "Mail Delivery System <Mailer-Daemon@ReportingMTA>" and Subject to
	// "Mail delivery failed: returning message to sender" (or, when
	// every recipient is delayed, "Warning: message delayed", and when
	// none failed, as in a success notice, "Delivery Status
	// Notification"), as Exim words them; Date defaults to time.Now, MessageID to a random
	// <...@ReportingMTA>. To is the returned message's sender.
	From, To, Subject string
	Date              time.Time
	MessageID         string // with the angle brackets, as written

	// HumanText is the first, human-readable part (text/plain). Compose
	// writes a short Exim-like text when it is empty, and turns control
	// characters (but HT and line ends) and invalid UTF-8 into '?'.
	// Parse decodes base64 and quoted-printable but not the charset.
	HumanText string

	// Per-message fields.
	ReportingMTA       string    // the name in "Reporting-MTA: dns; <name>"
	ReportingMTAType   string    // lower case; Compose writes "dns" when empty
	OriginalEnvelopeID string    // Original-Envelope-ID (ENVID, xtext as given)
	ArrivalDate        time.Time // Arrival-Date; zero leaves it out
	Extra              []Field   // other per-message fields, in order

	Recipients []Recipient

	// Return is what of the original message the third part holds
	// (RET=HDRS or RET=FULL of RFC 3461); Original holds it: the header
	// only (text/rfc822-headers) or the whole message (message/rfc822).
	// ReturnNone or an empty Original leaves the part out.
	Return   Return
	Original []byte

	// DiagnosticField names Exim's extra diagnostic field; empty means
	// DefaultDiagnosticField. Compose refuses a name that is not RFC
	// 5322 ftext or is longer than 76 characters. Parse sets it only
	// when the Parser was given a name other than the default.
	DiagnosticField string

	// PlainText is set by Parse for a plain-text bounce without
	// delivery-status fields (Exim 3, old sendmail, Exchange): the
	// recipients were read from the text's sentences ("Failed addresses
	// follow:", "Did not reach the following recipient: ...",
	// "<reason>: <addr>"), Action is failed (delayed when the Subject
	// says so), Status is empty and DiagnosticCode, when found, has no
	// type. Compose ignores it.
	PlainText bool

	// Boundary is the MIME boundary Compose uses; empty picks a random
	// one. Parse sets it to the report's boundary.
	Boundary string
}

// A Recipient is one per-recipient block of the delivery-status part.
type Recipient struct {
	OriginalRecipient Typed  // Original-Recipient (ORCPT), e.g. {rfc822 a@b}
	FinalRecipient    Typed  // Final-Recipient, e.g. {rfc822 a@b}
	Action            Action // Action
	Status            string // Status, the code alone ("5.0.0"); comments dropped

	// The host the delivery attempt went to: the name of
	// "Remote-MTA: dns; <name>" and, from Exim's "Remote-MTA: X-ip;
	// [ip]:port", its address and port (25 when not written).
	RemoteMTA  string
	RemoteIP   netip.Addr
	RemotePort int

	// Exim's extra information (§11.3): the first lines of the server's
	// greeting and EHLO/HELO reply, and the address's error message
	// ($address_message, e.g. "SMTP error from remote mail server after
	// RCPT TO:<x@y>: 550 hard error"), carried in DiagnosticField.
	Greeting     string
	HELOResponse string
	Diagnostic   string

	// DiagnosticCode is the standard Diagnostic-Code field. When it is
	// empty and a remote host was used, Compose derives it from
	// Diagnostic as Exim does (EximDiagnosticCode); when it is set,
	// Compose writes it in any case (Exim itself never writes one
	// without a host).
	DiagnosticCode Typed

	LastAttemptDate time.Time // zero leaves it out
	WillRetryUntil  time.Time // written for delayed recipients only

	Extra []Field // other per-recipient fields, in order
}

// Typed is a field value of the form "type; value": an address type
// and address (Final-Recipient: rfc822; a@b) or a diagnostic type and
// text (Diagnostic-Code: smtp; 550 ...). Type is lower case; it is
// empty when the field has no valid type (some MTAs write a bare text).
// For rfc822 addresses Parse drops surrounding angle brackets.
type Typed struct {
	Type  string
	Value string
}

// String returns "type;value" (just the value when Type is empty), as
// Exim writes Final-Recipient.
func (t Typed) String() string {
	if t.Type == "" {
		return t.Value
	}
	return t.Type + ";" + t.Value
}

// IsZero reports whether t is empty.
func (t Typed) IsZero() bool { return t.Type == "" && t.Value == "" }

// Rfc822 returns an rfc822-typed value for addr.
func Rfc822(addr string) Typed { return Typed{Type: "rfc822", Value: addr} }

// A Field is one header field kept as is: its name as written and its
// unfolded value (line breaks removed, surrounding space trimmed).
type Field struct {
	Name, Value string
}

// Action is the Action field's word. The defined values are the five
// of RFC 3464 §2.3.3; Parse lower-cases what it reads and keeps other
// words (some MTAs write "deliverable") as they are.
type Action string

// The actions of RFC 3464.
const (
	Failed    Action = "failed"
	Delayed   Action = "delayed"
	Delivered Action = "delivered"
	Relayed   Action = "relayed"
	Expanded  Action = "expanded"
)

// String returns the action word.
func (a Action) String() string { return string(a) }

// Valid reports whether a is one of the five actions of RFC 3464.
func (a Action) Valid() bool {
	switch a {
	case Failed, Delayed, Delivered, Relayed, Expanded:
		return true
	}
	return false
}

// Return says what of the original message a report returns.
type Return int

const (
	ReturnNone    Return = iota // no third part
	ReturnHeaders               // RET=HDRS: text/rfc822-headers
	ReturnFull                  // RET=FULL: message/rfc822
)

// String returns "none", "hdrs" or "full".
func (r Return) String() string {
	switch r {
	case ReturnHeaders:
		return "hdrs"
	case ReturnFull:
		return "full"
	}
	return "none"
}

func (r *Report) diagnosticField() string {
	if r.DiagnosticField == "" {
		return DefaultDiagnosticField
	}
	return r.DiagnosticField
}

// allDelayed reports whether every recipient is delayed (a warning,
// not a bounce).
func (r *Report) allDelayed() bool {
	if len(r.Recipients) == 0 {
		return false
	}
	for _, rc := range r.Recipients {
		if rc.Action != Delayed {
			return false
		}
	}
	return true
}

// noneFailed reports whether no recipient failed: a warning or a
// notice of success (delivered, relayed, expanded).
func (r *Report) noneFailed() bool {
	for _, rc := range r.Recipients {
		if rc.Action == Failed {
			return false
		}
	}
	return len(r.Recipients) > 0
}

func lower(s string) string { return strings.ToLower(s) }
