package resolver

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/miekg/dns"
)

// Query asks the configured servers one question. A name is accepted with
// or without its trailing dot and is always taken as absolute.
//
// Servers are tried in order; a timeout, network error or SERVFAIL moves on
// to the next server, and the whole list is tried again up to the retry
// count. REFUSED, NOTIMP, FORMERR and malformed replies also move on but
// that server is not asked again. NOERROR and NXDOMAIN are final.
//
// The timeout (WithTimeout) bounds the whole query, every server, retry
// and TCP fallback included; a caller's earlier deadline or cancellation
// ends it sooner. Each attempt gets an equal share of what is left of the
// budget for the attempts still planned, so an attempt that fails fast
// (connection refused, REFUSED) leaves its time to the others, and the
// last one gets all the rest. A retry to a server resends the same query
// on the same UDP socket, so an answer that is merely slower than one
// share still counts when it arrives during a later attempt.
//
// For NXDOMAIN and NODATA, Query returns both a Response (whose Authentic
// tells whether the denial was DNSSEC-validated) and an *Error of kind
// ErrNotFound or ErrNoData. Other failures return a nil Response.
//
// With WithCache, answers and denials come from the cache while their
// TTL lasts, and a query already on the wire for the same name and type
// is waited for instead of being sent again. A cached Response is shared
// by every caller that gets it: treat it as read-only.
func (c *Resolver) Query(ctx context.Context, name string, qtype uint16) (*Response, error) {
	qname, err := canonicalName(name)
	if err != nil {
		return nil, &Error{Name: name, Type: qtype, Kind: ErrPermanent, Rcode: NoRcode, Err: err}
	}
	if c.cache != nil {
		return c.cache.query(ctx, c, qname, qtype)
	}
	return c.exchange(ctx, qname, qtype)
}

// exchange asks the servers about qname, which is already canonical; it
// returns an *Error (never a nil-valued one) on failure.
func (c *Resolver) exchange(ctx context.Context, qname string, qtype uint16) (*Response, error) {
	c.stats.queries.Add(1)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	q := new(dns.Msg)
	q.SetQuestion(qname, qtype)
	q.SetEdns0(c.udpSize, true)
	var (
		lastTemp, lastPerm *Error
		lastServer         string
		refused            = make([]bool, len(c.servers))
		udp                = make([]net.Conn, len(c.servers))
	)
	defer func() {
		for _, conn := range udp {
			if conn != nil {
				conn.Close()
			}
		}
	}()
	for pass := range c.retries + 1 {
		asked := false
		for i, server := range c.servers {
			if refused[i] {
				continue
			}
			if err := ctxDone(ctx); err != nil {
				return nil, c.ctxError(qname, qtype, lastServer, err)
			}
			asked, lastServer = true, server
			share := c.share(ctx, c.attemptsLeft(refused, pass, i))
			resp, qerr, final := c.ask(ctx, share, q, server, &udp[i])
			if final {
				if qerr != nil {
					return resp, qerr
				}
				return resp, nil
			}
			if qerr.Kind == ErrPermanent {
				refused[i] = true
				lastPerm = qerr
			} else {
				lastTemp = qerr
			}
		}
		if !asked {
			break
		}
	}
	// A server that failed transiently might answer later, so that is the
	// more useful thing to report when both kinds of failure occurred.
	if lastTemp != nil {
		return nil, lastTemp
	}
	return nil, lastPerm
}

// attemptsLeft counts the attempts still planned, this one included, when
// server i is about to be asked in the given pass: servers that gave a
// permanent failure are not asked again, so they take no share.
func (c *Resolver) attemptsLeft(refused []bool, pass, i int) int {
	live, fromHere := 0, 0
	for j, r := range refused {
		if !r {
			live++
			if j >= i {
				fromHere++
			}
		}
	}
	return fromHere + (c.retries-pass)*live
}

// share is one attempt's part of what is left of ctx's deadline (which
// Query always sets).
func (c *Resolver) share(ctx context.Context, attempts int) time.Duration {
	dl, _ := ctx.Deadline()
	return time.Until(dl) / time.Duration(max(attempts, 1))
}

