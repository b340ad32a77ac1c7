package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mailpolicy/mailpolicy/dane"
	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/ocsp"
	"github.com/mailpolicy/mailpolicy/prdr"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// Exim's own (negative) errnos, as msg:host:defer and msg:defer give
// them in $event_defer_errno.
const (
	errnoEvent      = -58 // ERRNO_EVENT: tcp:connect refused the connection
	errnoExpandFail = -27 // ERRNO_EXPANDFAIL: smtp:connect deferred everything
)

// Names in the events, after Exim's default configuration.
const (
	routerName    = "dnslookup"
	transportName = "remote_smtp"
)

// target is one address of one host to try.
type target struct {
	host   string
	ip     netip.Addr
	port   int
	fromMX bool
	secure bool // DNSSEC-authenticated MX and address lookups
}

// result is what one attempt did for one recipient.
type result struct {
	status  prdr.Status
	message string // Exim's address message
	confirm string // the server's confirmation, for msg:delivery
	status5 string // enhanced status code, when the server gave one
}

// hostDefer is a failure of a whole host: every recipient still
// open is deferred (and tried on the next host).
type hostDefer struct {
	message string
	errno   int
}

// deliverMessage tries the pending recipients of env, grouped by
// domain, and records the results in env.
func (q *queue) deliverMessage(ctx context.Context, env *envelope, data []byte) {
	var domains []string
	groups := map[string][]*spoolRcpt{}
	for _, r := range env.Rcpts {
		if r.State != rcptPending {
			continue
		}
		_, d := smtp.SplitAddress(r.Addr)
		if _, ok := groups[d]; !ok {
			domains = append(domains, d)
		}
		groups[d] = append(groups[d], r)
	}
	for _, d := range domains {
		if ctx.Err() != nil {
			return
		}
		q.deliverDomain(ctx, env, data, d, groups[d])
	}
}

// resolve finds the hosts of domain in MX preference order (the domain
// itself when it has no MX). fail is set when the domain cannot get
// mail at all; a non-empty defer message when DNS failed for now.
func (q *queue) resolve(ctx context.Context, domain string) (targets []target, fail, deferMsg string) {
	cfg := &q.srv.cfg
	dc := cfg.Resolver
	type hostName struct {
		name   string
		fromMX bool
	}
	var hosts []hostName
	mxs, mxAuth, err := dc.LookupMX(ctx, domain)
	switch {
	case errors.Is(err, resolver.ErrNotFound):
		return nil, "Unrouteable address", ""
	case errors.Is(err, resolver.ErrNoData):
		hosts = []hostName{{domain, false}}
		mxAuth = true // the address lookup decides
	case err != nil:
		return nil, "", "host lookup did not complete"
	case resolver.NullMX(mxs):
		return nil, "domain does not accept mail (null MX)", ""
	default:
		for _, mx := range mxs {
			// A "." beside real exchanges breaks RFC 7505 §3; it is
			// no host to try, and the others still are.
			if h := strings.TrimSuffix(mx.Host, "."); h != "" {
				hosts = append(hosts, hostName{strings.ToLower(h), true})
			}
		}
	}
	opts := q.srv.daneOpts()
	lastErr := ""
	for _, h := range hosts {
		addrs, secure, err := dane.LookupHost(ctx, h.name, opts...)
		if err != nil {
			if !h.fromMX && (errors.Is(err, dane.ErrNotFound) || errors.Is(err, dane.ErrNoData)) {
				return nil, "Unrouteable address", ""
			}
			lastErr = "host lookup for " + h.name + " did not complete"
			continue
		}
		for _, a := range addrs {
			targets = append(targets, target{host: h.name, ip: a.Unmap(), port: cfg.SMTPPort, fromMX: h.fromMX, secure: secure && mxAuth})
		}
	}
	if len(targets) == 0 {
		if lastErr == "" {
			lastErr = "no host found for " + domain
		}
		return nil, "", lastErr
	}
	return targets, "", ""
}

