package remote

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"github.com/mailpolicy/mailpolicy/dane"
	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/queue"
	"github.com/mailpolicy/mailpolicy/prdr"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// remoteSession is one outbound SMTP session, on an smtp.Client.
type remoteSession struct {
	q    *Courier
	env  *queue.Envelope
	t    target
	base events.Event
	last bool

	c *smtp.Client

	greeting, heloResp string // first lines with the code, for the DSN
	tlsReady           bool   // the server said 220 to STARTTLS
	dane, tlsOn, prdr  bool
}

// smtpErrMsg is Exim's message for a reply that ends (part of) the
// session.
func smtpErrMsg(after string, r smtp.Reply) string {
	return "SMTP error from remote mail server after " + after + ": " + r.String()
}

// session runs the dialogue. It returns one result per recipient, or
// a host defer.
func (s *remoteSession) session(ctx context.Context, data message, rcpts []*queue.Recipient) ([]result, *hostDefer) {
	q := s.q
	cfg := q
	results := make([]result, len(rcpts))
	failAll := func(msg, status string) ([]result, *hostDefer) {
		for i := range results {
			results[i] = result{status: prdr.Failed, message: msg, status5: status}
		}
		return results, nil
	}

	// DANE decision (before connecting, as Exim).
	var dd *dane.Decision
	policy := q.danePolicy(ctx, s.base)
	if policy != nil {
		dd = policy.Check(ctx, s.t.host, s.t.ip, s.t.port, s.t.secure, q.daneOpts()...)
		switch dd.Action {
		case dane.ActionFail:
			return failAll(dd.Message, "5.7.5")
		case dane.ActionDefer:
			return nil, &hostDefer{message: dd.Message}
		case dane.ActionDANE:
			s.dane = true
		}
	}

	// tcp:connect.
	if d := q.raiseOut(ctx, s.ev(events.TCPConnect, "")); d.Refused() {
		return nil, &hostDefer{errno: ErrnoEvent}
	}
	dialer := net.Dialer{Timeout: cfg.SMTPTimeout}
	conn, err := dialer.DialContext(ctx, "tcp", netip.AddrPortFrom(s.t.ip, uint16(s.t.port)).String())
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return nil, &hostDefer{errno: int(errno)}
		}
		return nil, &hostDefer{message: err.Error()}
	}
	if la, err := netip.ParseAddrPort(conn.LocalAddr().String()); err == nil {
		s.base.SendingIP, s.base.SendingPort = la.Addr().Unmap(), int(la.Port())
	}
	// Replies are bounded (smtp.Limits' defaults): a hostile server
	// must not make the queue runner buffer without end.
	c := smtp.NewClient(conn)
	c.LocalName, c.Timeout, c.DataTimeout = cfg.Hostname, cfg.SMTPTimeout, cfg.SMTPTimeout
	c.OnReply = func(stage string, r smtp.Reply) { s.onReply(ctx, stage, r) }
	s.c = c
	defer func() {
		c.Close()
		q.raiseOut(ctx, s.ev(events.TCPClose, ""))
	}()

	// Greeting, then smtp:connect.
	banner, err := c.Greet(ctx)
	if err != nil {
		var ce *smtp.CommandError
		if errors.As(err, &ce) {
			s.quit(ctx)
			return nil, &hostDefer{message: smtpErrMsg("initial connection", ce.Reply)}
		}
		return nil, s.ioDefer(ctx, err)
	}
	if d := q.raiseOut(ctx, s.ev(events.SMTPConnect, events.BannerData(replyLines(banner)))); d.Refused() {
		s.quit(ctx)
		return nil, &hostDefer{message: d.DeferMessage(), errno: ErrnoExpandFail}
	}

	// EHLO, HELO fallback.
	if fail, hd := s.hello(ctx); hd != nil {
		return nil, hd
	} else if fail != nil {
		return failAll(fail.message, fail.status5)
	}

	// STARTTLS: under DANE required (dane.Policy.Connect), otherwise
	// when offered.
	if s.dane || c.Extensions().Has("STARTTLS") {
		if hd := s.startTLS(ctx, policy, dd); hd != nil {
			return nil, hd
		}
		if s.tlsOn {
			if fail, hd := s.hello(ctx); hd != nil {
				return nil, hd
			} else if fail != nil {
				return failAll(fail.message, fail.status5)
			}
		}
	}

	// MAIL (no parameters after HELO: no extensions then).
	ext := c.Extensions()
	if status := s.env.UTF8Status(rcpts, data.body); status != "" && !ext.Has("SMTPUTF8") {
		s.quit(ctx)
		return failAll(utf8Refusal(s.t.host), status)
	}
	s.prdr = prdr.MailSuffix(ext.Has(prdr.Keyword), len(rcpts)) != ""
	mp := &smtp.MailParams{PRDR: s.prdr, SMTPUTF8: s.env.SMTPUTF8 && ext.Has("SMTPUTF8")}
	dsn := ext.Has("DSN")
	if dsn {
		mp.Ret, mp.EnvID = smtp.Ret(s.env.Ret), s.env.EnvID
	}
	if ext.Has("SIZE") {
		mp.Size = data.size()
	}
	if _, err := c.Mail(ctx, s.env.From, mp); err != nil {
		var ce *smtp.CommandError
		if !errors.As(err, &ce) {
			return nil, s.ioDefer(ctx, err)
		}
		s.quit(ctx)
		if ce.Reply.Class() == 5 {
			return failAll(smtpErrMsg(ce.Cmd, ce.Reply), ce.Reply.Enhanced().String())
		}
		return nil, &hostDefer{message: smtpErrMsg(ce.Cmd, ce.Reply)}
	}

	// RCPT.
	var accepted []string
	var acceptedIdx []int
	for i, rc := range rcpts {
		rc.DSNPassed = dsn
		_, err := c.Rcpt(ctx, rc.Addr, dsnParams(rc, dsn))
		var ce *smtp.CommandError
		switch {
		case err == nil:
			accepted = append(accepted, rc.Addr)
			acceptedIdx = append(acceptedIdx, i)
		case !errors.As(err, &ce):
			return nil, s.ioDefer(ctx, err)
		case ce.Reply.Class() == 5:
			results[i] = result{status: prdr.Failed, message: smtpErrMsg(ce.Cmd, ce.Reply), status5: ce.Reply.Enhanced().String()}
		default:
			msg := smtpErrMsg(ce.Cmd, ce.Reply)
			results[i] = result{status: prdr.Deferred, message: msg}
			l, d := smtp.SplitAddress(rc.Addr)
			ev := s.ev(events.MsgRcptHostDefer, msg)
			ev.LocalPart, ev.Domain, ev.DeferErrno = l, d, events.RcptDeferErrno(ce.Reply.Code, s.t.fromMX)
			q.raiseOut(ctx, ev)
			if s.last {
				ev.Name = events.MsgRcptDefer
				q.raiseOut(ctx, ev)
			}
		}
	}
	if len(accepted) == 0 {
		s.quit(ctx)
		return results, nil
	}

	// DATA. Every read and write is bounded by SMTPTimeout; the whole
	// transfer also by the time a slow peer may take for its size.
	dctx, cancel := context.WithTimeout(ctx, 3*cfg.SMTPTimeout+time.Duration(data.size()/1024)*time.Second)
	defer cancel()
	resp, err := c.Data(dctx, data.reader())
	if resp == nil {
		var ce *smtp.CommandError
		if !errors.As(err, &ce) {
			return nil, s.ioDefer(ctx, err)
		}
		// DATA refused.
		st := prdr.Deferred
		if ce.Reply.Class() == 5 {
			st = prdr.Failed
		}
		for _, i := range acceptedIdx {
			results[i] = result{status: st, message: smtpErrMsg("DATA", ce.Reply), status5: ce.Reply.Enhanced().String()}
		}
		s.quit(ctx)
		return results, nil
	}
	dr, err := prdr.Combine(resp, accepted, err)
	for k, o := range dr.Recipients {
		i := acceptedIdx[k]
		res := result{status: o.Status, message: o.Message, status5: o.Reply.Enhanced().String()}
		switch o.Status {
		case prdr.Delivered:
			res.confirm = dr.Final.String()
			if dr.PRDR {
				res.confirm = o.Message
			}
		default:
			if !dr.PRDR && o.Err == nil {
				res.message = smtpErrMsg("end of data", o.Reply)
			}
			if o.Err != nil {
				res.message = "SMTP session with " + s.t.host + " failed after end of data: " + o.Err.Error()
			}
		}
		results[i] = res
	}
	if err == nil {
		s.quit(ctx)
	}
	return results, nil
}

