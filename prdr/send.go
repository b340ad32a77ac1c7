package prdr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/mailpolicy/mailpolicy/smtp"
)

// A Dialer opens the connection for Send; *net.Dialer is one.
type Dialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// An Option configures Send.
type Option func(*sendConfig)

type sendConfig struct {
	helo    string
	bdat    bool
	chunk   int
	noPRDR  bool
	dialer  Dialer
	onReply func(stage string, r smtp.Reply)
}

// WithHelo sets the EHLO (and HELO) name; the default is "localhost".
func WithHelo(name string) Option { return func(c *sendConfig) { c.helo = name } }

// WithBDAT sends the message with BDAT when the server offers CHUNKING
// (RFC 3030), in chunks of chunkSize octets; 0 sends it in one "BDAT n
// LAST". Without it, or without CHUNKING, DATA is used.
func WithBDAT(chunkSize int) Option {
	return func(c *sendConfig) { c.bdat, c.chunk = true, chunkSize }
}

// WithoutPRDR never adds the PRDR parameter, even when it is offered.
func WithoutPRDR() Option { return func(c *sendConfig) { c.noPRDR = true } }

// WithDialer dials the server with d instead of a net.Dialer.
func WithDialer(d Dialer) Option { return func(c *sendConfig) { c.dialer = d } }

// WithOnReply passes every reply of the session to f, with its stage,
// as smtp.Client.OnReply: where a caller raises smtp:connect and
// smtp:ehlo events.
func WithOnReply(f func(stage string, r smtp.Reply)) Option {
	return func(c *sendConfig) { c.onReply = f }
}

// A SendResult is the outcome of one Send.
type SendResult struct {
	Offered    bool               // the server's EHLO reply listed PRDR
	Requested  bool               // MAIL carried the PRDR parameter
	Chunking   bool               // the message went with BDAT
	DataCmd    string             // "DATA" or the last BDAT command; "" if no data was sent
	Recipients []RecipientOutcome // one per address given, in order
	Data       *DataResult        // the end-of-data replies; nil if no data was sent
}

// Send delivers one message to the SMTP server at addr (host:port) with
// an smtp.Client and returns the outcome for each recipient. It says
// EHLO (HELO when EHLO is refused), sends MAIL FROM with the PRDR
// parameter when the server offers PRDR and there are at least two
// recipients, one RCPT per address, then the message from data with
// DATA (dot-stuffed, bare LF made CRLF) or BDAT (WithBDAT), combines
// the end-of-data replies with Combine and says QUIT.
//
// A refused MAIL, RCPT or data transfer is not an error: it shows in
// the recipients' outcomes. The error is for a connection that fails, a
// greeting or EHLO that is refused (a *smtp.CommandError), and a
// malformed reply; the result may then be partial (see Combine). The
// context's deadline bounds the whole session, and cancelling the
// context aborts it.
func Send(ctx context.Context, addr, from string, to []string, data io.Reader, opts ...Option) (*SendResult, error) {
	var cfg sendConfig
	for _, o := range opts {
		o(&cfg)
	}
	if len(to) == 0 {
		return nil, errors.New("prdr: Send: no recipients")
	}
	for _, a := range append([]string{from}, to...) {
		if strings.ContainsAny(a, "<>\r\n ") {
			return nil, fmt.Errorf("prdr: Send: invalid address %q", a)
		}
	}
	var d Dialer = &net.Dialer{}
	if cfg.dialer != nil {
		d = cfg.dialer
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("prdr: %w", err)
	}
	c := smtp.NewClient(conn)
	defer c.Close()
	c.LocalName, c.OnReply = cfg.helo, cfg.onReply
	res := &SendResult{Recipients: make([]RecipientOutcome, len(to))}
	for i, a := range to {
		res.Recipients[i] = RecipientOutcome{Recipient: a, Status: Deferred}
	}
	if err := send(ctx, c, &cfg, res, from, to, data); err != nil {
		return res, fmt.Errorf("prdr: %w", err)
	}
	return res, nil
}

// refusal returns the reply of a *smtp.CommandError, or false for any
// other error.
func refusal(err error) (smtp.Reply, bool) {
	var ce *smtp.CommandError
	if errors.As(err, &ce) {
		return ce.Reply, true
	}
	return smtp.Reply{}, false
}

func send(ctx context.Context, c *smtp.Client, cfg *sendConfig, res *SendResult, from string, to []string, data io.Reader) error {
	quit := func() { c.Quit(ctx) } // errors do not matter: the outcome is known
	if _, err := c.Hello(ctx); err != nil {
		if _, ok := refusal(err); ok {
			quit()
		}
		return err
	}
	ext := c.Extensions()
	res.Offered = ext.Has(Keyword)
	res.Chunking = cfg.bdat && ext.Has("CHUNKING")
	res.Requested = !cfg.noPRDR && MailSuffix(res.Offered, len(to)) != ""

	set := func(idx []int, rep smtp.Reply) {
		for _, i := range idx {
			o := &res.Recipients[i]
			o.Status, o.Reply, o.Message = statusOf(rep), rep, rep.String()
		}
	}
	everyone := make([]int, len(to))
	for i := range everyone {
		everyone[i] = i
	}
	var mp *smtp.MailParams
	if res.Requested {
		mp = &smtp.MailParams{PRDR: true}
	}
	if _, err := c.Mail(ctx, from, mp); err != nil {
		if rep, ok := refusal(err); ok {
			set(everyone, rep)
			quit()
			return nil
		}
		return err
	}
	var okIdx []int
	var okAddr []string
	for i, a := range to {
		if _, err := c.Rcpt(ctx, a, nil); err != nil {
			if rep, ok := refusal(err); ok {
				set([]int{i}, rep)
				continue
			}
			return err
		}
		okIdx = append(okIdx, i)
		okAddr = append(okAddr, a)
	}
	if len(okIdx) == 0 {
		quit()
		return nil
	}

	var resp *smtp.DataResponse
	var err error
	if res.Chunking {
		resp, err = c.BDAT(ctx, data, cfg.chunk)
	} else {
		resp, err = c.Data(ctx, data)
	}
	if resp == nil {
		if rep, ok := refusal(err); ok { // DATA or a BDAT chunk refused
			set(okIdx, rep)
			quit()
			return nil
		}
		return err
	}
	res.DataCmd = resp.Command
	dr, err := Combine(resp, okAddr, err)
	res.Data = dr
	for j, i := range okIdx {
		res.Recipients[i] = dr.Recipients[j]
	}
	if err != nil {
		return err
	}
	quit()
	return nil
}