// deliverDomain tries the hosts of one domain in order until every
// recipient is delivered or failed, or the hosts run out.
func (q *queue) deliverDomain(ctx context.Context, env *envelope, data []byte, domain string, rcpts []*spoolRcpt) {
	log := q.srv.cfg.Logger
	targets, fail, deferMsg := q.resolve(ctx, domain)
	if fail != "" || deferMsg != "" {
		for _, r := range rcpts {
			if fail != "" {
				r.State, r.Message, r.Status = rcptFailed, fail, "5.1.2"
				log.Info("failed", "id", env.ID, "rcpt", r.Addr, "reason", fail)
				q.raiseFail(ctx, env, r)
			} else {
				r.Message = deferMsg
				log.Info("deferred", "id", env.ID, "rcpt", r.Addr, "reason", deferMsg)
			}
		}
		return
	}
	open := rcpts
	for i, t := range targets {
		if ctx.Err() != nil {
			return
		}
		last := i == len(targets)-1
		open = q.attempt(ctx, env, data, t, open, last)
		if len(open) == 0 {
			return
		}
	}
}

// attempt runs one SMTP session to t for rcpts and returns the
// recipients deferred there (to try on the next host).
func (q *queue) attempt(ctx context.Context, env *envelope, data []byte, t target, rcpts []*spoolRcpt, last bool) []*spoolRcpt {
	srv := q.srv
	cfg := &srv.cfg
	log := cfg.Logger
	first := rcpts[0]
	lp, dom := smtp.SplitAddress(first.Addr)
	base := events.Event{
		MessageID: env.ID, Router: routerName, Transport: transportName,
		Host: t.host, HostAddress: t.ip, HostPort: t.port, DNSSEC: t.secure,
		LocalPart: lp, Domain: dom,
	}
	s := &remoteSession{q: q, env: env, t: t, base: base, last: last}
	results, hd := s.session(ctx, data, rcpts)
	base = s.base // with the sending address

	var deferred []*spoolRcpt
	for i, r := range rcpts {
		r.Host, r.IP, r.Port = t.host, t.ip.String(), t.port
		r.Greeting, r.HELO = s.greeting, s.heloResp
		if hd != nil {
			if hd.message != "" {
				r.Message = hd.message
			} else {
				r.Message = events.DeferData("", hd.errno)
			}
			deferred = append(deferred, r)
			continue
		}
		res := results[i]
		r.Message = res.message
		switch res.status {
		case prdr.Delivered:
			r.State = rcptDelivered
			log.Info("delivered", "id", env.ID, "rcpt", r.Addr, "host", t.host, "ip", t.ip.String(), "dane", s.dane, "tls", s.tlsOn, "prdr", s.prdr, "confirm", res.confirm)
		case prdr.Failed:
			r.State = rcptFailed
			r.Status = res.status5
			if r.Status == "" {
				r.Status = "5.0.0"
			}
			log.Info("failed", "id", env.ID, "rcpt", r.Addr, "host", t.host, "reason", res.message)
		default:
			deferred = append(deferred, r)
		}
	}
	// After the connection: delivery and failure events, then the
	// host defers (Exim's order).
	for i, r := range rcpts {
		if hd != nil {
			break
		}
		l, d := smtp.SplitAddress(r.Addr)
		ev := base
		ev.LocalPart, ev.Domain, ev.DANE = l, d, s.dane
		switch results[i].status {
		case prdr.Delivered:
			ev.Name, ev.Data = events.MsgDelivery, results[i].confirm
			srv.raiseOut(ctx, ev)
		case prdr.Failed:
			q.raiseFailHost(ctx, ev, r)
		}
	}
	if hd != nil {
		log.Info("host deferred", "id", env.ID, "host", t.host, "ip", t.ip.String(), "reason", first.Message)
		ev := base
		ev.Name, ev.Data, ev.DeferErrno = events.MsgHostDefer, events.DeferData(hd.message, hd.errno), hd.errno
		srv.raiseOut(ctx, ev)
		if last {
			ev.Name = events.MsgDefer
			srv.raiseOut(ctx, ev)
		}
	}
	return deferred
}

