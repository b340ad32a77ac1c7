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
	"github.com/mailpolicy/mailpolicy/tlsrpt"
)

// remoteSession is one message's dialogue with one host address, on a
// connection of its own or on one kept from an earlier message (pool.go).
type remoteSession struct {
	q       *Courier
	env     *queue.Envelope
	t       target
	base    events.Event
	last    bool
	waiting func() bool // other deliveries wait for the destination

	c      *smtp.Client
	cn     *conn // the connection c is on
	reused bool  // cn came from the pool

	greeting, heloResp string // first lines with the code, for the DSN
	tlsReady           bool   // the server said 220 to STARTTLS
	dane, tlsOn, prdr  bool

	// The TLS policy (tlspolicy.go): its name for the logs, the
	// MTA-STS mode when that applies, what PKIX verification found
	// under it, the last dane:fail data, and what goes to TLSReports.
	tlsPolicy              string
	stsEnforce, stsTesting bool
	stsErr                 error
	daneSet                *dane.TLSASet
	daneFail               string
	report                 sessionReport
}

// smtpErrMsg is Exim's message for a reply that ends (part of) the
// session.
func smtpErrMsg(after string, r smtp.Reply) string {
	return "SMTP error from remote mail server after " + after + ": " + r.String()
}

// session sends the message to rcpts on a kept connection to the host
// when there is one, else on a new one. It returns one result per
// recipient, or a host defer; hostErr is true when the host itself
// failed (the connection or the dialogue up to MAIL, I/O afterwards),
// which the host retry database counts.
func (s *remoteSession) session(ctx context.Context, data message, rcpts []*queue.Recipient) (results []result, hd *hostDefer, hostErr bool) {
	if cn := s.q.pool().take(s.t.key()); cn != nil {
		s.adopt(ctx, cn)
		results, hd, keep, stale := s.transaction(ctx, data, rcpts)
		if !stale {
			s.end(ctx, keep)
			return results, hd, hd != nil && !keep
		}
		// It died while it waited (the server's idle timeout): a new
		// connection instead, and the old one counts for nothing.
		s.q.Logger.Debug("kept connection lost", "host", s.t.host, "ip", s.t.ip.String())
		s.close(ctx)
		s.reused, s.cn, s.c = false, nil, nil
		s.base.SendingIP, s.base.SendingPort = netip.Addr{}, 0
	}
	fail, hd := s.connect(ctx)
	if fail != nil || hd != nil {
		if s.cn != nil {
			s.close(ctx)
		}
		if fail != nil {
			return failAll(len(rcpts), fail.message, fail.status5), nil, false
		}
		return nil, hd, hd.errno != ErrnoEvent && hd.errno != ErrnoExpandFail && !hd.policy && ctx.Err() == nil
	}
	results, hd, keep, _ := s.transaction(ctx, data, rcpts)
	s.end(ctx, keep)
	return results, hd, hd != nil && !keep && ctx.Err() == nil
}

// failAll is every recipient failed with msg and status.
func failAll(n int, msg, status string) []result {
	results := make([]result, n)
	for i := range results {
		results[i] = result{status: prdr.Failed, message: msg, status5: status}
	}
	return results
}

