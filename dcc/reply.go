package dcc

import (
	"bytes"
)

// An Outcome is what a dcc ACL condition gives: true, false or defer.
type Outcome int

const (
	// OK: the condition is true (Exim's OK). dccifd accepted the message.
	OK Outcome = iota
	// Fail: the condition is false (Exim's FAIL). dccifd rejected or
	// greylisted the message, or the check was skipped.
	Fail
	// Defer: the check could not be done (Exim's DEFER).
	Defer
)

func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Fail:
		return "fail"
	case Defer:
		return "defer"
	}
	return "unknown"
}

// A Result is dccifd's answer for one message.
type Result struct {
	// Letter is the overall result character dccifd sent: 'A', 'S',
	// 'R', 'G' or 'T'.
	Letter byte
	// DCCResult is Exim's $dcc_result: "A" for A and S, "R", "G", or
	// "T".
	DCCResult string
	// Outcome is the condition's value: OK for A and S, Fail for R and
	// G, Defer for T.
	Outcome Outcome
	// Recipients holds one letter per recipient sent, in order: 'A'
	// deliver, 'R' discard as spam, 'G' discard during a greylist
	// embargo. Exim reads and ignores this line.
	Recipients []byte
	// Header is Exim's $dcc_header: the X-DCC header field dccifd
	// returned, checked, length-limited and folded, ending in "\n"; or
	// "" when there was none or it was unusable.
	Header string
	// Payload is everything dccifd sent after the per-recipient line:
	// the X-DCC header, checksums or the whole message, depending on
	// the options.
	Payload []byte
}

// RecipientOutcome is the per-recipient result i (in Request order) as
// a condition value: OK for 'A', Fail for 'R' and 'G'. It is Defer when
// the overall result is a temporary failure or i is out of range.
func (r *Result) RecipientOutcome(i int) Outcome {
	if r.Outcome == Defer || i < 0 || i >= len(r.Recipients) {
		return Defer
	}
	if r.Recipients[i] == 'A' {
		return OK
	}
	return Fail
}

// DefaultMaxHeader is the default limit, in bytes, of the unfolded
// X-DCC header field (Exim keeps 120 bytes of reply).
const DefaultMaxHeader = 512

// ParseReply parses a complete dccifd reply (everything read up to
// EOF) for a request with nrcpt recipient lines. maxHeader limits the
// unfolded X-DCC header; 0 means DefaultMaxHeader.
//
// Line ends may be LF or CRLF. The first line must be one result
// letter; the second line must hold exactly nrcpt letters from "ARG"
// (it may be missing or empty when nrcpt is 0, or when the overall
// result is T). An unknown result letter is a *ReplyError, which the
// caller should treat as Exim does, as a defer.
func ParseReply(reply []byte, nrcpt, maxHeader int) (*Result, error) {
	if maxHeader <= 0 {
		maxHeader = DefaultMaxHeader
	}
	if len(reply) == 0 {
		return nil, newReplyError("empty reply", reply)
	}
	line1, rest, ok := cutLine(reply)
	if !ok && len(line1) == 0 {
		return nil, newReplyError("empty reply", reply)
	}
	if len(line1) != 1 {
		return nil, newReplyError("result line is not one character", reply)
	}
	r := &Result{Letter: line1[0]}
	switch r.Letter {
	case 'A', 'S':
		r.DCCResult, r.Outcome = "A", OK
	case 'R', 'G':
		r.DCCResult, r.Outcome = string(r.Letter), Fail
	case 'T':
		r.DCCResult, r.Outcome = "T", Defer
	default:
		return nil, newReplyError("unknown result letter", reply)
	}
	line2, rest, ok2 := cutLine(rest)
	if !ok2 && len(line2) == 0 {
		// No second line at all.
		if nrcpt != 0 && r.Letter != 'T' {
			return nil, newReplyError("no per-recipient line", reply)
		}
		return r, nil
	}
	if len(line2) != nrcpt {
		if !(r.Letter == 'T' && len(line2) == 0) {
			return nil, newReplyError("per-recipient line does not match the recipients sent", reply)
		}
	}
	for _, c := range line2 {
		if c != 'A' && c != 'R' && c != 'G' {
			return nil, newReplyError("bad per-recipient letter", reply)
		}
	}
	if len(line2) > 0 {
		r.Recipients = append([]byte(nil), line2...)
	}
	if len(rest) > 0 {
		r.Payload = append([]byte(nil), rest...)
		r.Header = extractHeader(rest, maxHeader)
	}
	return r, nil
}

// cutLine returns the first line of b without its LF or CRLF, the rest,
// and whether a line end was found.
func cutLine(b []byte) (line, rest []byte, found bool) {
	line, rest, found = bytes.Cut(b, []byte("\n"))
	if found {
		line = bytes.TrimSuffix(line, []byte("\r"))
	}
	return line, rest, found
}
