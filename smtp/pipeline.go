package smtp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// DefaultChunkSize is the size of the BDAT chunks of Send when
// SendOptions.ChunkSize is zero: large enough that the reply to each
// chunk costs little, small enough that a message streams from its
// reader instead of being held in memory.
const DefaultChunkSize = 64 << 10

// pipelineWindow bounds the commands (and BDAT chunks) whose replies
// are unread. RFC 2920 §3.1 warns that a client which writes without
// reading can deadlock: the server blocks writing replies nobody reads,
// stops reading, and the client then blocks writing. Replies are short,
// so this many of them fit in any socket buffer; it is above the
// default max_rcpt (100) of Exim's smtp transport, so an ordinary
// transaction still goes in one group.
const pipelineWindow = 128

// bdatInFlight bounds the octets of BDAT chunks sent and not yet
// answered, so that a refused chunk stops the message soon (RFC 3030
// §3: no more chunks after a refusal).
const bdatInFlight = 1 << 20

// An Envelope is the sender and the recipients of one message for
// Client.Send.
type Envelope struct {
	From       string      // the reverse path; "" for the null path
	MailParams *MailParams // MAIL's parameters, sent as given; nil for none
	Rcpts      []string    // the forward paths, at least one
	// RcptParams are the parameters of each RCPT: nil for none, or one
	// entry per recipient (a nil entry for none).
	RcptParams []*RcptParams
}

// SendOptions are the choices of Client.Send; the zero value sends the
// message with DATA.
type SendOptions struct {
	// BDAT sends the message with BDAT (RFC 3030) when the server
	// offers CHUNKING; otherwise DATA is used.
	BDAT bool
	// ChunkSize is the size of each BDAT chunk; DefaultChunkSize when
	// zero. A negative size sends the whole message in one "BDAT n
	// LAST", held in memory to count it.
	ChunkSize int
}

// A SendResult is what the server answered to one Send. It is returned
// with the error too, holding the replies read until then.
type SendResult struct {
	// Pipelined is true when the server offered PIPELINING and the
	// commands went in groups; Chunking when the message went with BDAT.
	Pipelined, Chunking bool
	// Mail is the reply to MAIL.
	Mail Reply
	// Rcpts are the replies to each RCPT, in the order of
	// Envelope.Rcpts. A zero Reply (Code 0) was not sent: without
	// PIPELINING nothing follows a refused MAIL.
	Rcpts []Reply
	// Accepted counts the RCPTs answered 2xx after an accepted MAIL.
	Accepted int
	// DataReply is the reply to DATA: 354, or a refusal; zero with BDAT
	// or when DATA was not sent.
	DataReply Reply
	// Data holds the replies to the end of the message (one per
	// accepted recipient with PRDR); nil when no message was sent.
	Data *DataResponse
}

var errTransactionOpen = errors.New("smtp: Send: a mail transaction is open (Reset first)")

