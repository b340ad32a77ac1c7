package prdr

import (
	"errors"
	"fmt"
	"io"
	"net/textproto"
)

// A Status is the client's view of one recipient after a transaction.
type Status int

// Recipient statuses, as Exim's smtp transport sets them.
const (
	Delivered Status = iota // the server took responsibility
	Deferred                // try again later
	Failed                  // bounce
)

var statusNames = [...]string{"delivered", "deferred", "failed"}

func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// statusOf maps a reply class to a status: 2 delivered, 4 deferred, any
// other failed.
func statusOf(r Reply) Status {
	switch r.Class() {
	case 2:
		return Delivered
	case 4:
		return Deferred
	}
	return Failed
}

// A RecipientOutcome is the result for one recipient.
type RecipientOutcome struct {
	Recipient string
	Status    Status
	// Reply is the reply that decided the status: the RCPT reply for a
	// recipient refused there, the per-recipient PRDR reply, the final
	// reply when it overrides them, or the single end-of-data reply.
	Reply Reply
	// Message is Exim's text for the address: for a refusal by a
	// per-recipient reply "PRDR error after DATA: 550 ..." (the command
	// is the one that ended the data), otherwise the reply as a string;
	// for a delivered recipient of a PRDR block the per-recipient and
	// the final reply joined by a literal `\n` as in Exim's log.
	Message string
	// Err is set for a recipient whose fate is unknown because the
	// connection failed before its reply; the status is then Deferred.
	Err error
}

// A DataResult is the outcome of the replies after the message data.
type DataResult struct {
	PRDR       bool               // the server answered with the 353 block
	Recipients []RecipientOutcome // in the order given
	Final      Reply              // the final (or only) reply; zero if not read
}

// A ProtocolError is a reply the client cannot use where it stands, such
// as a 1xx or 3xx in place of a per-recipient reply.
type ProtocolError struct {
	After string // the command that was answered, e.g. "DATA"
	Reply Reply
	Why   string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("SMTP protocol error after %s: %s: %s", e.After, e.Why, e.Reply)
}

// ReadDataReplies reads the server's answer to the end of the message
// data from r: either one ordinary reply, or the 353 intro, one reply
// per recipient and the final reply. rcpts are the recipients the
// server accepted at RCPT time, in order; cmd is the command that ended
// the data ("DATA", or "BDAT 457 LAST"), used in messages.
//
// The replies are combined as Exim's smtp transport does:
//
//   - 2xx instead of 353: the server did not use PRDR; the reply holds
//     for every recipient (4xx defers, 5xx fails them all).
//   - per-recipient 2xx: delivered (subject to the final reply); 4xx:
//     deferred; 5xx: failed, with Message "PRDR error after CMD: REPLY".
//   - final 5xx: every recipient fails with it, even those that a
//     per-recipient reply already refused or accepted.
//   - final 4xx: the per-recipient-accepted recipients are deferred
//     with it; the others keep their per-recipient result.
//   - final 2xx: the per-recipient results stand.
//
// On a read error or a malformed reply the error is returned with a
// result in which every recipient not yet decided is Deferred with Err
// set (the server may or may not have taken the message).
func ReadDataReplies(r *textproto.Reader, rcpts []string, cmd string) (*DataResult, error) {
	res := &DataResult{Recipients: make([]RecipientOutcome, len(rcpts))}
	for i, a := range rcpts {
		res.Recipients[i] = RecipientOutcome{Recipient: a, Status: Deferred}
	}
	undecided := func(from int, err error) {
		for i := from; i < len(res.Recipients); i++ {
			res.Recipients[i] = RecipientOutcome{Recipient: rcpts[i], Status: Deferred, Err: err, Message: err.Error()}
		}
	}
	first, err := ReadReply(r)
	if err != nil {
		err = readErr(cmd, err)
		undecided(0, err)
		return res, err
	}
	switch first.Class() {
	case 2, 4, 5:
		res.Final = first
		for i := range res.Recipients {
			res.Recipients[i].Status = statusOf(first)
			res.Recipients[i].Reply = first
			res.Recipients[i].Message = first.String()
		}
		return res, nil
	case 3:
	default:
		err := &ProtocolError{After: cmd, Reply: first, Why: "unexpected reply class"}
		undecided(0, err)
		return res, err
	}
	res.PRDR = true
	for i := range rcpts {
		rep, err := ReadReply(r)
		if err == nil && rep.Class() != 2 && rep.Class() != 4 && rep.Class() != 5 {
			err = &ProtocolError{After: cmd, Reply: rep, Why: "per-recipient reply of unexpected class"}
		} else if err != nil {
			err = readErr(cmd, err)
		}
		if err != nil {
			undecided(0, err) // nothing counts without the final reply
			return res, err
		}
		o := &res.Recipients[i]
		o.Status, o.Reply = statusOf(rep), rep
		if o.Status == Delivered {
			o.Message = rep.String()
		} else {
			o.Message = "PRDR error after " + cmd + ": " + rep.String()
		}
	}
	final, err := ReadReply(r)
	if err == nil && final.Class() != 2 && final.Class() != 4 && final.Class() != 5 {
		err = &ProtocolError{After: cmd, Reply: final, Why: "final reply of unexpected class"}
	} else if err != nil {
		err = readErr(cmd, err)
	}
	if err != nil {
		undecided(0, err)
		return res, err
	}
	res.Final = final
	for i := range res.Recipients {
		o := &res.Recipients[i]
		switch final.Class() {
		case 5:
			o.Status, o.Reply, o.Message = Failed, final, final.String()
		case 4:
			if o.Status == Delivered {
				o.Status, o.Reply, o.Message = Deferred, final, final.String()
			}
		case 2:
			if o.Status == Delivered {
				o.Message = o.Reply.String() + `\n` + final.String()
			}
		}
	}
	return res, nil
}

// readErr adds the command to a read error.
func readErr(cmd string, err error) error {
	if err == io.EOF {
		err = &ReplyError{Err: io.ErrUnexpectedEOF}
	}
	var re *ReplyError
	if errors.As(err, &re) {
		return fmt.Errorf("after %s: %w", cmd, err)
	}
	return fmt.Errorf("reading reply after %s: %w", cmd, err)
}
