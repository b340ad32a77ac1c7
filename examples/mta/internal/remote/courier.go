package remote

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/mailpolicy/mailpolicy/dane"
	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/queue"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/retry"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/signing"
	"github.com/mailpolicy/mailpolicy/hostlist"
	"github.com/mailpolicy/mailpolicy/mtasts"
	"github.com/mailpolicy/mailpolicy/ocsp"
	"github.com/mailpolicy/mailpolicy/prdr"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/smtp"
	"github.com/mailpolicy/mailpolicy/tlsrpt"
)

// Exim's own (negative) errnos, as msg:host:defer and msg:defer give
// them in $event_defer_errno.
const (
	ErrnoEvent      = -58 // ERRNO_EVENT: tcp:connect refused the connection
	ErrnoExpandFail = -27 // ERRNO_EXPANDFAIL: smtp:connect deferred everything
)

// Defaults of the settings (internal/config uses them).
const (
	DefaultSMTPPort    = 25
	DefaultSMTPTimeout = 5 * time.Minute
)

// Courier delivers to remote hosts; it is the queue's queue.Courier.
// Every field but the optional ones must be set.
type Courier struct {
	Resolver *resolver.Resolver
	Hostname string // EHLO name
	// SMTPPort is the port of remote hosts; SMTPTimeout bounds
	// connecting and each command.
	SMTPPort    int
	SMTPTimeout time.Duration
	// DANE: hosts_try_dane (nil: Exim's default "*") and
	// hosts_require_dane (nil: none).
	DANETry, DANERequire *hostlist.List
	// OCSP is hosts_request_ocsp / hosts_require_ocsp; nil: no checks.
	OCSP *ocsp.Client
	// TLSConfig is the base of the outbound TLS configuration (nil:
	// defaults). Certificates are PKIX-verified only under MTA-STS
	// (against its RootCAs, the system roots when nil); otherwise
	// opportunistic TLS, or DANE.
	TLSConfig *tls.Config
	Bus       *events.Bus // nil: no events
	Logger    *slog.Logger
	// Signers DKIM-signs each message by its From domain, once per
	// delivery attempt (dkimsign.go); nil: no signing.
	Signers *signing.Signers
	// ConnectionMaxMessages bounds the messages sent on one connection
	// and ConnectionIdleTimeout how long a kept one waits for the next
	// (pool.go; 0: the defaults, 500 and 2s).
	ConnectionMaxMessages int
	ConnectionIdleTimeout time.Duration
	// Retry is the host retry database (nil: none): a host that failed
	// is not tried again before its time, and a success clears it.
	Retry *retry.DB
	// MTASTS is the MTA-STS policy cache (nil: no MTA-STS): the
	// recipient domain's policy applies to the hosts DANE does not
	// (tlspolicy.go).
	MTASTS *mtasts.Cache
	// TLSReports receives every session's TLS outcome per policy
	// domain for the daily TLS reports (nil: no recording).
	TLSReports *tlsrpt.Recorder

	poolOnce sync.Once
	conns    *pool
}

// target is one address of one host to try.
type target struct {
	host   string
	ip     netip.Addr
	port   int
	fromMX bool
	secure bool // DNSSEC-authenticated MX and address lookups
	// domain is the recipient domain, sts its MTA-STS policy in
	// enforce or testing mode (nil: none).
	domain string
	sts    *mtasts.Policy
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
	// policy: the host was refused by the TLS policy (MTA-STS), not
	// for a failure of its own; the retry database does not count it.
	policy bool
}

// Destination is the group addr is delivered with: its domain, lower
// case (there is no smarthost: every domain goes to its own MX hosts).
func (q *Courier) Destination(addr string) string {
	_, d := smtp.SplitAddress(addr)
	return strings.ToLower(d)
}

// Deliver tries d.Rcpts, grouped by domain, and records the results in
// them. The message is read from d.Msg with ReadAt only, so the other
// destinations of the message can be sent at the same time.
func (q *Courier) Deliver(ctx context.Context, d *queue.Delivery) {
	env := d.Env
	var domains []string
	groups := map[string][]*queue.Recipient{}
	for _, r := range d.Rcpts {
		if r.State != queue.Pending {
			continue
		}
		_, dom := smtp.SplitAddress(r.Addr)
		dom = strings.ToLower(dom)
		if _, ok := groups[dom]; !ok {
			domains = append(domains, dom)
		}
		groups[dom] = append(groups[dom], r)
	}
	data := newMessage(d.Msg, env.Size)
	if q.Signers != nil && len(domains) > 0 {
		var ok bool
		if data, ok = q.sign(ctx, env, data, d.Rcpts); !ok {
			return
		}
	}
	for _, dom := range domains {
		if ctx.Err() != nil {
			return
		}
		q.deliverDomain(ctx, d, data, dom, groups[dom])
	}
}