// Send sends one whole transaction: MAIL, a RCPT for each recipient,
// then the message read from r with DATA or, when opt.BDAT is set and
// the server offers CHUNKING, with BDAT. It says hello first if need
// be, and starts no transaction while one is open (after a Mail, or a
// Send that failed: call Reset).
//
// When the server's EHLO reply lists PIPELINING (RFC 2920), MAIL, the
// RCPTs and DATA are written as one group, in one write, and their
// replies are read after it, in order: one round trip instead of one a
// command. DATA's reply is read before any of the message is sent.
// With BDAT the chunks follow once the RCPTs are answered, and are
// pipelined too (RFC 3030 §4.2), so a message with no accepted
// recipient is never sent. Without PIPELINING each command waits for
// the reply to the one before, as with Mail, Rcpt and Data, and DATA
// is not sent when every recipient was refused.
//
// Every reply is recorded in the SendResult, including those to the
// RCPTs after a refused MAIL (they were sent), and passed to OnReply
// with its stage. The error is nil when the message was accepted for
// the recipients in Accepted (with PRDR, Data.Recipients tell each
// one's fate); otherwise it is a *CommandError for a refused MAIL,
// DATA, BDAT chunk or end of data, ErrNoRecipients when every RCPT was
// refused (Rcpts say why), or, as for the other calls, an I/O error, a
// *ReplyError or a *ProtocolError (a reply of a class the command
// cannot have, such as 354 to RCPT), after which the client is out of
// step. After an error other than that, call Reset before the next
// Send.
func (c *Client) Send(ctx context.Context, env *Envelope, r io.Reader, opt SendOptions) (*SendResult, error) {
	if env == nil || len(env.Rcpts) == 0 {
		return nil, errors.New("smtp: Send: no recipients")
	}
	if env.RcptParams != nil && len(env.RcptParams) != len(env.Rcpts) {
		return nil, fmt.Errorf("smtp: Send: %d RcptParams for %d recipients", len(env.RcptParams), len(env.Rcpts))
	}
	mail, params, err := mailCommand(env.From, env.MailParams)
	if err != nil {
		return nil, err
	}
	lines := make([]string, 0, len(env.Rcpts)+2)
	lines = append(lines, mail)
	for i, to := range env.Rcpts {
		var p *RcptParams
		if env.RcptParams != nil {
			p = env.RcptParams[i]
		}
		line, rp, err := rcptCommand(to, p)
		if err != nil {
			return nil, err
		}
		params = params || rp
		lines = append(lines, line)
	}

	k, err := c.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer k.end()
	if err := c.ensureHello(k); err != nil {
		return nil, err
	}
	if params && !c.esmtp {
		return nil, errParamsNeedEHLO
	}
	if c.mail {
		return nil, errTransactionOpen
	}
	mp := env.MailParams
	res := &SendResult{
		Pipelined: c.ext.Has("PIPELINING"),
		Chunking:  opt.BDAT && c.ext.Has("CHUNKING"),
		Rcpts:     make([]Reply, len(env.Rcpts)),
	}
	if mp != nil && mp.Body == BodyBinaryMIME && !res.Chunking {
		return nil, fmt.Errorf("smtp: Send: BODY=BINARYMIME needs BDAT (CHUNKING): %w", ErrNotOffered)
	}
	if !res.Chunking {
		lines = append(lines, "DATA")
	}
	if err := c.envelope(k, lines, mp != nil && mp.PRDR, res); err != nil {
		return res, err
	}

	if !res.Chunking && res.DataReply.Code == ReplyStartMailInput && res.Accepted == 0 {
		// DATA went in the group before the RCPTs were answered, and the
		// server took it although none was accepted. RFC 2920 §3.1: the
		// client must check DATA's reply and cannot assume it refused;
		// when it was accepted, the client sends a single dot. That ends
		// the data phase with no content, and with no recipient nothing
		// is delivered. (Holding DATA back until the RCPTs are answered,
		// as BDAT does, would cost a round trip on every message to
		// spare one on a rare one.)
		if err := c.loneDot(k); err != nil {
			return res, err
		}
	}
	switch {
	case res.Mail.Class() != 2:
		return res, &CommandError{Cmd: mail, Reply: res.Mail}
	case res.Accepted == 0:
		return res, ErrNoRecipients
	case !res.Chunking && res.DataReply.Code != ReplyStartMailInput:
		return res, &CommandError{Cmd: "DATA", Reply: res.DataReply}
	}
	var resp *DataResponse
	if res.Chunking {
		size := opt.ChunkSize
		if size == 0 {
			size = DefaultChunkSize
		}
		window := 1
		if res.Pipelined {
			window = pipelineWindow
		}
		resp, err = c.sendChunks(k, r, size, window)
	} else {
		resp, err = c.sendData(k, r)
	}
	res.Data = resp
	return res, err
}

// envelope sends the command lines (MAIL, the RCPTs, and DATA unless
// BDAT follows) and records their replies in res. With PIPELINING they
// go in groups of up to pipelineWindow commands, each in one write and
// answered before the next group is written; without it, in groups of
// one. A group that would start with DATA is not sent when no
// recipient was accepted, and none is sent after a refused MAIL.
func (c *Client) envelope(k *call, lines []string, prdr bool, res *SendResult) error {
	window := 1
	if res.Pipelined {
		window = pipelineWindow
	}
	n := len(res.Rcpts)
	sent := 0
	for got := range lines {
		if got == sent {
			if got > 0 && res.Mail.Class() != 2 || got > n && res.Accepted == 0 {
				return nil
			}
			for end := min(len(lines), sent+window); sent < end; sent++ {
				c.bw.WriteString(lines[sent])
				c.bw.WriteString("\r\n")
			}
			// The writer sets the deadline of each write it makes,
			// including those of a group larger than its buffer.
			if err := c.bw.Flush(); err != nil {
				return k.fail(err)
			}
		}
		stage := StageRCPT
		switch {
		case got == 0:
			stage = StageMAIL
		case got > n:
			stage = StageDATA
		}
		rep, err := k.read(stage, c.timeout())
		if err != nil {
			return err
		}
		if err := c.record(got, lines[got], rep, prdr, res); err != nil {
			return k.fail(err)
		}
	}
	return nil
}