// onReply sees every reply the client reads: it keeps the greeting and
// the HELO response for the DSN and raises smtp:ehlo for every EHLO
// reply, whatever its code (as Exim; HELO follows a 5xx).
func (s *remoteSession) onReply(ctx context.Context, stage string, r smtp.Reply) {
	switch stage {
	case smtp.StageConnect:
		s.greeting = replyLines(r)[0]
	case smtp.StageEHLO:
		s.q.raiseOut(ctx, s.ev(events.SMTPEHLO, events.EHLOData(replyLines(r))))
		s.heloResp = replyLines(r)[0]
	case smtp.StageHELO:
		s.heloResp = replyLines(r)[0]
	case smtp.StageSTARTTLS:
		s.tlsReady = r.Code == smtp.ReplyServiceReady
	}
}

// ioDefer is the host defer for a failed session: a broken connection
// or reply, a timeout, or the queue's shutdown.
func (s *remoteSession) ioDefer(ctx context.Context, err error) *hostDefer {
	if ctx.Err() != nil {
		return &hostDefer{message: "delivery interrupted: " + ctx.Err().Error()}
	}
	return &hostDefer{message: "SMTP session with " + s.t.host + " failed: " + err.Error()}
}

// hello says EHLO, and HELO after a 5xx. A 5xx to HELO fails the
// recipients (fail); anything else that ends the session defers the
// host.
func (s *remoteSession) hello(ctx context.Context) (fail *result, hd *hostDefer) {
	_, err := s.c.Hello(ctx)
	if err == nil {
		return nil, nil
	}
	var ce *smtp.CommandError // Cmd: "EHLO name" or "HELO name"
	if !errors.As(err, &ce) {
		return nil, s.ioDefer(ctx, err)
	}
	s.quit(ctx)
	msg := smtpErrMsg(ce.Cmd, ce.Reply)
	if ce.Reply.Class() == 5 {
		return &result{status: prdr.Failed, message: msg, status5: ce.Reply.Enhanced().String()}, nil
	}
	return nil, &hostDefer{message: msg}
}

// ev is the session's event with a name and data.
func (s *remoteSession) ev(name events.Name, data string) events.Event {
	e := s.base
	e.Name, e.Data, e.DANE = name, data, s.dane
	return e
}

// quit ends the session politely; errors do not matter any more.
func (s *remoteSession) quit(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, min(s.q.SMTPTimeout, 5*time.Second))
	defer cancel()
	s.c.Quit(ctx)
}

// replyLines gives the reply's lines as received: code, separator,
// text (the form of $event_data and of the DSN's greeting and HELO
// response).
func replyLines(r smtp.Reply) []string {
	if len(r.Text) == 0 {
		return []string{strconv.Itoa(r.Code)}
	}
	out := make([]string, len(r.Text))
	for i, t := range r.Text {
		sep := "-"
		if i == len(r.Text)-1 {
			sep = " "
		}
		out[i] = strconv.Itoa(r.Code) + sep + t
	}
	return out
}
