package events

import (
	"strconv"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// DNSFailReason is the first field of dns:fail's $event_data.
type DNSFailReason string

// The dns:fail reasons.
const (
	ReasonNoMatch         DNSFailReason = "DNS_NOMATCH"         // NXDOMAIN
	ReasonNoData          DNSFailReason = "DNS_NODATA"          // the name exists, no record of the type
	ReasonAgain           DNSFailReason = "DNS_AGAIN"           // temporary failure
	ReasonFail            DNSFailReason = "DNS_FAIL"            // permanent failure (SERVFAIL, ...)
	ReasonNoHitYetNoCNAME DNSFailReason = "no_hit_yet_no_cname" // neither the type nor a CNAME in the answer
	ReasonBadExpand       DNSFailReason = "bad_expand"          // a CNAME target could not be expanded
	ReasonCNAMELoop       DNSFailReason = "cname_loop"          // too many CNAMEs
)

// DNSFailData returns dns:fail's $event_data, Exim's
// "<reason>:<name>:<type>" with every colon of name doubled (so that
// the three fields can be told apart, as in Exim lists), for example
// DNSFailData(ReasonNoMatch, "a:b", "A") == "DNS_NOMATCH:a::b:A".
// qtype is the record type's name: "A", "AAAA", "MX", "TXT", "TLSA", ...
func DNSFailData(reason DNSFailReason, name, qtype string) string {
	return string(reason) + ":" + strings.ReplaceAll(name, ":", "::") + ":" + qtype
}

// DANEFailReason is dane:fail's $event_data. The words are meant to be
// TLSRPT result types (RFC 8460 §4.3).
type DANEFailReason string

// The dane:fail reasons.
const (
	DANERequired         DANEFailReason = "dane-required"
	DNSSECInvalid        DANEFailReason = "dnssec-invalid"
	ValidationFailure    DANEFailReason = "validation-failure"
	STARTTLSNotSupported DANEFailReason = "starttls-not-supported"
)

// DeferData returns the $event_data of msg:defer and msg:host:defer as
// Exim's deferred_event_raise builds it: "<message>: <strerror(errno)>"
// when there is a message and errno > 0; the message alone when
// errno <= 0 (Exim's own errnos are negative); Strerror(errno) alone
// when there is no message; "" (unset) when there is neither.
//
// errno is an int rather than a syscall.Errno because Exim's errnos
// (ERRNO_EVENT, ERRNO_CONNECTTIMEOUT, ...) are negative; pass
// int(errno) for a syscall.Errno.
func DeferData(msg string, errno int) string {
	switch {
	case msg != "" && errno > 0:
		return msg + ": " + Strerror(errno)
	case msg != "":
		return msg
	case errno > 0:
		return Strerror(errno)
	}
	return ""
}

// Strerror returns the C library's text for a positive errno as glibc
// spells it: Go's text with a capital first letter ("Connection
// refused"), "Unknown error <n>" for a number Go does not know.
func Strerror(errno int) string {
	s := syscall.Errno(errno).Error()
	if errno <= 0 || strings.HasPrefix(s, "errno ") {
		return "Unknown error " + strconv.Itoa(errno)
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// RcptDeferErrno returns the more_errno Exim records for a 4xx reply
// to RCPT, which msg:rcpt:defer and msg:rcpt:host:defer give as
// $event_defer_errno and the rcpt_4xx retry rules read: the code's last
// two digits in bits 8-15 and, in the low byte, 'M' when the host came
// from an MX record or 'A' otherwise (address record, manualroute
// list), the letter the rules' _MX and _A suffixes test. 451 from a
// manualroute host is 51<<8 | 'A' = 13121, as a real Exim 4.96 reports
// (events_interop_test.go). Codes outside 400-499 give 0.
func RcptDeferErrno(code int, fromMX bool) int {
	if code < 400 || code > 499 {
		return 0
	}
	kind := 'A'
	if fromMX {
		kind = 'M'
	}
	return (code%100)<<8 | int(kind)
}

// RcptDeferCode is the inverse of RcptDeferErrno: the 4xx code held in
// bits 8-15 of a more_errno (13121 → 451).
func RcptDeferCode(errno int) int {
	return 400 + (errno>>8)&0xff
}

// RcptDeferFromMX reports whether a more_errno made by RcptDeferErrno
// names a host found through an MX record.
func RcptDeferFromMX(errno int) bool { return errno&0xff == 'M' }

// CertDepthData returns tls:cert's $event_data: the depth of the
// certificate in the chain (0 = the peer's own), in decimal.
func CertDepthData(depth int) string { return strconv.Itoa(depth) }

// BannerData returns smtp:connect's $event_data: the banner's lines as
// received (code included, line ends removed) joined with "\n", as a
// real Exim 4.96 gives it ("220-mx first\n220 mx ESMTP").
func BannerData(lines []string) string { return EHLOData(lines) }

// EHLOData returns smtp:ehlo's $event_data: the response lines as
// received (code included, line ends removed), joined with "\n", for
// example "250-mx.example.com Hello\n250 PIPELINING".
func EHLOData(lines []string) string {
	trimmed := make([]string, len(lines))
	for i, l := range lines {
		trimmed[i] = strings.TrimRight(l, "\r\n")
	}
	return strings.Join(trimmed, "\n")
}

// SyntaxFailEvent returns the event for an inbound SMTP error:
// smtp:fail:protocol for a protocol error (a command out of sequence,
// a pipelining violation, ...), smtp:fail:syntax for a syntax error.
//
// Exim's synprot_error tests the constant L_smtp_syntax_error instead of
// the error's type, so it raises smtp:fail:syntax for both and never
// smtp:fail:protocol, though the latter is documented. This function
// fixes that.
func SyntaxFailEvent(protocol bool) Name {
	if protocol {
		return SMTPFailProtocol
	}
	return SMTPFailSyntax
}

// NotifyFlags are an address's DSN NOTIFY flags (RFC 3461); 0 means no
// NOTIFY parameter was given.
type NotifyFlags uint8

// The NOTIFY values.
const (
	NotifyNever NotifyFlags = 1 << iota
	NotifySuccess
	NotifyFailure
	NotifyDelay
)

// FailureStage says when a failure event is raised for a failed
// address.
type FailureStage int

const (
	// StageNone: no failure event (only Exim's quirk gives this).
	StageNone FailureStage = iota
	// StageFailureLog: when the failure is logged ("**" line), for
	// addresses that will be bounced.
	StageFailureLog
	// StageNoBounce: when failed addresses are processed for bouncing,
	// for addresses that will not be bounced (ignore_error, or NOTIFY
	// given without FAILURE, e.g. NOTIFY=NEVER).
	StageNoBounce
)

func (s FailureStage) String() string {
	switch s {
	case StageNone:
		return "none"
	case StageFailureLog:
		return "failure-log"
	case StageNoBounce:
		return "no-bounce"
	}
	return "FailureStage(" + strconv.Itoa(int(s)) + ")"
}

// FailureEvent returns the event to raise for a failed address and
// when: msg:fail:delivery when a transport was involved, else
// msg:fail:internal (main hook). Every failed address gets exactly one
// event: at StageFailureLog when it will be bounced (no ignore_error,
// and no NOTIFY or NOTIFY including FAILURE), else at StageNoBounce.
//
// Exim (EximFailureEvent) raises the event at the failure log only
// when the address has no NOTIFY flag other than FAILURE, and at bounce
// processing only when it will not be bounced; an address with
// NOTIFY=FAILURE together with SUCCESS and/or DELAY matches neither
// rule and gets no event at all. This function fixes that.
//
// Exim's other quirk, raising msg:fail:internal for every recipient
// when a system filter freezes the message (a defer), is the caller's
// to avoid: raise failure events only for failed addresses.
func FailureEvent(hasTransport, ignoreError bool, notify NotifyFlags) (Name, FailureStage) {
	name := failureName(hasTransport)
	if !ignoreError && (notify == 0 || notify&NotifyFailure != 0) {
		return name, StageFailureLog
	}
	return name, StageNoBounce
}

// EximFailureEvent is FailureEvent with Exim's behaviour, for
// comparison and compatibility: StageNone for NOTIFY=FAILURE combined
// with SUCCESS or DELAY (without ignore_error).
func EximFailureEvent(hasTransport, ignoreError bool, notify NotifyFlags) (Name, FailureStage) {
	name := failureName(hasTransport)
	switch {
	case !ignoreError && notify&^NotifyFailure == 0:
		return name, StageFailureLog
	case ignoreError || (notify != 0 && notify&NotifyFailure == 0):
		return name, StageNoBounce
	}
	return name, StageNone
}

func failureName(hasTransport bool) Name {
	if hasTransport {
		return MsgFailDelivery
	}
	return MsgFailInternal
}