// record files the reply to lines[i] in res and follows the
// transaction in c, as Mail and Rcpt do. A reply of a class the
// command cannot have is a *ProtocolError: the server is not where the
// client thinks.
func (c *Client) record(i int, line string, rep Reply, prdr bool, res *SendResult) error {
	n := len(res.Rcpts)
	if i > n {
		res.DataReply = rep
		if rep.Code != ReplyStartMailInput && rep.Class() != 4 && rep.Class() != 5 {
			return &ProtocolError{After: line, Reply: rep, Why: "unexpected reply"}
		}
		return nil
	}
	switch rep.Class() {
	case 2, 4, 5:
	default:
		return &ProtocolError{After: line, Reply: rep, Why: "unexpected reply class"}
	}
	if i == 0 {
		res.Mail = rep
		if rep.Class() == 2 {
			c.mail, c.prdr, c.rcpts = true, prdr, 0
		}
		return nil
	}
	res.Rcpts[i-1] = rep
	if rep.Class() == 2 && c.mail {
		c.rcpts++
		res.Accepted++
	}
	return nil
}

// loneDot ends the data phase after a 354 with no content and reads
// the server's answer, which only OnReply sees; it ends the
// transaction.
func (c *Client) loneDot(k *call) error {
	if err := k.write("."); err != nil {
		return err
	}
	c.endTransaction()
	_, err := readDataResponse(func(stage string) (Reply, error) {
		return k.read(stage, c.dataTimeout())
	}, 0, "DATA")
	var pe *ProtocolError
	if errors.As(err, &pe) {
		k.fail(err)
	}
	return err
}

// sendChunks sends the message read from r with BDAT, in chunks of
// chunkSize octets (all in one when chunkSize is 0 or less), the last
// one with LAST, and reads the replies to the end. Up to window chunks,
// and bdatInFlight octets, go before their replies are read; a window
// of 1 is lock step. A refused chunk stops the sending: the replies of
// the chunks already sent are read, and the refusal is a *CommandError
// with a nil DataResponse. (A refusal read only after LAST went out
// still wins over the answer to LAST.)
func (c *Client) sendChunks(k *call, r io.Reader, chunkSize, window int) (*DataResponse, error) {
	type chunk struct {
		line string
		n    int
	}
	var unread []chunk
	inFlight := 0
	var refused error
	readOne := func() error {
		ch := unread[0]
		unread = unread[1:]
		inFlight -= ch.n
		rep, err := k.read(StageBDAT, c.timeout())
		if err != nil {
			return err
		}
		if rep.Class() != 2 && refused == nil {
			refused = &CommandError{Cmd: ch.line, Reply: rep}
		}
		return nil
	}
	drain := func() error {
		for len(unread) > 0 {
			if err := readOne(); err != nil {
				return err
			}
		}
		return nil
	}

	var pending bytes.Buffer
	norm := newCRLFWriter(&pending)
	buf := make([]byte, 32<<10)
	eof := false
	for {
		if !eof {
			n, rerr := r.Read(buf)
			norm.Write(buf[:n]) // to memory: cannot fail
			switch {
			case rerr == io.EOF:
				norm.Close()
				eof = true
			case rerr != nil:
				return nil, k.fail(fmt.Errorf("smtp: reading the message: %w", rerr))
			}
		}
		for chunkSize > 0 && pending.Len() > chunkSize {
			line := "BDAT " + strconv.Itoa(chunkSize)
			if err := c.sendChunk(k, line, pending.Next(chunkSize)); err != nil {
				return nil, err
			}
			unread = append(unread, chunk{line, chunkSize})
			inFlight += chunkSize
			for len(unread) > 0 && (len(unread) >= window || inFlight > bdatInFlight) {
				if err := readOne(); err != nil {
					return nil, err
				}
			}
			if refused != nil {
				if err := drain(); err != nil {
					return nil, err
				}
				return nil, refused
			}
		}
		if eof {
			break
		}
	}
	line := "BDAT " + strconv.Itoa(pending.Len()) + " LAST"
	if err := c.sendChunk(k, line, pending.Bytes()); err != nil {
		return nil, err
	}
	if err := drain(); err != nil {
		return nil, err
	}
	resp, err := c.endOfData(k, line, line)
	if refused != nil {
		var ce *CommandError
		if err != nil && !errors.As(err, &ce) {
			return resp, err
		}
		return nil, refused
	}
	return resp, err
}