func (q *queue) raiseFail(ctx context.Context, env *envelope, r *spoolRcpt) {
	l, d := smtp.SplitAddress(r.Addr)
	q.srv.raiseOut(ctx, events.Event{Name: events.MsgFailDelivery, Data: r.Message, MessageID: env.ID,
		Router: routerName, Transport: transportName, LocalPart: l, Domain: d})
}

func (q *queue) raiseFailHost(ctx context.Context, ev events.Event, r *spoolRcpt) {
	ev.Name, ev.Data = events.MsgFailDelivery, r.Message
	q.srv.raiseOut(ctx, ev)
}

// raiseOut raises a delivery-side (transport) event.
func (s *Server) raiseOut(ctx context.Context, ev events.Event) events.Decision {
	if s.cfg.Bus == nil {
		return events.Decision{}
	}
	return s.cfg.Bus.Raise(context.WithoutCancel(ctx), &ev)
}

// remoteSession is one outbound SMTP session, on an smtp.Client.
type remoteSession struct {
	q    *queue
	env  *envelope
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
func (s *remoteSession) session(ctx context.Context, data []byte, rcpts []*spoolRcpt) ([]result, *hostDefer) {
	srv := s.q.srv
	cfg := &srv.cfg
	results := make([]result, len(rcpts))
	failAll := func(msg, status string) ([]result, *hostDefer) {
		for i := range results {
			results[i] = result{status: prdr.Failed, message: msg, status5: status}
		}
		return results, nil
	}

	// DANE decision (before connecting, as Exim).
	var dd *dane.Decision
	policy := srv.danePolicy(ctx, s.base)
	if policy != nil {
		dd = policy.Check(ctx, s.t.host, s.t.ip, s.t.port, s.t.secure, srv.daneOpts()...)
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
	if d := srv.raiseOut(ctx, s.ev(events.TCPConnect, "")); d.Refused() {
		return nil, &hostDefer{errno: errnoEvent}
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
		srv.raiseOut(ctx, s.ev(events.TCPClose, ""))
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
	if d := srv.raiseOut(ctx, s.ev(events.SMTPConnect, events.BannerData(replyLines(banner)))); d.Refused() {
		s.quit(ctx)
		return nil, &hostDefer{message: d.DeferMessage(), errno: errnoExpandFail}
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
	s.prdr = prdr.MailSuffix(ext.Has(prdr.Keyword), len(rcpts)) != ""
	mp := &smtp.MailParams{PRDR: s.prdr}
	if ext.Has("SIZE") {
		mp.Size = int64(len(data))
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
		_, err := c.Rcpt(ctx, rc.Addr, nil)
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
			srv.raiseOut(ctx, ev)
			if s.last {
				ev.Name = events.MsgRcptDefer
				srv.raiseOut(ctx, ev)
			}
		}
	}
	if len(accepted) == 0 {
		s.quit(ctx)
		return results, nil
	}

	// DATA. Every read and write is bounded by SMTPTimeout; the whole
	// transfer also by the time a slow peer may take for its size.
	dctx, cancel := context.WithTimeout(ctx, 3*cfg.SMTPTimeout+time.Duration(len(data)/1024)*time.Second)
	defer cancel()
	resp, err := c.Data(dctx, bytes.NewReader(data))
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
		s.q.srv.raiseOut(ctx, s.ev(events.SMTPEHLO, events.EHLOData(replyLines(r))))
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

// startTLS starts TLS: under DANE with policy.Connect (TLS required,
// dane:fail raised by it), otherwise opportunistically with
// smtp.Client.StartTLS (a refusal leaves the session in clear text).
// s.tlsOn reports success.
func (s *remoteSession) startTLS(ctx context.Context, policy *dane.Policy, dd *dane.Decision) *hostDefer {
	var err error
	if s.dane {
		_, err = policy.Connect(ctx, s.c, dd, s.tlsConfig(ctx, dd))
	} else {
		err = s.c.StartTLS(ctx, s.tlsConfig(ctx, nil))
	}
	var ce *smtp.CommandError
	switch {
	case err == nil:
		s.tlsOn = true
		return nil
	case errors.Is(err, dane.ErrNoSTARTTLS):
		s.quit(ctx)
		return &hostDefer{message: "DANE error: STARTTLS not offered by " + s.t.host}
	case errors.As(err, &ce):
		if !s.dane {
			return nil
		}
		s.quit(ctx)
		return &hostDefer{message: smtpErrMsg("STARTTLS", ce.Reply)}
	}
	// The error that broke the connection, without Connect's words.
	if e := s.c.Err(); e != nil {
		err = e
	}
	if s.tlsReady && ctx.Err() == nil {
		return &hostDefer{message: "TLS session: (SSL_connect): " + err.Error()}
	}
	return s.ioDefer(ctx, err)
}

// ev is the session's event with a name and data.
func (s *remoteSession) ev(name events.Name, data string) events.Event {
	e := s.base
	e.Name, e.Data, e.DANE = name, data, s.dane
	return e
}

// quit ends the session politely; errors do not matter any more.
func (s *remoteSession) quit(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, min(s.q.srv.cfg.SMTPTimeout, 5*time.Second))
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

// tlsConfig builds the client TLS configuration: no PKIX verification
// (opportunistic TLS; under DANE, dane.Policy.Connect adds DANE's
// check), tls:cert events for every certificate of the peer chain, and
// the OCSP checks. The events are raised from VerifyPeerCertificate,
// which runs before VerifyConnection and so before DANE's verification
// and OCSP's (Exim raises tls:cert for every certificate presented,
// whatever the verification then finds).
func (s *remoteSession) tlsConfig(ctx context.Context, dd *dane.Decision) *tls.Config {
	srv := s.q.srv
	cfg := &tls.Config{ServerName: s.t.host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
	if srv.cfg.TLSConfig != nil {
		cfg = srv.cfg.TLSConfig.Clone()
		cfg.ServerName, cfg.InsecureSkipVerify = s.t.host, true
	}
	then := cfg.VerifyPeerCertificate
	cfg.VerifyPeerCertificate = func(raw [][]byte, chains [][]*x509.Certificate) error {
		for depth := len(raw) - 1; depth >= 0; depth-- {
			cert, err := x509.ParseCertificate(raw[depth]) // crypto/tls has parsed it already
			if err != nil {
				return err
			}
			ev := s.ev(events.TLSCert, events.CertDepthData(depth))
			ev.PeerCert = cert
			d := srv.raiseOut(ctx, ev)
			// Opportunistic TLS verifies nothing: verification is
			// optional (tls_try_verify_hosts), except under DANE.
			if d.CertOutcome(!s.dane, s.dane) == events.CertRefused {
				return fmt.Errorf("certificate at depth %d refused by tls:cert event: %s", depth, d.Result)
			}
		}
		if then != nil {
			return then(raw, chains)
		}
		return nil
	}
	if oc := srv.cfg.OCSP; oc != nil {
		var sess *ocsp.Session
		if s.dane && dd != nil && dd.Set != nil {
			sess = oc.SessionDANE(s.t.host, s.t.ip, dd.Set.UsageBits())
		} else {
			sess = oc.Session(s.t.host, s.t.ip)
		}
		cfg = sess.Config(cfg)
	}
	return cfg
}

// danePolicy is the DANE configuration with dane:fail raised on the
// bus.
func (s *Server) danePolicy(ctx context.Context, base events.Event) *dane.Policy {
	p := &dane.Policy{TryHosts: s.cfg.DANETry, RequireHosts: s.cfg.DANERequire}
	if s.cfg.Bus != nil {
		notify := s.cfg.Bus.Notify(context.WithoutCancel(ctx), base)
		p.Event = func(name, data string) { notify(name, data) }
	} else {
		p.Event = func(string, string) {}
	}
	return p
}

// daneOpts are the DNS options of the dane package.
func (s *Server) daneOpts() []dane.Option {
	return []dane.Option{dane.WithResolver(s.cfg.Resolver)}
}

// buildWire turns our added header lines (LF) and the received message
// (CRLF) into the spooled wire form.
func buildWire(common string, msg []byte) []byte {
	var b bytes.Buffer
	b.WriteString(strings.ReplaceAll(common, "\n", "\r\n"))
	b.Write(msg)
	return b.Bytes()
}
