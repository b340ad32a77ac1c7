package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/textproto"
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
		_, d := splitAddress(r.Addr)
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
	lp, dom := splitAddress(first.Addr)
	base := events.Event{
		MessageID: env.ID, Router: routerName, Transport: transportName,
		Host: t.host, HostAddress: t.ip, HostPort: t.port, DNSSEC: t.secure,
		LocalPart: lp, Domain: dom,
	}
	c := &smtpClient{q: q, env: env, t: t, base: base, last: last}
	results, hd := c.session(ctx, data, rcpts)
	base = c.base // with the sending address

	var deferred []*spoolRcpt
	for i, r := range rcpts {
		r.Host, r.IP, r.Port = t.host, t.ip.String(), t.port
		r.Greeting, r.HELO = firstLine(c.greeting), firstLine(c.heloResp)
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
			log.Info("delivered", "id", env.ID, "rcpt", r.Addr, "host", t.host, "ip", t.ip.String(), "dane", c.dane, "tls", c.tlsOn, "prdr", c.prdr, "confirm", res.confirm)
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
		l, d := splitAddress(r.Addr)
		ev := base
		ev.LocalPart, ev.Domain, ev.DANE = l, d, c.dane
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
	l, d := splitAddress(r.Addr)
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

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// smtpClient is one outbound SMTP session.
type smtpClient struct {
	q    *queue
	env  *envelope
	t    target
	base events.Event
	last bool

	conn net.Conn
	tp   *textproto.Conn // for writing; replies are read with rr
	rr   *smtp.ReplyReader

	greeting, heloResp string // first lines with the code, for the DSN
	dane, tlsOn, prdr  bool
}

// smtpErr is a reply that ends (part of) the session.
func smtpErrMsg(after string, r smtp.Reply) string {
	return "SMTP error from remote mail server after " + after + ": " + r.String()
}

// session runs the dialogue. It returns one result per recipient, or
// a host defer.
func (c *smtpClient) session(ctx context.Context, data []byte, rcpts []*spoolRcpt) ([]result, *hostDefer) {
	srv := c.q.srv
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
	policy := c.q.srv.danePolicy(ctx, c.base)
	if policy != nil {
		dd = policy.Check(ctx, c.t.host, c.t.ip, c.t.port, c.t.secure, srv.daneOpts()...)
		switch dd.Action {
		case dane.ActionFail:
			return failAll(dd.Message, "5.7.5")
		case dane.ActionDefer:
			return nil, &hostDefer{message: dd.Message}
		case dane.ActionDANE:
			c.dane = true
		}
	}

	// tcp:connect.
	if d := srv.raiseOut(ctx, c.ev(events.TCPConnect, "")); d.Refused() {
		return nil, &hostDefer{errno: errnoEvent}
	}
	dialer := net.Dialer{Timeout: cfg.SMTPTimeout}
	conn, err := dialer.DialContext(ctx, "tcp", netip.AddrPortFrom(c.t.ip, uint16(c.t.port)).String())
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return nil, &hostDefer{errno: int(errno)}
		}
		return nil, &hostDefer{message: err.Error()}
	}
	if la, err := netip.ParseAddrPort(conn.LocalAddr().String()); err == nil {
		c.base.SendingIP, c.base.SendingPort = la.Addr().Unmap(), int(la.Port())
	}
	c.setConn(conn)
	stop := context.AfterFunc(ctx, func() { c.conn.Close() })
	defer stop()
	defer func() {
		c.conn.Close()
		srv.raiseOut(ctx, c.ev(events.TCPClose, ""))
	}()
	ioDefer := func(err error) *hostDefer {
		if ctx.Err() != nil {
			return &hostDefer{message: "delivery interrupted: " + ctx.Err().Error()}
		}
		return &hostDefer{message: "SMTP session with " + c.t.host + " failed: " + err.Error()}
	}

	// Banner.
	banner, err := c.read()
	if err != nil {
		return nil, ioDefer(err)
	}
	c.greeting = replyLines(banner)[0]
	if banner.Class() != 2 {
		c.quit()
		return nil, &hostDefer{message: smtpErrMsg("initial connection", banner)}
	}
	if d := srv.raiseOut(ctx, c.ev(events.SMTPConnect, events.BannerData(replyLines(banner)))); d.Refused() {
		c.quit()
		return nil, &hostDefer{message: d.DeferMessage(), errno: errnoExpandFail}
	}

	// EHLO, HELO fallback.
	ehlo, esmtp, hd := c.hello(ctx)
	if hd != nil {
		return nil, hd
	}
	if ehlo.Class() == 5 {
		return failAll(smtpErrMsg("HELO "+cfg.Hostname, ehlo), ehlo.Enhanced().String())
	}

	// STARTTLS.
	offered := esmtp && hasKeyword(ehlo, "STARTTLS")
	if c.dane && !offered {
		policy.Event(dane.EventDANEFail, dane.DataSTARTTLSNotSupported)
		c.quit()
		return nil, &hostDefer{message: "DANE error: STARTTLS not offered by " + c.t.host}
	}
	if offered {
		r, err := c.cmd("STARTTLS")
		if err != nil {
			return nil, ioDefer(err)
		}
		if r.Class() != 2 {
			if c.dane {
				policy.Event(dane.EventDANEFail, dane.DataSTARTTLSNotSupported)
				c.quit()
				return nil, &hostDefer{message: smtpErrMsg("STARTTLS", r)}
			}
		} else {
			tc := tls.Client(c.conn, c.tlsConfig(ctx, dd))
			c.conn.SetDeadline(time.Now().Add(cfg.SMTPTimeout))
			if err := tc.HandshakeContext(ctx); err != nil {
				if c.dane {
					policy.Event(dane.EventDANEFail, dane.DataValidationFailure)
				}
				return nil, &hostDefer{message: "TLS session: (SSL_connect): " + err.Error()}
			}
			c.tlsOn = true
			c.setConn(tc)
			if ehlo, esmtp, hd = c.hello(ctx); hd != nil {
				return nil, hd
			}
			if ehlo.Class() == 5 {
				return failAll(smtpErrMsg("HELO "+cfg.Hostname, ehlo), ehlo.Enhanced().String())
			}
		}
	}

	// MAIL.
	mail := "MAIL FROM:<" + c.env.From + ">"
	if esmtp {
		if hasKeyword(ehlo, "SIZE") {
			mail += " SIZE=" + strconv.Itoa(len(data))
		}
		c.prdr = hasKeyword(ehlo, prdr.Keyword) && len(rcpts) >= 2
		mail += prdr.MailSuffix(hasKeyword(ehlo, prdr.Keyword), len(rcpts))
	}
	r, err := c.cmd(mail)
	if err != nil {
		return nil, ioDefer(err)
	}
	switch r.Class() {
	case 2:
	case 5:
		c.quit()
		return failAll(smtpErrMsg(mail, r), r.Enhanced().String())
	default:
		c.quit()
		return nil, &hostDefer{message: smtpErrMsg(mail, r)}
	}

	// RCPT.
	var accepted []string
	var acceptedIdx []int
	for i, rc := range rcpts {
		cmd := "RCPT TO:<" + rc.Addr + ">"
		r, err := c.cmd(cmd)
		if err != nil {
			return nil, ioDefer(err)
		}
		switch r.Class() {
		case 2:
			accepted = append(accepted, rc.Addr)
			acceptedIdx = append(acceptedIdx, i)
		case 5:
			results[i] = result{status: prdr.Failed, message: smtpErrMsg(cmd, r), status5: r.Enhanced().String()}
		default:
			msg := smtpErrMsg(cmd, r)
			results[i] = result{status: prdr.Deferred, message: msg}
			l, d := splitAddress(rc.Addr)
			ev := c.ev(events.MsgRcptHostDefer, msg)
			ev.LocalPart, ev.Domain, ev.DeferErrno = l, d, events.RcptDeferErrno(r.Code, c.t.fromMX)
			srv.raiseOut(ctx, ev)
			if c.last {
				ev.Name = events.MsgRcptDefer
				srv.raiseOut(ctx, ev)
			}
		}
	}
	if len(accepted) == 0 {
		c.quit()
		return results, nil
	}

	// DATA.
	if r, err = c.cmd("DATA"); err != nil {
		return nil, ioDefer(err)
	}
	if r.Code != 354 {
		st := prdr.Deferred
		if r.Class() == 5 {
			st = prdr.Failed
		}
		for _, i := range acceptedIdx {
			results[i] = result{status: st, message: smtpErrMsg("DATA", r), status5: r.Enhanced().String()}
		}
		c.quit()
		return results, nil
	}
	c.conn.SetDeadline(time.Now().Add(cfg.SMTPTimeout + time.Duration(len(data)/1024)*time.Second))
	w := c.tp.DotWriter()
	if _, err := w.Write(data); err != nil {
		return nil, ioDefer(err)
	}
	if err := w.Close(); err != nil {
		return nil, ioDefer(err)
	}
	c.conn.SetDeadline(time.Now().Add(cfg.SMTPTimeout))
	dr, err := prdr.ReadDataReplies(c.rr, accepted, "DATA")
	if dr == nil {
		return nil, ioDefer(err)
	}
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
				res.message = "SMTP session with " + c.t.host + " failed after end of data: " + o.Err.Error()
			}
		}
		results[i] = res
	}
	if err == nil {
		c.quit()
	}
	return results, nil
}

