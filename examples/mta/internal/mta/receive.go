package mta

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/checks"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/maildir"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/queue"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/smtpd"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/tlsconf"
	"github.com/mailpolicy/mailpolicy/prdr"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// committer is a stored copy waiting for the go-ahead: a maildir file
// in tmp/ or a spool entry whose envelope is not yet visible.
type committer interface {
	Commit() error
	Abort()
}

var localFailure = prdr.Decision{Verdict: prdr.Temporary, Code: smtp.ReplyLocalError, Enhanced: "4.3.0", Text: "Local delivery failed, try again later"}

// Data decides the message (checks.Checks.Data), then acts: every
// accepted copy is written and fsynced (Maildir files for local
// recipients, spool entries for remote and forwarded ones) before the
// decisions go back for the reply.
func (tx *transaction) Data(ctx context.Context, c *smtpd.Conn, m *smtpd.Message) *smtpd.DataResult {
	s := tx.s
	cfg := &s.cfg
	id := queue.NewID()
	log := cfg.Logger.With("session", c.ID, "client", c.Client.String())
	res := &smtpd.DataResult{MessageID: id}
	if r := s.rateData(ctx, c, m.Size()); r != nil { // ratelimit.go
		log.Info("refused", "id", id, "code", r.Code, "reason", "ratelimit")
		cfg.Metrics.Message(outcomeOf(r.Code), "ratelimit")
		res.Reply = r
		return res
	}

	d := s.checks.Data(ctx, &checks.Message{ID: id, Client: c.Client.Addr(), HELO: c.HELO, From: tx.from,
		Rcpts: tx.rcpts, SPF: tx.spf, Env: &tx.env, AuthMechanism: c.AuthMechanism, AuthUser: c.AuthUser, AuthSender: tx.authSender,
		Header: m.Header(), Data: func() io.Reader { return m.Reader() }, Body: func() io.Reader { return m.Body() }, BodySize: m.Body().Size()})
	if cfg.History != nil && d.DMARC != nil && d.DMARC.Record != nil {
		if err := cfg.History.Append(dmarc.NewHistoryEntry(d.DMARCInput, d.DMARC, id, cfg.Hostname, time.Now())); err != nil {
			log.Warn("dmarc history", "err", err)
		}
	}
	for engine, result := range d.Results {
		cfg.Metrics.EngineResult(engine, result)
	}
	if r := d.Refuse; r != nil {
		log.Info("refused", "id", id, "code", r.Code, "reason", reasonOf(r))
		cfg.Metrics.Message(outcomeOf(r.Code), metricReason(reasonOf(r)))
		res.Reply = &smtpd.Reply{Code: r.Code, Enhanced: r.Enhanced, Text: r.Text}
		return res
	}
	plans := d.Plans
	if !m.PRDR {
		// One reply for every recipient: a temporary refusal of any of
		// them defers the whole message (nothing is delivered, so the
		// retry duplicates nothing). A permanent refusal of some
		// recipients among others is a silent discard for them, as
		// bmi_dont_deliver is in Exim; a single recipient gets its own
		// refusal from prdr.Respond.
		for _, p := range plans {
			if p.Decision.Verdict == prdr.Temporary {
				log.Info("deferred", "id", id, "reason", p.Decision.Text)
				cfg.Metrics.Message("deferred", metricReason(p.Reason))
				res.Reply = &smtpd.Reply{Code: smtp.ReplyLocalError, Enhanced: "4.7.1", Text: p.Decision.Text}
				return res
			}
		}
	}

	// Authentication-Results fields claiming to be ours are forged
	// (RFC 8601 §5): removed now that DKIM has seen the message as sent.
	if n := m.RemoveOwnAR(cfg.Hostname); n > 0 {
		log.Info("removed forged Authentication-Results", "id", id, "fields", n)
	}
	added := append([]string{s.receivedHeader(c, tx, id)}, d.Headers...)
	common := normalizeLF(strings.Join(nonEmpty(added), "\n") + "\n")
	pend := make([]committer, len(tx.rcpts))
	failed := false
	tempFail := func(i int, err error) {
		log.Warn("delivery failed", "id", id, "rcpt", tx.rcpts[i], "err", err)
		plans[i].Decision = localFailure
		failed = true
	}
	spooled := tx.spoolCopies(m, id, common, plans, pend, tempFail)
	for i := range tx.rcpts {
		if plans[i].Decision.Verdict != prdr.Accept || tx.routes[i].Kind != checks.Local {
			continue
		}
		rcpt := tx.routes[i].Addr
		data := m.Copy(fmt.Sprintf("Return-path: <%s>\nEnvelope-to: %s\nDelivery-date: %s\n", tx.from, rcpt, time.Now().Format(time.RFC1123Z)) + common)
		folder := ""
		if plans[i].Folder != "" {
			folder = maildir.FolderName(plans[i].Folder)
		}
		p, err := s.maildir.WriteFrom(folder, data)
		if err != nil {
			tempFail(i, err)
			continue
		}
		pend[i] = p
	}
	if failed && !m.PRDR {
		// One reply for all: nothing may be delivered, or a retry
		// would duplicate it.
		for _, p := range pend {
			if p != nil {
				p.Abort()
			}
		}
		res.Reply = &smtpd.Reply{Code: smtp.ReplyLocalError, Enhanced: "4.3.0", Text: "Local delivery failed, try again later"}
		cfg.Metrics.Message("deferred", "local_failure")
		return res
	}
	delivered, queued := 0, 0
	var localDone []int // recipients delivered to the Maildir
	for i, p := range pend {
		if p == nil {
			if plans[i].Decision.Verdict == prdr.Permanent {
				log.Info("refused", "id", id, "rcpt", tx.rcpts[i], "reason", plans[i].Decision.Text)
			}
			continue
		}
		if err := p.Commit(); err != nil {
			log.Warn("delivery failed", "id", id, "rcpt", tx.rcpts[i], "err", err)
			plans[i].Decision = localFailure
			continue
		}
		if sid, ok := spooled[i]; ok {
			queued++
			log.Debug("queued", "id", id, "spool", sid, "rcpt", tx.rcpts[i], "to", tx.routes[i].Addr)
			continue
		}
		delivered++
		localDone = append(localDone, i)
		local, domain := smtp.SplitAddress(tx.routes[i].Addr)
		log.Debug("delivered", "id", id, "rcpt", tx.rcpts[i], "folder", plans[i].Folder)
		cfg.Metrics.Delivery("maildir", "delivered")
		s.raise(ctx, events.Event{Name: events.MsgDelivery, MessageID: id, LocalPart: local, Domain: domain,
			Router: "local", Transport: "maildir", HostAddress: c.Client.Addr()})
	}
	tx.notifyDelivered(id, common, m, localDone)
	if cfg.ReceiveReport != nil {
		for _, i := range localDone {
			if strings.EqualFold(tx.routes[i].Addr, cfg.ReportInbox) {
				cfg.ReceiveReport(ctx, m.Reader()) // the message as it came; its Maildir copy is done
				break
			}
		}
	}
	// The one line per message, with what Exim's "<=" line says.
	log.Info("message", "id", id, "from", tx.from, "helo", c.HELO, "ip", c.Client.Addr().String(), "proto", tx.protocol(c),
		"tls", tlsInfo(c), "auth", authInfo(c), "size", m.Size(), "rcpts", len(tx.rcpts),
		"delivered", delivered, "queued", queued, "refused", len(tx.rcpts)-delivered-queued, "prdr", m.PRDR,
		"spf", d.Results["spf"], "dkim", d.Results["dkim"], "dmarc", d.Results["dmarc"])
	if delivered+queued > 0 {
		cfg.Metrics.Message("accepted", "")
	} else {
		cfg.Metrics.Message("refused", "recipients")
	}
	if delivered > 0 && queued == 0 {
		s.raise(ctx, events.Event{Name: events.MsgComplete, MessageID: id})
	}
	if queued > 0 {
		s.runner.Wake()
	}
	for _, p := range plans {
		res.Decisions = append(res.Decisions, p.Decision)
	}
	return res
}

