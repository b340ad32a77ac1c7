package dcc

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
)

// DefaultOptions is Exim's default dccifd_options.
const DefaultOptions = "header"

// DefaultMaxReply is the default limit, in bytes, of a dccifd reply.
const DefaultMaxReply = 1 << 20

// A Dialer connects to dccifd. *net.Dialer is one.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// A Client talks to one dccifd. Its zero value uses DefaultAddress,
// DefaultOptions and a plain net.Dialer. A Client is safe for
// concurrent use; each Check uses a connection of its own.
type Client struct {
	// Address is Exim's dccifd_address, usually from ParseAddress.
	Address Address
	// Options is Exim's dccifd_options, sent as the first line:
	// blank-separated words such as "header", "query", "grey-off".
	// Empty means DefaultOptions.
	Options string
	// Dialer makes the connection; nil means a net.Dialer.
	Dialer Dialer
	// MaxHeader limits the unfolded $dcc_header; 0 means
	// DefaultMaxHeader.
	MaxHeader int
	// MaxReply limits the reply read; 0 means DefaultMaxReply. A
	// longer reply is a *ReplyError.
	MaxReply int
}

// halfCloser is a connection whose sending side can be shut down.
type halfCloser interface {
	CloseWrite() error
}

// Check sends req to dccifd and reads its answer. The context bounds
// the whole exchange: its deadline becomes the connection's, and
// cancelling it closes the connection. A *Result is returned whenever
// dccifd answered by the protocol, including T (Outcome Defer). Errors
// are *RequestError (nothing was sent), *ConnError or *ReplyError; Exim
// treats all of them as a defer, see Decide.
func (c *Client) Check(ctx context.Context, req Request) (*Result, error) {
	if err := req.checkHeader(); err != nil {
		return nil, err
	}
	options := c.Options
	if options == "" {
		options = DefaultOptions
	}
	var env strings.Builder
	bw := bufio.NewWriter(&env)
	if err := req.writeEnvelope(bw, options); err != nil {
		return nil, err
	}
	bw.Flush()

	addr := c.Address.orDefault()
	d := c.Dialer
	if d == nil {
		d = &net.Dialer{}
	}
	conn, err := d.DialContext(ctx, addr.Network, addr.Addr)
	if err != nil {
		return nil, &ConnError{"dial", addr, ctxErr(ctx, err)}
	}
	defer conn.Close()
	hc, ok := conn.(halfCloser)
	if !ok {
		return nil, &ConnError{"half-close", addr, errors.New("connection cannot be half-closed")}
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	w := bufio.NewWriter(conn)
	w.WriteString(env.String())
	var bodyErr error
	if err := req.writeMessage(w); err != nil {
		bodyErr = err
	}
	if err := w.Flush(); err != nil {
		return nil, &ConnError{"write", addr, ctxErr(ctx, err)}
	}
	if bodyErr != nil {
		// The message is incomplete: do not let dccifd judge it.
		return nil, &RequestError{"Body", bodyErr.Error()}
	}
	if err := hc.CloseWrite(); err != nil {
		return nil, &ConnError{"half-close", addr, ctxErr(ctx, err)}
	}
	max := c.MaxReply
	if max <= 0 {
		max = DefaultMaxReply
	}
	reply, err := io.ReadAll(io.LimitReader(conn, int64(max)+1))
	if err != nil {
		return nil, &ConnError{"read", addr, ctxErr(ctx, err)}
	}
	if len(reply) > max {
		return nil, newReplyError("reply longer than the limit", reply)
	}
	return ParseReply(reply, len(req.Recipients), c.MaxHeader)
}

// ctxErr prefers the context's error, which explains a closed
// connection or an expired deadline better than the I/O error.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	// The connection's deadline is the context's, which can pass a
	// moment before the context notices.
	if _, ok := ctx.Deadline(); ok && errors.Is(err, os.ErrDeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return err
}

// Decide gives the dcc ACL condition's value from Check's return
// values, with Exim's "/defer_ok" option: a defer (dccifd said T, or
// any error) becomes Fail when deferOK is true.
func Decide(res *Result, err error, deferOK bool) Outcome {
	o := Defer
	if err == nil && res != nil {
		o = res.Outcome
	}
	if o == Defer && deferOK {
		return Fail
	}
	return o
}

// Enabled reports whether a dcc condition value asks for a check, as
// Exim decides: the first colon-separated item of the value (before
// any "/option") must not be empty, "false" (in any case) or "0".
// It also reports whether the defer_ok option was given.
func Enabled(arg string) (run, deferOK bool) {
	parts := strings.Split(arg, "/")
	for _, o := range parts[1:] {
		if strings.EqualFold(strings.TrimSpace(o), "defer_ok") {
			deferOK = true
		}
	}
	v, _, _ := strings.Cut(parts[0], ":")
	v = strings.TrimSpace(v)
	run = !(v == "" || v == "0" || strings.EqualFold(v, "false"))
	return run, deferOK
}