// ev is the session's event with a name and data.
func (c *smtpClient) ev(name events.Name, data string) events.Event {
	e := c.base
	e.Name, e.Data, e.DANE = name, data, c.dane
	return e
}

func (c *smtpClient) setConn(conn net.Conn) {
	c.conn = conn
	c.tp = textproto.NewConn(conn)
	// Replies are bounded (smtp.Limits): a hostile server must not
	// make the queue runner buffer without end.
	c.rr = smtp.NewReplyReader(conn)
}

func (c *smtpClient) read() (smtp.Reply, error) {
	c.conn.SetDeadline(time.Now().Add(c.q.srv.cfg.SMTPTimeout))
	return c.rr.ReadReply()
}

func (c *smtpClient) cmd(line string) (smtp.Reply, error) {
	c.conn.SetDeadline(time.Now().Add(c.q.srv.cfg.SMTPTimeout))
	if err := c.tp.PrintfLine("%s", line); err != nil {
		return smtp.Reply{}, err
	}
	return c.read()
}

// quit ends the session politely; errors do not matter any more.
func (c *smtpClient) quit() {
	c.conn.SetDeadline(time.Now().Add(min(c.q.srv.cfg.SMTPTimeout, 5*time.Second)))
	if c.tp.PrintfLine("QUIT") == nil {
		c.rr.ReadReply()
	}
}