// ask performs one attempt against one server, over UDP (on *udp, which
// it dials if nil and keeps for the next attempt) and then TCP if the
// reply was truncated; both together get at most share.
func (c *Resolver) ask(ctx context.Context, share time.Duration, q *dns.Msg, server string, udp *net.Conn) (*Response, *Error, bool) {
	qname, qtype := q.Question[0].Name, q.Question[0].Qtype
	actx, cancel := context.WithTimeout(ctx, share)
	defer cancel()
	r, err := c.exchangeUDP(actx, server, q, udp)
	if errors.Is(err, errTruncated) {
		r, err = c.exchangeTCP(actx, server, q)
	}
	if err != nil {
		if cerr := ctxDone(ctx); cerr != nil {
			return nil, c.ctxError(qname, qtype, server, cerr), true
		}
		kind := ErrTemporary
		if errors.Is(err, errMalformed) {
			kind = ErrPermanent
		}
		return nil, &Error{Name: trimDot(qname), Type: qtype, Kind: kind, Rcode: NoRcode, Server: server, Err: err}, false
	}
	resp, kind, final := interpret(r, qname, qtype, server, c.trustAD)
	if kind == nil {
		return resp, nil, true
	}
	return resp, &Error{Name: trimDot(qname), Type: qtype, Kind: kind, Rcode: r.Rcode, Server: server}, final
}

// ctxDone is ctx.Err, except that a deadline counts as soon as it has
// passed: the socket deadline can fire a moment before the context's own
// timer marks it done, and that timeout belongs to the caller's deadline,
// not to the server.
func ctxDone(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

func (c *Resolver) ctxError(qname string, qtype uint16, server string, err error) *Error {
	return &Error{Name: trimDot(qname), Type: qtype, Kind: ErrTemporary, Rcode: NoRcode, Server: server, Err: err}
}

// The exchanges drive the connection themselves because miekg/dns's
// ExchangeContext only honours a context's deadline, not its
// cancellation: cancellation moves the socket deadline into the past,
// which wakes the blocked read without a goroutine of our own.

// watch sets conn's deadline to ctx's and makes cancellation end any
// blocked read; call the returned stop when the exchange is over.
func watch(ctx context.Context, conn net.Conn) (stop func() bool) {
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// Registered after SetDeadline so a cancellation racing with it
	// cannot be overwritten by the later deadline. An expired deadline
	// is left to the socket: the callback may run late, after the next
	// attempt has set its own deadline on the same UDP socket.
	return context.AfterFunc(ctx, func() {
		if errors.Is(ctx.Err(), context.Canceled) {
			_ = conn.SetDeadline(time.Unix(1, 0))
		}
	})
}

// exchangeUDP sends q on *connp (dialled first if nil) and waits until
// ctx's deadline for a reply to it or to an earlier transmission of it.
// A socket that failed other than by timing out is closed and dropped,
// so the next attempt starts afresh.
func (c *Resolver) exchangeUDP(ctx context.Context, server string, q *dns.Msg, connp *net.Conn) (_ *dns.Msg, err error) {
	wire, err := q.Pack()
	if err != nil {
		return nil, fmt.Errorf("%w: packing query: %v", errMalformed, err)
	}
	if *connp == nil {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "udp", server)
		if err != nil {
			return nil, err
		}
		*connp = conn
	}
	conn := *connp
	defer func() {
		var ne net.Error
		if err != nil && !(errors.As(err, &ne) && ne.Timeout()) && !errors.Is(err, errTruncated) {
			conn.Close()
			*connp = nil
		}
	}()
	stop := watch(ctx, conn)
	defer stop()

	if _, err := conn.Write(wire); err != nil {
		return nil, err
	}
	// One spare octet reveals a server that ignored our advertised size
	// (the kernel silently cuts datagrams to the buffer).
	buf := make([]byte, int(c.udpSize)+1)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return nil, err
		}
		if n > int(c.udpSize) {
			return nil, errTruncated
		}
		r, err := decodeReply(q, buf[:n])
		if errors.Is(err, errMismatch) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if r.Truncated {
			return nil, errTruncated
		}
		return r, nil
	}
}

// exchangeTCP sends q to server over a new TCP connection and waits until
// ctx's deadline for the reply.
func (c *Resolver) exchangeTCP(ctx context.Context, server string, q *dns.Msg) (*dns.Msg, error) {
	wire, err := q.Pack()
	if err != nil {
		return nil, fmt.Errorf("%w: packing query: %v", errMalformed, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := watch(ctx, conn)
	defer stop()

	out := make([]byte, 2+len(wire))
	binary.BigEndian.PutUint16(out, uint16(len(wire)))
	copy(out[2:], wire)
	if _, err := conn.Write(out); err != nil {
		return nil, err
	}
	var lenBuf [2]byte
	if _, err := io.ReadFull(conn, lenBuf[:]); err != nil {
		return nil, err
	}
	buf := make([]byte, binary.BigEndian.Uint16(lenBuf[:]))
	if _, err := io.ReadFull(conn, buf); err != nil {
		return nil, err
	}
	r, err := decodeReply(q, buf)
	switch {
	case errors.Is(err, errMismatch), errors.Is(err, errTruncated):
		// A stream carries only our exchange, so there is nothing else to
		// wait for.
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	case err != nil:
		return nil, err
	}
	return r, nil
}
