package mtasts

import (
	"errors"
	"strconv"
	"strings"
)

// Errors of the TXT lookup. A domain without exactly one "v=STSv1"
// record has no MTA-STS policy (RFC 8461 §3.1): the sender goes on as
// without MTA-STS, or with the policy it has cached.
var (
	ErrNoRecord        = errors.New("mtasts: no MTA-STS TXT record")
	ErrMultipleRecords = errors.New("mtasts: more than one MTA-STS TXT record")
	ErrInvalidDomain   = errors.New("mtasts: not a valid domain name")
)

// SyntaxError is a TXT record, a policy or a name that does not follow
// the grammar of RFC 8461 §3.1 and §3.2.
type SyntaxError struct {
	What string // "record", "policy" or "domain"
	Line int    // the policy's line (from 1); 0 for records and names
	Text string // the offending field or line, cut to 100 bytes
	Msg  string // what is wrong with it
}

func (e *SyntaxError) Error() string {
	var b strings.Builder
	b.WriteString("mtasts: invalid ")
	b.WriteString(e.What)
	if e.Line > 0 {
		b.WriteString(" line ")
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Text != "" {
		b.WriteString(": ")
		b.WriteString(strconv.Quote(e.Text))
	}
	return b.String()
}

// syntaxError builds a SyntaxError quoting at most 100 bytes of text: a
// hostile policy must not make a log line of 64 KiB.
func syntaxError(what string, line int, text, msg string) *SyntaxError {
	if len(text) > 100 {
		text = text[:100]
	}
	return &SyntaxError{What: what, Line: line, Text: text, Msg: msg}
}

// FetchReason says why a policy fetch failed.
type FetchReason int

// The reasons a fetch fails. ReasonTLS is RFC 8460's
// sts-webpki-invalid, ReasonPolicy its sts-policy-invalid, the others
// its sts-policy-fetch-error.
const (
	ReasonNetwork     FetchReason = iota + 1 // the host could not be resolved, reached or read
	ReasonTLS                                // TLS handshake or PKIX validation of mta-sts.<domain>
	ReasonTimeout                            // the fetch took longer than Fetcher.Timeout
	ReasonStatus                             // an HTTP status other than 200 (and not a redirect)
	ReasonRedirect                           // a 3xx: redirects are never followed (RFC 8461 §3.3)
	ReasonContentType                        // not text/plain
	ReasonTooLarge                           // the body is longer than Fetcher.MaxSize
	ReasonPolicy                             // the body is not a valid policy (Err is a *SyntaxError)
)

var reasonNames = [...]string{"", "network", "tls", "timeout", "status", "redirect", "content-type", "too-large", "policy"}

func (r FetchReason) String() string {
	if r > 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "FetchReason(" + strconv.Itoa(int(r)) + ")"
}

// FetchError is a failed HTTPS fetch of a domain's policy.
type FetchError struct {
	Domain      string // the policy domain
	URL         string
	Reason      FetchReason
	StatusCode  int    // the HTTP status, when a response came
	ContentType string // its Content-Type, for ReasonContentType
	Location    string // its Location, for ReasonRedirect
	Err         error  // the cause, when there is one
}

func (e *FetchError) Error() string {
	var b strings.Builder
	b.WriteString("mtasts: fetching ")
	b.WriteString(e.URL)
	b.WriteString(": ")
	switch e.Reason {
	case ReasonStatus:
		b.WriteString("HTTP status " + strconv.Itoa(e.StatusCode) + ", want 200")
	case ReasonRedirect:
		b.WriteString("redirect (HTTP " + strconv.Itoa(e.StatusCode) + ") to " + strconv.Quote(e.Location) + " not followed")
	case ReasonContentType:
		b.WriteString("Content-Type " + strconv.Quote(e.ContentType) + ", want text/plain")
	case ReasonTooLarge:
		b.WriteString("policy too large")
	default:
		b.WriteString(e.Reason.String())
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *FetchError) Unwrap() error { return e.Err }