// hello sends EHLO (HELO after a 5xx) and raises smtp:ehlo.
func (c *smtpClient) hello(ctx context.Context) (smtp.Reply, bool, *hostDefer) {
	srv := c.q.srv
	name := srv.cfg.Hostname
	r, err := c.cmd("EHLO " + name)
	if err != nil {
		return r, false, &hostDefer{message: "SMTP session with " + c.t.host + " failed: " + err.Error()}
	}
	srv.raiseOut(ctx, c.ev(events.SMTPEHLO, events.EHLOData(replyLines(r))))
	c.heloResp = replyLines(r)[0]
	switch r.Class() {
	case 2:
		return r, true, nil
	case 5:
		h, err := c.cmd("HELO " + name)
		if err != nil {
			return h, false, &hostDefer{message: "SMTP session with " + c.t.host + " failed: " + err.Error()}
		}
		c.heloResp = replyLines(h)[0]
		switch h.Class() {
		case 2:
			return h, false, nil
		case 5:
			c.quit()
			return h, false, nil
		}
		c.quit()
		return h, false, &hostDefer{message: smtpErrMsg("HELO "+name, h)}
	}
	c.quit()
	return r, false, &hostDefer{message: smtpErrMsg("EHLO "+name, r)}
}

// replyLines gives the reply's lines as received: code, separator,
// text.
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

// hasKeyword reports whether an EHLO reply lists the extension.
func hasKeyword(r smtp.Reply, kw string) bool { return smtp.ParseEHLO(r).Has(kw) }

// tlsConfig builds the client TLS configuration: opportunistic (no
// verification) or DANE (dane.ClientConfig), with tls:cert events for
// every certificate of the peer chain and the OCSP checks.
func (c *smtpClient) tlsConfig(ctx context.Context, dd *dane.Decision) *tls.Config {
	srv := c.q.srv
	base := &tls.Config{ServerName: c.t.host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
	if srv.cfg.TLSConfig != nil {
		base = srv.cfg.TLSConfig.Clone()
		base.ServerName, base.InsecureSkipVerify = c.t.host, true
	}
	cfg := base
	var verify func(tls.ConnectionState) error
	if c.dane && dd != nil && dd.Set != nil {
		cfg = dane.ClientConfig(base, dd.Set, dd.Set.Names)
		verify = cfg.VerifyConnection
	}
	certEvents := func(cs tls.ConnectionState) error {
		chain := cs.PeerCertificates
		for depth := len(chain) - 1; depth >= 0; depth-- {
			ev := c.ev(events.TLSCert, events.CertDepthData(depth))
			ev.PeerCert = chain[depth]
			d := srv.raiseOut(ctx, ev)
			// Opportunistic TLS verifies nothing: verification is
			// optional (tls_try_verify_hosts), except under DANE.
			if d.CertOutcome(!c.dane, c.dane) == events.CertRefused {
				return fmt.Errorf("certificate at depth %d refused by tls:cert event: %s", depth, d.Result)
			}
		}
		return nil
	}
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if err := certEvents(cs); err != nil {
			return err
		}
		if verify != nil {
			return verify(cs)
		}
		return nil
	}
	if oc := srv.cfg.OCSP; oc != nil {
		var s *ocsp.Session
		if c.dane && dd != nil && dd.Set != nil {
			s = oc.SessionDANE(c.t.host, c.t.ip, dd.Set.UsageBits())
		} else {
			s = oc.Session(c.t.host, c.t.ip)
		}
		cfg = s.Config(cfg)
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