// connect opens the connection: DANE decision, tcp:connect, the
// greeting, smtp:connect, EHLO and STARTTLS. On success s.cn is set
// and fail and hd are nil; fail when the recipients fail at this host,
// a host defer otherwise (s.cn set when a connection was made: the
// caller closes it).
func (s *remoteSession) connect(ctx context.Context) (fail *result, hd *hostDefer) {
	q := s.q
	cfg := q

	// DANE decision (before connecting, as Exim).
	var dd *dane.Decision
	policy := q.danePolicy(ctx, s.base)
	if policy != nil {
		notify := policy.Event
		policy.Event = func(name, data string) {
			s.daneFail = data
			notify(name, data)
		}
		dd = policy.Check(ctx, s.t.host, s.t.ip, s.t.port, s.t.secure, q.daneOpts()...)
		s.daneSet = dd.Set
		switch dd.Action {
		case dane.ActionFail:
			s.decideTLSPolicy(true, dd.Set)
			return &result{status: prdr.Failed, message: dd.Message, status5: "5.7.5"}, nil
		case dane.ActionDefer:
			s.decideTLSPolicy(true, dd.Set)
			if dd.EventData == "" { // secure TLSA records, none usable
				s.tlsFailure(tlsrpt.ResultTLSAInvalid, dd.Message, "")
			}
			return nil, &hostDefer{message: dd.Message}
		case dane.ActionDANE:
			s.dane = true
		}
	}
	// MTA-STS where DANE does not apply (RFC 8461 §2).
	s.decideTLSPolicy(false, s.daneSet)
	if hd := s.stsMatch(); hd != nil {
		return nil, hd
	}

	// tcp:connect.
	if d := q.raiseOut(ctx, s.ev(events.TCPConnect, "")); d.Refused() {
		return nil, &hostDefer{errno: ErrnoEvent}
	}
	dialer := net.Dialer{Timeout: cfg.SMTPTimeout}
	nc, err := dialer.DialContext(ctx, "tcp", netip.AddrPortFrom(s.t.ip, uint16(s.t.port)).String())
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return nil, &hostDefer{errno: int(errno)}
		}
		return nil, &hostDefer{message: err.Error()}
	}
	if la, err := netip.ParseAddrPort(nc.LocalAddr().String()); err == nil {
		s.base.SendingIP, s.base.SendingPort = la.Addr().Unmap(), int(la.Port())
	}
	// Replies are bounded (smtp.Limits' defaults): a hostile server
	// must not make the queue runner buffer without end.
	c := smtp.NewClient(nc)
	c.LocalName, c.Timeout, c.DataTimeout = cfg.Hostname, cfg.SMTPTimeout, cfg.SMTPTimeout
	c.OnReply = func(stage string, r smtp.Reply) { s.onReply(ctx, stage, r) }
	s.c = c
	s.cn = &conn{key: s.t.key(), c: c}

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
	if fail, hd := s.hello(ctx); fail != nil || hd != nil {
		return fail, hd
	}

	// STARTTLS: under DANE required (dane.Policy.Connect), under
	// mta-sts(enforce) too, otherwise when offered.
	if !s.dane && !c.Extensions().Has("STARTTLS") {
		s.tlsFailure(tlsrpt.ResultSTARTTLSNotSupported, "STARTTLS not offered", "")
		if s.stsEnforce {
			s.quit(ctx)
			return nil, &hostDefer{message: "MTA-STS error: STARTTLS not offered by " + s.t.host, policy: true}
		}
	}
	if s.dane || c.Extensions().Has("STARTTLS") {
		if hd := s.startTLS(ctx, policy, dd); hd != nil {
			return nil, hd
		}
		if s.tlsOn {
			if fail, hd := s.hello(ctx); fail != nil || hd != nil {
				return fail, hd
			}
		}
	}
	s.cn.greeting, s.cn.heloResp, s.cn.dane, s.cn.tlsOn = s.greeting, s.heloResp, s.dane, s.tlsOn
	s.cn.sendIP, s.cn.sendPort = s.base.SendingIP, s.base.SendingPort
	s.cn.daneSet, s.cn.certFail = s.daneSet, s.report.failure
	return nil, nil
}

// adopt takes over a kept connection for this message.
func (s *remoteSession) adopt(ctx context.Context, cn *conn) {
	s.cn, s.c, s.reused = cn, cn.c, true
	s.greeting, s.heloResp, s.dane, s.tlsOn = cn.greeting, cn.heloResp, cn.dane, cn.tlsOn
	s.base.SendingIP, s.base.SendingPort = cn.sendIP, cn.sendPort
	cn.c.OnReply = func(stage string, r smtp.Reply) { s.onReply(ctx, stage, r) }
	// The connection's TLS state counts again for this message: the
	// policy is the same (the key says so: host, DANE state, and the
	// domain under an enforced policy), the domain may be another.
	s.daneSet = cn.daneSet
	s.decideTLSPolicy(false, cn.daneSet)
	s.stsMatch() // under testing, a report; under enforce it matched
	if cn.certFail != nil && s.report.failure == nil {
		f := *cn.certFail
		s.report.failure = &f
	}
}

