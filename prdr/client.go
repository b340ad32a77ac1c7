package prdr

import (
	"errors"
	"fmt"
	"io"

	"github.com/mailpolicy/mailpolicy/smtp"
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
func statusOf(r smtp.Reply) Status {
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
	Reply smtp.Reply
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
	Final      smtp.Reply         // the final (or only) reply; zero if not read
}

// ReadDataReplies reads the server's answer to the end of the message
// data from r with smtp.ReadDataResponse, for a client that speaks SMTP
// itself, and combines it with Combine. rcpts are the recipients the
// server accepted at RCPT time, in order; cmd is the command that ended
// the data ("DATA", or "BDAT 457 LAST"), used in messages.
func ReadDataReplies(r *smtp.ReplyReader, rcpts []string, cmd string) (*DataResult, error) {
	resp, err := smtp.ReadDataResponse(r, len(rcpts), cmd)
	return Combine(resp, rcpts, err)
}

// Combine turns the answer to the end of the message data (from
// smtp.Client.Data or BDAT, or smtp.ReadDataResponse) and the error
// that came with it into a status per recipient. rcpts are the
// recipients the server accepted at RCPT time, in order. A
// *smtp.CommandError for a final reply other than 2xx is not an error
// here: it is the outcome.
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
// On a read error, a malformed reply or a *smtp.ProtocolError the
// error is returned with a result in which every recipient is Deferred
// with Err set (the server may or may not have taken the message).
func Combine(resp *smtp.DataResponse, rcpts []string, err error) (*DataResult, error) {
	if resp == nil {
		resp = &smtp.DataResponse{}
	}
	cmd := resp.Command
	if cmd == "" {
		cmd = "DATA"
	}
	res := &DataResult{PRDR: resp.PRDR, Recipients: make([]RecipientOutcome, len(rcpts))}
	var ce *smtp.CommandError
	if errors.As(err, &ce) && resp.Final.Code != 0 && ce.Reply.Code == resp.Final.Code {
		err = nil // a refusal at the end of the data: the outcome
	}
	if err == nil && resp.PRDR && len(resp.Recipients) != len(rcpts) {
		err = &smtp.ProtocolError{After: cmd, Reply: resp.Final,
			Why: fmt.Sprintf("%d per-recipient replies for %d recipients", len(resp.Recipients), len(rcpts))}
	}
	if err == nil && resp.Final.Code == 0 {
		err = &smtp.ReplyError{Err: io.ErrUnexpectedEOF}
	}
	if err != nil {
		err = readErr(cmd, err)
		for i, a := range rcpts {
			res.Recipients[i] = RecipientOutcome{Recipient: a, Status: Deferred, Err: err, Message: err.Error()}
		}
		return res, err
	}
	final := resp.Final
	res.Final = final
	if !resp.PRDR {
		for i, a := range rcpts {
			res.Recipients[i] = RecipientOutcome{Recipient: a, Status: statusOf(final), Reply: final, Message: final.String()}
		}
		return res, nil
	}
	for i, a := range rcpts {
		o := &res.Recipients[i]
		rep := resp.Recipients[i]
		o.Recipient, o.Status, o.Reply = a, statusOf(rep), rep
		if o.Status == Delivered {
			o.Message = rep.String()
		} else {
			o.Message = "PRDR error after " + cmd + ": " + rep.String()
		}
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
	var re *smtp.ReplyError
	var pe *smtp.ProtocolError
	switch {
	case errors.As(err, &pe):
		return err
	case errors.As(err, &re):
		return fmt.Errorf("after %s: %w", cmd, err)
	}
	return fmt.Errorf("reading reply after %s: %w", cmd, err)
}