// resolve finds the hosts of domain in MX preference order (the domain
// itself when it has no MX). fail is set when the domain cannot get
// mail at all; a non-empty defer message when DNS failed for now.
func (q *Courier) resolve(ctx context.Context, domain string) (targets []target, fail, deferMsg string) {
	cfg := q
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
	opts := q.daneOpts()
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
func (q *Courier) deliverDomain(ctx context.Context, d *queue.Delivery, data message, domain string, rcpts []*queue.Recipient) {
	log := q.Logger
	env := d.Env
	targets, fail, deferMsg := q.resolve(ctx, domain)
	if fail != "" || deferMsg != "" {
		for _, r := range rcpts {
			if fail != "" {
				r.State, r.Message, r.Status = queue.Failed, fail, "5.1.2"
				log.Info("failed", "id", env.ID, "rcpt", r.Addr, "reason", fail)
				q.raiseFail(ctx, env, r)
			} else {
				r.Message = deferMsg
				log.Info("deferred", "id", env.ID, "rcpt", r.Addr, "reason", deferMsg)
			}
		}
		return
	}
	targets = q.due(d, targets)
	if len(targets) == 0 {
		for _, r := range rcpts {
			r.Message = RetryTimeNotReached
			log.Info("deferred", "id", env.ID, "rcpt", r.Addr, "reason", RetryTimeNotReached)
		}
		return
	}
	if sts := q.stsPolicy(ctx, env.ID, domain); sts != nil {
		for i := range targets {
			targets[i].sts = sts
		}
	}
	for i := range targets {
		targets[i].domain = domain
	}
	open := rcpts
	for i, t := range targets {
		if ctx.Err() != nil {
			return
		}
		last := i == len(targets)-1
		open = q.attempt(ctx, d, data, t, open, last)
		if len(open) == 0 {
			return
		}
	}
}

// RetryTimeNotReached is the address message, Exim's, of recipients
// whose every host waits for its retry time (retry.DB).
const RetryTimeNotReached = "retry time not reached for any host"

// due drops the hosts whose retry time has not come (none when the
// delivery is forced, Exim's -qff): they are not connected to, and no
// event is raised for them.
func (q *Courier) due(d *queue.Delivery, targets []target) []target {
	if q.Retry == nil || d.Force {
		return targets
	}
	out := targets[:0:0]
	for _, t := range targets {
		if rec, ok := q.Retry.Due(t.retryKey()); !ok {
			q.Logger.Info("host retry time not reached", "id", d.Env.ID, "host", t.host, "ip", t.ip.String(),
				"next", rec.Next.Format(time.RFC3339), "failures", rec.Failures)
			continue
		}
		out = append(out, t)
	}
	return out
}

// retryKey is t's record key in the retry database.
func (t target) retryKey() string { return retry.Key(t.host, t.ip, t.port) }

// attempt runs one SMTP session to t for rcpts and returns the
// recipients deferred there (to try on the next host).
func (q *Courier) attempt(ctx context.Context, d *queue.Delivery, data message, t target, rcpts []*queue.Recipient, last bool) []*queue.Recipient {
	log := q.Logger
	env := d.Env
	first := rcpts[0]
	lp, dom := smtp.SplitAddress(first.Addr)
	base := events.Event{
		MessageID: env.ID, Router: queue.RouterName, Transport: queue.TransportName,
		Host: t.host, HostAddress: t.ip, HostPort: t.port, DNSSEC: t.secure,
		LocalPart: lp, Domain: dom,
	}
	s := &remoteSession{q: q, env: env, t: t, base: base, last: last, waiting: d.Waiting}
	results, hd, hostErr := s.session(ctx, data, rcpts)
	s.recordTLS()
	if q.Retry != nil {
		switch {
		case hostErr:
			msg := hd.message
			if msg == "" {
				msg = events.DeferData("", hd.errno)
			}
			rec := q.Retry.Failed(t.retryKey(), msg)
			log.Info("host retry time set", "host", t.host, "ip", t.ip.String(), "next", rec.Next.Format(time.RFC3339), "failures", rec.Failures)
		case hd == nil:
			q.Retry.Succeeded(t.retryKey())
		}
	}
	base = s.base // with the sending address

	var deferred []*queue.Recipient
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
			r.State = queue.Delivered
			log.Info("delivered", "id", env.ID, "rcpt", r.Addr, "host", t.host, "ip", t.ip.String(), "dane", s.dane, "tls", s.tlsOn, "tls_policy", s.tlsPolicy, "prdr", s.prdr, "confirm", res.confirm)
		case prdr.Failed:
			r.State = queue.Failed
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
		ev.LocalPart, ev.Domain, ev.DANE, ev.TLSPolicy = l, d, s.dane, s.tlsPolicy
		switch results[i].status {
		case prdr.Delivered:
			ev.Name, ev.Data = events.MsgDelivery, results[i].confirm
			q.raiseOut(ctx, ev)
		case prdr.Failed:
			q.raiseFailHost(ctx, ev, r)
		}
	}
	if hd != nil {
		log.Info("host deferred", "id", env.ID, "host", t.host, "ip", t.ip.String(), "tls_policy", s.tlsPolicy, "reason", first.Message)
		ev := base
		ev.Name, ev.Data, ev.DeferErrno = events.MsgHostDefer, events.DeferData(hd.message, hd.errno), hd.errno
		ev.TLSPolicy = s.tlsPolicy
		q.raiseOut(ctx, ev)
		if last {
			ev.Name = events.MsgDefer
			q.raiseOut(ctx, ev)
		}
	}
	return deferred
}

func (q *Courier) raiseFail(ctx context.Context, env *queue.Envelope, r *queue.Recipient) {
	q.raiseOut(ctx, queue.FailEvent(env, r))
}

func (q *Courier) raiseFailHost(ctx context.Context, ev events.Event, r *queue.Recipient) {
	ev.Name, ev.Data = events.MsgFailDelivery, r.Message
	q.raiseOut(ctx, ev)
}

// raiseOut raises a delivery-side (transport) event.
func (q *Courier) raiseOut(ctx context.Context, ev events.Event) events.Decision {
	if q.Bus == nil {
		return events.Decision{}
	}
	return q.Bus.Raise(context.WithoutCancel(ctx), &ev)
}