// spoolCopies prepares the remote copies: one spool entry per envelope
// sender (the original one for relayed mail, the SRS one for forwarded
// mail), in the message's CRLF form with our fields on top. It fills
// pend and returns the spool id per recipient index.
func (tx *transaction) spoolCopies(m *smtpd.Message, id, common string, plans []checks.Plan, pend []committer, tempFail func(int, error)) map[int]string {
	s := tx.s
	spoolFor := map[string][]int{}
	var senders []string
	for i := range tx.rcpts {
		if plans[i].Decision.Verdict != prdr.Accept || tx.routes[i].Kind == checks.Local {
			continue
		}
		from := tx.from
		if tx.routes[i].Kind == checks.Forward {
			f, err := s.router.ForwardSender(tx.from)
			if err != nil {
				tempFail(i, fmt.Errorf("srs forward: %w", err))
				continue
			}
			from = f
		}
		if _, ok := spoolFor[from]; !ok {
			senders = append(senders, from)
		}
		spoolFor[from] = append(spoolFor[from], i)
	}
	spooled := map[int]string{}
	if len(senders) == 0 {
		return spooled
	}
	// Each stored copy is our fields plus the message, copied from the
	// received file (LF line ends, as the Maildir's).
	data, wireSize := m.Copy(common), m.WireSize(common)
	for n, from := range senders {
		idx := spoolFor[from]
		sid := id
		if n > 0 {
			sid = fmt.Sprintf("%s-%d", id, n)
		}
		env := tx.spoolEnvelope(sid, from, idx)
		env.Size = wireSize
		p, err := s.spool.PrepareEnvelopeFrom(env, data)
		for _, i := range idx {
			if err != nil {
				tempFail(i, err)
				continue
			}
			pend[i] = p
			spooled[i] = p.ID()
		}
	}
	return spooled
}

