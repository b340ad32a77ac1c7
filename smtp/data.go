package smtp

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// A DataResponse is the server's answer to the end of a message's data:
// one reply, or with PRDR (draft-hall-prdr-00) an intermediate 353, one
// reply per recipient accepted at RCPT time and a final reply.
type DataResponse struct {
	// Command is what ended the data: "DATA" or the last BDAT command
	// ("BDAT 1234 LAST").
	Command string
	// PRDR is true when the server answered with a 3xx (353) intro.
	PRDR  bool
	Intro Reply
	// Recipients are the per-recipient replies, in RCPT order; nil
	// without PRDR.
	Recipients []Reply
	// Final is the final reply, or the only one without PRDR; zero if it
	// was not read.
	Final Reply
}

// ReadDataResponse reads the answer to the end of a message's data from
// rr: either one 2xx, 4xx or 5xx reply, or a 3xx intro followed by
// recipients per-recipient replies and the final reply, each 2xx, 4xx
// or 5xx. cmd ("DATA" or "BDAT n LAST") is recorded and named in
// errors. A reply of another class is a *ProtocolError. On an error the
// replies read so far are returned with it.
func ReadDataResponse(rr *ReplyReader, recipients int, cmd string) (*DataResponse, error) {
	return readDataResponse(func(string) (Reply, error) {
		r, err := rr.ReadReply()
		if err == io.EOF {
			err = &ReplyError{Err: io.ErrUnexpectedEOF}
		}
		return r, err
	}, recipients, cmd)
}

func readDataResponse(read func(stage string) (Reply, error), n int, cmd string) (*DataResponse, error) {
	resp := &DataResponse{Command: cmd}
	first, err := read(StageEndOfData)
	if err != nil {
		return resp, err
	}
	switch first.Class() {
	case 2, 4, 5:
		resp.Final = first
		return resp, nil
	case 3:
	default:
		return resp, &ProtocolError{After: cmd, Reply: first, Why: "unexpected reply class"}
	}
	resp.PRDR, resp.Intro = true, first
	resp.Recipients = make([]Reply, 0, n)
	for range n {
		r, err := read(StageEndOfData)
		if err != nil {
			return resp, err
		}
		if c := r.Class(); c != 2 && c != 4 && c != 5 {
			return resp, &ProtocolError{After: cmd, Reply: r, Why: "per-recipient reply of unexpected class"}
		}
		resp.Recipients = append(resp.Recipients, r)
	}
	final, err := read(StageEndOfData)
	if err != nil {
		return resp, err
	}
	if c := final.Class(); c != 2 && c != 4 && c != 5 {
		return resp, &ProtocolError{After: cmd, Reply: final, Why: "final reply of unexpected class"}
	}
	resp.Final = final
	return resp, nil
}

// ErrNoRecipients is returned by Data and BDAT when no RCPT was
// accepted in the transaction, and by Send when every recipient was
// refused (the replies are in SendResult.Rcpts).
var ErrNoRecipients = errors.New("smtp: no recipient accepted")

// Data sends DATA and, after the server's 354, the message read from
// r through a DataWriter (CRLF line ends, dot-stuffed, ended with
// CRLF "." CRLF), then reads the end-of-data replies: with PRDR
// requested at MAIL and granted, one per recipient accepted by Rcpt.
// A refused DATA is a *CommandError with a nil DataResponse; a final
// reply other than 2xx is a *CommandError (Cmd "end of data") with the
// DataResponse. An error reading r leaves the message unfinished (no
// final dot is sent) and the client out of step.
func (c *Client) Data(ctx context.Context, r io.Reader) (*DataResponse, error) {
	k, err := c.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer k.end()
	if !c.mail || c.rcpts == 0 {
		return nil, ErrNoRecipients
	}
	rep, err := k.cmd(StageDATA, "DATA")
	if err != nil {
		return nil, err
	}
	if rep.Code != ReplyStartMailInput {
		return nil, &CommandError{Cmd: "DATA", Reply: rep}
	}
	return c.sendData(k, r)
}

// sendData sends the message after DATA's 354 and reads the replies to
// its end.
func (c *Client) sendData(k *call, r io.Reader) (*DataResponse, error) {
	dw := NewDataWriter(c.bw)
	if err := c.copyMessage(k, dw, r); err != nil {
		return nil, err
	}
	if err := dw.Close(); err != nil {
		return nil, k.fail(err)
	}
	if err := c.bw.Flush(); err != nil {
		return nil, k.fail(err)
	}
	return c.endOfData(k, "DATA", "end of data")
}

// copyMessage copies the message from r to w, telling read errors from
// write errors.
func (c *Client) copyMessage(k *call, w io.Writer, r io.Reader) error {
	buf := make([]byte, 32<<10)
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return k.fail(err)
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return k.fail(fmt.Errorf("smtp: reading the message: %w", rerr))
		}
	}
}

// endOfData reads the replies after the data and ends the transaction.
func (c *Client) endOfData(k *call, cmd, errCmd string) (*DataResponse, error) {
	// With a 353 the server owes one reply per accepted recipient,
	// whether or not PRDR was requested.
	n := c.rcpts
	c.endTransaction()
	resp, err := readDataResponse(func(stage string) (Reply, error) {
		return k.read(stage, c.dataTimeout())
	}, n, cmd)
	if err != nil {
		var pe *ProtocolError
		if errors.As(err, &pe) {
			k.fail(err)
		}
		return resp, err
	}
	if resp.Final.Class() != 2 {
		return resp, &CommandError{Cmd: errCmd, Reply: resp.Final}
	}
	return resp, nil
}

// BDAT sends the message read from r with BDAT (RFC 3030, CHUNKING), in
// chunks of chunkSize octets, the last one with LAST; with chunkSize 0
// or less the whole message goes in one "BDAT n LAST" (and is held in
// memory to count it). Line ends become CRLF as with Data; nothing is
// dot-stuffed. Without CHUNKING in the EHLO reply it returns an error
// wrapping ErrNotOffered and sends nothing. A refused chunk other than
// the last is a *CommandError with a nil DataResponse (the caller
// should Reset); the end-of-data replies are read and reported as by
// Data, Cmd being the last BDAT command.
func (c *Client) BDAT(ctx context.Context, r io.Reader, chunkSize int) (*DataResponse, error) {
	k, err := c.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer k.end()
	if !c.ext.Has("CHUNKING") {
		return nil, fmt.Errorf("smtp: BDAT: %w", ErrNotOffered)
	}
	if !c.mail || c.rcpts == 0 {
		return nil, ErrNoRecipients
	}
	return c.sendChunks(k, r, chunkSize, 1)
}

func (c *Client) sendChunk(k *call, line string, data []byte) error {
	if err := k.deadline(c.timeout()); err != nil {
		return k.fail(err)
	}
	c.bw.WriteString(line)
	c.bw.WriteString("\r\n")
	c.bw.Write(data)
	if err := c.bw.Flush(); err != nil {
		return k.fail(err)
	}
	return nil
}