// transaction sends the message: MAIL, RCPT, DATA. keep reports that
// the connection is in step for another transaction; stale that a
// kept connection failed at once (before any reply to MAIL), so that
// the message is owed a new one.
func (s *remoteSession) transaction(ctx context.Context, data message, rcpts []*queue.Recipient) (results []result, hd *hostDefer, keep, stale bool) {
	q := s.q
	cfg := q
	c := s.c
	results = make([]result, len(rcpts))
	s.cn.messages++

	// MAIL (no parameters after HELO: no extensions then).
	ext := c.Extensions()
	if status := s.env.UTF8Status(rcpts, data.body); status != "" && !ext.Has("SMTPUTF8") {
		return failAll(len(rcpts), utf8Refusal(s.t.host), status), nil, true, false
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
	// The transaction in one smtp.Client.Send: pipelined (RFC 2920)
	// when the server offers PIPELINING, lock step otherwise; the data
	// with BDAT (RFC 3030) when it offers CHUNKING, as Exim's default
	// hosts_try_chunking = *, else DATA. Every read and write is
	// bounded by SMTPTimeout; the whole transfer also by the time a
	// slow peer may take for its size.
	senv := &smtp.Envelope{From: s.env.From, MailParams: mp}
	for _, rc := range rcpts {
		rc.DSNPassed = dsn
		senv.Rcpts = append(senv.Rcpts, rc.Addr)
		senv.RcptParams = append(senv.RcptParams, dsnParams(rc, dsn))
	}
	dctx, cancel := context.WithTimeout(ctx, 3*cfg.SMTPTimeout+time.Duration(data.body.Size()/1024)*time.Second)
	defer cancel()
	res, err := c.Send(dctx, senv, data.reader(), smtp.SendOptions{BDAT: true})
	if res == nil || res.Mail.Code == 0 {
		// Nothing answered: the connection is gone (or the command
		// could not be written at all).
		return nil, s.ioDefer(ctx, err), false, s.reused && ctx.Err() == nil && res != nil
	}
	if res.Mail.Class() != 2 {
		cmd := commandLine("MAIL FROM:", s.env.From, mp.String())
		if res.Mail.Class() == 5 {
			return failAll(len(rcpts), smtpErrMsg(cmd, res.Mail), res.Mail.Enhanced().String()), nil, c.Err() == nil, false
		}
		return nil, &hostDefer{message: smtpErrMsg(cmd, res.Mail)}, c.Err() == nil, false
	}

	// RCPT replies.
	var accepted []string
	var acceptedIdx []int
	for i, rc := range rcpts {
		rep := res.Rcpts[i]
		var params string
		if p := senv.RcptParams[i]; p != nil {
			params = p.String()
		}
		cmd := commandLine("RCPT TO:", rc.Addr, params)
		switch rep.Class() {
		case 0:
			return nil, s.ioDefer(ctx, err), false, false
		case 2:
			accepted = append(accepted, rc.Addr)
			acceptedIdx = append(acceptedIdx, i)
		case 5:
			results[i] = result{status: prdr.Failed, message: smtpErrMsg(cmd, rep), status5: rep.Enhanced().String()}
		default:
			msg := smtpErrMsg(cmd, rep)
			results[i] = result{status: prdr.Deferred, message: msg}
			l, d := smtp.SplitAddress(rc.Addr)
			ev := s.ev(events.MsgRcptHostDefer, msg)
			ev.LocalPart, ev.Domain, ev.DeferErrno = l, d, events.RcptDeferErrno(rep.Code, s.t.fromMX)
			q.raiseOut(ctx, ev)
			if s.last {
				ev.Name = events.MsgRcptDefer
				q.raiseOut(ctx, ev)
			}
		}
	}
	if len(accepted) == 0 {
		return results, nil, c.Err() == nil, false
	}

	// DATA (or a BDAT chunk) refused, or the data not answered.
	resp := res.Data
	if resp == nil {
		var ce *smtp.CommandError
		if !errors.As(err, &ce) {
			return nil, s.ioDefer(ctx, err), false, false
		}
		st := prdr.Deferred
		if ce.Reply.Class() == 5 {
			st = prdr.Failed
		}
		for _, i := range acceptedIdx {
			results[i] = result{status: st, message: smtpErrMsg(ce.Cmd, ce.Reply), status5: ce.Reply.Enhanced().String()}
		}
		return results, nil, c.Err() == nil, false
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
	return results, nil, err == nil || c.Err() == nil, false
}

// end ends this message's use of the connection: kept for the next
// message to the host (RSET first: the connection must prove alive, as
// Exim does before passing one on) when it is in step, deliveries wait
// for the destination and it has carried fewer than
// ConnectionMaxMessages; else QUIT, and tcp:close.
func (s *remoteSession) end(ctx context.Context, keep bool) {
	q := s.q
	s.cn.base = s.base
	if keep && ctx.Err() == nil && s.c.Err() == nil && s.cn.messages < q.maxMessages() && s.waiting != nil && s.waiting() {
		rctx, cancel := context.WithTimeout(ctx, min(q.SMTPTimeout, 30*time.Second))
		_, err := s.c.Reset(rctx)
		cancel()
		if err == nil && q.pool().put(q, s.cn) {
			return
		}
	}
	if keep && s.c.Err() == nil {
		s.quit(ctx)
	}
	s.close(ctx)
}

// close closes the connection without QUIT and raises tcp:close.
func (s *remoteSession) close(ctx context.Context) {
	s.cn.base = s.base
	s.cn.close(ctx, s.q)
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
	e.Name, e.Data, e.DANE, e.TLSPolicy = name, data, s.dane, s.tlsPolicy
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

// commandLine is a MAIL or RCPT command as sent (what Exim's error
// messages quote): verb, the path in brackets, the parameters.
func commandLine(verb, path, params string) string {
	line := verb + "<" + path + ">"
	if params != "" {
		line += " " + params
	}
	return line
}
