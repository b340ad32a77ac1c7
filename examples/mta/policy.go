package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/authres"
	"github.com/mailpolicy/mailpolicy/bmi"
	"github.com/mailpolicy/mailpolicy/dcc"
	"github.com/mailpolicy/mailpolicy/dkim"
	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/prdr"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// plan is what the checks decided for one recipient.
type plan struct {
	decision prdr.Decision
	folder   string // "" inbox, else a folderName
}

// receive runs the DATA-time checks on a complete message, delivers it
// and sends the end-of-data reply (or replies, with PRDR). The order is
// the architecture's: DKIM and DMARC (with the SPF outcome from MAIL),
// DCC, bmi, per-recipient decisions, durable delivery, events.
func (s *session) receive(tx *transaction, msg []byte) {
	cfg := &s.srv.cfg
	id := s.srv.newMessageID()
	ctx, cancel := context.WithTimeout(s.srv.ctx, cfg.PolicyTimeout)
	defer cancel()
	log := s.log()

	// The headers we add, top to bottom after Return-Path/Envelope-to.
	added := []string{s.receivedHeader(tx, id), tx.spf.Received}

	// DKIM and DMARC.
	dm, in, hdrErr := s.checkDMARC(ctx, tx, msg)
	added = append(added, authres.Build(cfg.Hostname,
		append([]authres.Method{authres.FromSPF(tx.spf), authres.FromDMARC(dm)}, authres.FromDKIM(in.DKIM)...)...).String())
	log.Info("dmarc", "id", id, "status", string(dm.Status), "domain", dm.FromDomain, "text", dm.StatusText, "err", dm.Err, "header", hdrErr)
	if cfg.History != nil && dm.Record != nil {
		if err := cfg.History.Append(dmarc.NewHistoryEntry(in, dm, id, cfg.Hostname, time.Now())); err != nil {
			log.Warn("dmarc history", "err", err)
		}
	}
	dv := decideDMARC(dm, hdrErr, cfg.DMARCEnforce)
	if dv.code != 0 {
		s.reply(dv.code, dv.enhanced, dv.text)
		log.Info("refused", "id", id, "code", dv.code, "reason", dv.reason)
		return
	}
	quarantine := dv.quarantine

	plans := make([]plan, len(tx.rcpts))

	// DCC.
	if cfg.DCC != nil {
		res, err := s.checkDCC(ctx, tx, msg)
		switch dcc.Decide(res, err, cfg.DCCDeferOK) {
		case dcc.Defer:
			log.Warn("dcc defer", "id", id, "err", err)
			s.reply(451, "4.7.1", "Temporary local problem (DCC), try again later")
			return
		}
		if res != nil {
			if h, err := res.HeadersToAdd(""); err == nil && h != "" {
				added = append(added, h)
			}
			log.Info("dcc", "id", id, "result", res.DCCResult)
			if res.Outcome != dcc.Defer {
				for i := range plans {
					switch {
					case res.RecipientOutcome(i) != dcc.Fail:
					case res.Recipients[i] == 'G':
						plans[i].decision = prdr.Decision{Verdict: prdr.Temporary, Enhanced: "4.7.1", Text: "Greylisted by DCC, try again later"}
					default:
						plans[i].decision = prdr.Decision{Verdict: prdr.Permanent, Enhanced: "5.7.1", Text: "Rejected as bulk mail by DCC"}
					}
				}
			}
		}
	}

	// bmi.
	var verdicts bmi.Verdicts
	if cfg.Scanner != nil && tx.env.Run {
		header, body := bmi.SplitMessage(msg)
		vs, err := cfg.Scanner.Scan(ctx, &bmi.Message{
			ClientIP:   s.client.Addr(),
			Sender:     tx.from,
			Recipients: tx.env.Recipients,
			Header:     header,
			Body:       body,
		})
		for _, e := range vs.Errors() {
			log.Warn("bmi verdict error", "id", id, "err", e)
		}
		if err != nil || len(vs.Errors()) > 0 {
			// Like Exim's spam condition without defer_ok: a message
			// the scanner could not judge is not let through unjudged.
			if !cfg.ScanDeferOK {
				log.Warn("bmi scan failed, message deferred", "id", id, "err", err)
				s.reply(451, "4.7.1", "Temporary local problem (content scan), try again later")
				return
			}
			log.Warn("bmi scan failed, message accepted unscanned (-spamd-defer-ok)", "id", id, "err", err)
		}
		verdicts = vs
	}
	for i, rcpt := range tx.rcpts {
		if plans[i].decision.Verdict != prdr.Accept {
			continue
		}
		ev := verdicts.ForRecipient(rcpt)
		switch {
		case ev.DontDeliver():
			plans[i].decision = prdr.Decision{Verdict: prdr.Permanent, Enhanced: "5.7.1", Text: "Message refused by content scan"}
		case ev.DeliverAlternate():
			plans[i].folder = folderName(ev.AltLocation())
		case quarantine:
			plans[i].folder = folderName("Junk")
		}
	}

	t := &prdr.Transaction{Requested: tx.prdr, Recipients: tx.rcpts, MessageID: id}
	if !t.Active() {
		// One reply for every recipient: a temporary refusal of any of
		// them defers the whole message (nothing is delivered, so the
		// retry duplicates nothing). A permanent refusal of some
		// recipients among others is a silent discard for them, as
		// bmi_dont_deliver is in Exim; a single recipient gets its own
		// refusal from prdr.Respond.
		for _, p := range plans {
			if d := p.decision; d.Verdict == prdr.Temporary {
				s.reply(451, "4.7.1", d.Text)
				log.Info("deferred", "id", id, "reason", d.Text)
				return
			}
		}
	}

	// Delivery: write and fsync every accepted copy (maildir files for
	// local recipients, spool entries for remote and forwarded ones),
	// then decide.
	// Authentication-Results fields claiming to be ours are forged
	// (RFC 8601 §5): removed now that DKIM has seen the message as sent.
	if n := tx.data.removeOwnAR(cfg.Hostname); n > 0 {
		log.Info("removed forged Authentication-Results", "id", id, "fields", n)
	}
	common := normalizeLF(strings.Join(nonEmpty(added), "\n") + "\n")
	pend := make([]committer, len(tx.rcpts))
	failed := false
	tempFail := func(i int, err error) {
		log.Warn("delivery failed", "id", id, "rcpt", tx.rcpts[i], "err", err)
		plans[i].decision = prdr.Decision{Verdict: prdr.Temporary, Code: 451, Enhanced: "4.3.0", Text: "Local delivery failed, try again later"}
		failed = true
	}
	// Remote copies: one spool entry per envelope sender (the original
	// one for relayed mail, the SRS one for forwarded mail).
	spoolFor := map[string][]int{}
	var senders []string
	for i := range tx.rcpts {
		if plans[i].decision.Verdict != prdr.Accept || tx.routes[i].kind == routeLocal {
			continue
		}
		from := tx.from
		if tx.routes[i].kind == routeForward {
			f, err := s.srv.forwardSender(tx.from)
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
	spooled := map[int]string{} // recipient index → spool id
	// Each stored copy is our fields plus the message, one slice over
	// the message buffer (databuf.go): the spool's in CRLF form first,
	// then, converted in place, the Maildir's in LF form.
	var wire []byte
	wireOK := true
	if len(senders) > 0 {
		wire, wireOK = tx.data.withPrefix(strings.ReplaceAll(common, "\n", "\r\n"))
	}
	for n, from := range senders {
		idx := spoolFor[from]
		sid := id
		if n > 0 {
			sid = fmt.Sprintf("%s-%d", id, n)
		}
		var addrs []string
		for _, i := range idx {
			addrs = append(addrs, tx.routes[i].addr)
		}
		var p *spoolPending
		err := errNoDataMemory
		if wireOK {
			p, err = s.srv.queue.prepare(sid, from, addrs, wire)
		}
		for _, i := range idx {
			if err != nil {
				tempFail(i, err)
				continue
			}
			pend[i] = p
			spooled[i] = sid
		}
	}
	tx.data.toLF() // msg is LF-only from here on
	for i := range tx.rcpts {
		if plans[i].decision.Verdict != prdr.Accept || tx.routes[i].kind != routeLocal {
			continue
		}
		rcpt := tx.routes[i].addr
		data, ok := tx.data.withPrefix(fmt.Sprintf("Return-path: <%s>\nEnvelope-to: %s\nDelivery-date: %s\n", tx.from, rcpt, time.Now().Format(time.RFC1123Z)) + common)
		if !ok {
			tempFail(i, errNoDataMemory)
			continue
		}
		p, err := s.srv.maildir.write(plans[i].folder, data)
		if err != nil {
			tempFail(i, err)
			continue
		}
		pend[i] = p
	}
	if failed && !t.Active() {
		// One reply for all: nothing may be delivered, or a retry
		// would duplicate it.
		for _, p := range pend {
			if p != nil {
				p.abort()
			}
		}
		s.reply(451, "4.3.0", "Local delivery failed, try again later")
		return
	}
	delivered, queued := 0, 0
	for i, p := range pend {
		if p == nil {
			if plans[i].decision.Verdict == prdr.Permanent {
				log.Info("refused", "id", id, "rcpt", tx.rcpts[i], "reason", plans[i].decision.Text)
			}
			continue
		}
		if err := p.commit(); err != nil {
			log.Warn("delivery failed", "id", id, "rcpt", tx.rcpts[i], "err", err)
			plans[i].decision = prdr.Decision{Verdict: prdr.Temporary, Code: 451, Enhanced: "4.3.0", Text: "Local delivery failed, try again later"}
			continue
		}
		if sid, ok := spooled[i]; ok {
			queued++
			log.Info("queued", "id", id, "spool", sid, "rcpt", tx.rcpts[i], "to", tx.routes[i].addr)
			continue
		}
		delivered++
		local, domain := smtp.SplitAddress(tx.routes[i].addr)
		log.Info("delivered", "id", id, "rcpt", tx.rcpts[i], "folder", plans[i].folder)
		s.srv.raise(ctx, events.Event{Name: events.MsgDelivery, MessageID: id, LocalPart: local, Domain: domain,
			Router: "local", Transport: "maildir", HostAddress: s.client.Addr()})
	}
	var replies bytes.Buffer
	out, err := prdr.Respond(&replies, t, func(i int, _ string) prdr.Decision { return plans[i].decision })
	s.writeWire(replies.Bytes())
	if err != nil {
		log.Warn("reply", "id", id, "err", err)
	}
	if out != nil {
		log.Info("message", "id", id, "from", tx.from, "rcpts", len(tx.rcpts), "delivered", delivered,
			"prdr", out.PRDR, "reply", out.Final.String(), "queued", queued)
	}
	if delivered > 0 && queued == 0 {
		s.srv.raise(ctx, events.Event{Name: events.MsgComplete, MessageID: id})
	}
	if queued > 0 {
		s.srv.queue.wake()
	}
}

// committer is a stored copy waiting for the go-ahead: a maildir file
// in tmp/ or a spool entry whose envelope is not yet visible.
type committer interface {
	commit() error
	abort()
}

// checkDMARC verifies the DKIM signatures and evaluates DMARC with the
// SPF outcome of MAIL. hdrErr is the header reader's complaint about
// the message (defects, several From fields, an oversized header).
func (s *session) checkDMARC(ctx context.Context, tx *transaction, msg []byte) (o *dmarc.Outcome, in *dmarc.Input, hdrErr error) {
	cfg := &s.srv.cfg
	opts := []dmarc.Option{dmarc.WithResolver(cfg.Resolver), dmarc.WithAuthservID(cfg.Hostname)}
	dkimRes, err := dkim.Verify(ctx, bytes.NewReader(msg), dkim.WithResolver(cfg.Resolver))
	if err != nil {
		s.log().Warn("dkim", "err", err)
	}
	from, hdrErr := dmarc.FromHeaders(bytes.NewReader(msg))
	in = &dmarc.Input{
		HeaderFrom: from,
		MailFrom:   tx.from,
		HELO:       strings.TrimSuffix(s.helo, "."),
		ClientIP:   s.client.Addr(),
		SPF:        tx.spf.Result,
		SPFDomain:  tx.spf.UsedDomain,
		DKIM:       dkimRes,
	}
	return dmarc.Evaluate(ctx, *in, opts...), in, hdrErr
}

func (s *session) checkDCC(ctx context.Context, tx *transaction, msg []byte) (*dcc.Result, error) {
	header, body := dcc.SplitMessage(msg)
	req := dcc.Request{
		ClientIP: s.client.Addr(),
		HELO:     s.helo,
		Sender:   tx.from,
		Header:   header,
		Body:     bytes.NewReader(body),
	}
	for _, r := range tx.rcpts {
		req.Recipients = append(req.Recipients, dcc.Recipient{Addr: r})
	}
	return s.srv.cfg.DCC.Check(ctx, req)
}

// receivedHeader is our trace field. Every part is either ours or was
// checked: the HELO name by smtp.ValidHelo, the addresses by smtp.ValidMailbox.
func (s *session) receivedHeader(tx *transaction, id string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Received: from %s ([%s])", s.helo, s.client.Addr())
	if s.proxy.IsValid() {
		fmt.Fprintf(&b, " (via proxy [%s])", s.proxy)
	}
	proto := "SMTP"
	if s.esmtp {
		proto = "ESMTP"
	}
	fmt.Fprintf(&b, "\n\tby %s with %s (mailpolicy)\n\t(envelope-from <%s>)\n\tid %s", s.srv.cfg.Hostname, proto, tx.from, id)
	if len(tx.rcpts) == 1 {
		fmt.Fprintf(&b, "\n\tfor <%s>", tx.rcpts[0])
	}
	fmt.Fprintf(&b, "; %s", time.Now().Format(time.RFC1123Z))
	return b.String()
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

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func b62(n uint64, width int) string {
	b := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		b[i] = base62[n%62]
		n /= 62
	}
	return string(b)
}

// newMessageID returns an Exim-shaped id: time, process, sequence (from
// a random start, idSalt in queue.go, so a restart does not repeat it).
func (s *Server) newMessageID() string {
	return b62(uint64(time.Now().Unix()), 6) + "-" + b62(uint64(pid), 6) + "-" + b62(idSalt+s.seq.Add(1), 4)
}