// outcomeOf is the metrics outcome of a refusal's code.
func outcomeOf(code int) string {
	if code >= 500 {
		return "refused"
	}
	return "deferred"
}

// metricReason makes a log reason ("dmarc temperror") a label value.
func metricReason(r string) string { return strings.ReplaceAll(r, " ", "_") }

func reasonOf(r *checks.Refusal) string {
	if r.Reason != "" {
		return r.Reason
	}
	return r.Text
}

// raise sends an inbound event to the bus, if there is one.
func (s *Server) raise(ctx context.Context, ev events.Event) {
	if s.cfg.Bus == nil {
		return
	}
	ev.Inbound = true
	s.cfg.Bus.Raise(ctx, &ev)
}

// receivedHeader is our trace field. Every part is either ours or was
// checked: the HELO name by smtp.ValidHelo, the addresses by
// smtp.ValidMailbox.
func (s *Server) receivedHeader(c *smtpd.Conn, tx *transaction, id string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Received: from %s ([%s])", c.HELO, c.Client.Addr())
	if c.Proxy.IsValid() {
		fmt.Fprintf(&b, " (via proxy [%s])", c.Proxy)
	}
	fmt.Fprintf(&b, "\n\tby %s with %s", s.cfg.Hostname, tx.protocol(c))
	if c.TLS != nil {
		b.WriteString(" " + tlsconf.Received(c.TLS))
	}
	fmt.Fprintf(&b, "\n\t(mailpolicy)\n\t(envelope-from <%s>)\n\tid %s", tx.from, id)
	if len(tx.rcpts) == 1 {
		fmt.Fprintf(&b, "\n\tfor <%s>", tx.rcpts[0])
	}
	fmt.Fprintf(&b, "; %s", time.Now().Format(time.RFC1123Z))
	return b.String()
}

// protocol is the Received "with" word (RFC 3848): SMTP or ESMTP, S
// for TLS, A for an authenticated client.
func protocol(c *smtpd.Conn) string {
	if !c.ESMTP {
		return "SMTP"
	}
	p := "ESMTP"
	if c.TLS != nil {
		p += "S"
	}
	if c.AuthMechanism != "" {
		p += "A"
	}
	return p
}

// tlsInfo is Exim's X= field, "TLS1.3:TLS_AES_128_GCM_SHA256"; "" in
// clear text.
func tlsInfo(c *smtpd.Conn) string {
	if c.TLS == nil {
		return ""
	}
	return tlsconf.VersionName(c.TLS.Version) + ":" + tlsconf.CipherName(c.TLS.CipherSuite)
}

// authInfo is Exim's A= field, "plain:bob"; "" without AUTH.
func authInfo(c *smtpd.Conn) string {
	if c.AuthMechanism == "" {
		return ""
	}
	return strings.ToLower(c.AuthMechanism) + ":" + c.AuthUser
}

// normalizeLF makes every line end LF (the packages' header values may
// use CRLF or LF) and drops empty lines, which would end the header.
func normalizeLF(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimRight(s, "\r\n"); s != "" {
			out = append(out, s)
		}
	}
	return out
}
