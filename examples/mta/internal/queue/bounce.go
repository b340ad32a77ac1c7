package queue

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/dsninfo"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/maildir"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// Bouncer sends delivery status notifications. Route and Maildir are
// where they go: a local sender's into the Maildir, anyone else's into
// the Spool with the null sender.
type Bouncer struct {
	Hostname    string        // Reporting-MTA
	RetryMaxAge time.Duration // for Will-Retry-Until in delay warnings
	// Route says where a notification to addr goes: to (the address
	// after SRS reversal and forwarding), whether that is local, or
	// why it cannot be delivered at all.
	Route   func(addr string) (to string, local bool, refused string)
	Maildir *maildir.Maildir
	Spool   *Spool
	Wake    func() // after queueing one; nil: nothing
	Logger  *slog.Logger
	// ReturnSizeLimit is Exim's bounce_return_size_limit: a failure
	// DSN with RET=FULL returns the whole message only up to this many
	// bytes, a longer one its header (text/rfc822-headers, which RFC
	// 3464 §2.1 allows). 0: DefaultReturnSizeLimit.
	ReturnSizeLimit int64
}

// DefaultReturnSizeLimit is Exim's default bounce_return_size_limit.
const DefaultReturnSizeLimit = 100 << 10

// Bounce sends a DSN about those of rcpts, recipients of the spooled
// message env (data), that asked for one (Recipient.Notifies): Action
// failed for NOTIFY=FAILURE or, with delayed, Action delayed and
// Will-Retry-Until for NOTIFY=DELAY. Exim's extra fields come from the
// last host tried. See Delivered for what every DSN carries. msg is
// read with ReadAt only: the header, bounded by MaxHeader, and the
// whole message for RET=FULL up to ReturnSizeLimit.
func (b *Bouncer) Bounce(env *Envelope, msg *io.SectionReader, rcpts []*Recipient, delayed bool) {
	if delayed {
		b.notify(env, msg, rcpts, dsninfo.Delayed, smtp.NotifyDelay)
		return
	}
	b.notify(env, msg, rcpts, dsninfo.Failed, smtp.NotifyFailure)
}

// Delivered sends the success DSN, Action delivered, for those of
// rcpts, delivered to their mailboxes here, that asked NOTIFY=SUCCESS.
//
// Every DSN carries ENVID as Original-Envelope-ID and each ORCPT as
// Original-Recipient, and returns the message's header; the whole
// message only in a failure DSN with RET=FULL (RFC 3461 §4.3: a DSN
// reporting no failure returns the header at most). None is ever sent
// for the null sender: a bounce is never bounced. It goes to the
// maildir when the sender is local (or an SRS address that reverses to
// a local one), else to the queue with the null sender (and SMTPUTF8
// when the sender is not ASCII).
func (b *Bouncer) Delivered(env *Envelope, data []byte, rcpts []*Recipient) {
	b.notify(env, io.NewSectionReader(bytes.NewReader(data), 0, int64(len(data))), rcpts, dsninfo.Delivered, smtp.NotifySuccess)
}

// Relayed sends the DSN with Action relayed for those of rcpts,
// delivered to a host, that asked NOTIFY=SUCCESS when the host did not
// offer DSN (RFC 3461 §5.2.2): no notification can come from past it.
// Where the host took the DSN parameters (Recipient.DSNPassed), the
// success DSN is its to send, and none is sent here.
func (b *Bouncer) Relayed(env *Envelope, msg *io.SectionReader, rcpts []*Recipient) {
	var open []*Recipient
	for _, r := range rcpts {
		if !r.DSNPassed {
			open = append(open, r)
		}
	}
	b.notify(env, msg, open, dsninfo.Relayed, smtp.NotifySuccess)
}

// notify sends one DSN with action for those of rcpts whose NOTIFY has
// cond.
func (b *Bouncer) notify(env *Envelope, msg *io.SectionReader, rcpts []*Recipient, action dsninfo.Action, cond smtp.Notify) {
	log := b.Logger
	if log == nil {
		log = slog.Default()
	}
	var asked []*Recipient
	for _, r := range rcpts {
		if r.Notifies(cond) {
			asked = append(asked, r)
		}
	}
	if len(asked) == 0 {
		return
	}
	if env.From == "" {
		if action == dsninfo.Failed {
			log.Info("bounce of a bounce discarded", "id", env.ID)
		}
		return
	}
	head, err := ReadHeader(msg, MaxHeader)
	if err != nil {
		log.Warn("dsn: reading the message", "id", env.ID, "err", err)
	}
	rep := dsninfo.Report{
		ReportingMTA: b.Hostname,
		ArrivalDate:  env.Arrival,
		Return:       dsninfo.ReturnHeaders,
		Original:     head,
	}
	// An internationalised To would be written as '?'s: the report is
	// 7-bit (dsninfo writes no message/global-delivery-status).
	if isASCII(env.From) {
		rep.To = env.From
	}
	if env.EnvID != "" {
		// RFC 3464 §2.2.1: the envelope id as it came, in xtext.
		rep.OriginalEnvelopeID = smtp.EncodeXtext(env.EnvID)
	}
	if action == dsninfo.Failed && smtp.Ret(env.Ret) == smtp.RetFull {
		if full, ok := b.full(env, msg, log); ok {
			rep.Return, rep.Original = dsninfo.ReturnFull, full
		}
	}
	for _, r := range asked {
		rep.Recipients = append(rep.Recipients, b.recipient(env, r, action))
	}
	dsn, err := dsninfo.Compose(rep)
	if err != nil {
		log.Warn("dsn: compose", "id", env.ID, "err", err)
		return
	}
	kind := map[dsninfo.Action]string{dsninfo.Failed: "bounce", dsninfo.Delayed: "delay warning",
		dsninfo.Delivered: "success DSN", dsninfo.Relayed: "relayed DSN"}[action]
	to, local, refused := b.Route(env.From)
	if refused != "" {
		log.Warn(kind+" undeliverable", "id", env.ID, "to", env.From, "reason", refused)
		return
	}
	id := NewID()
	if local {
		var buf bytes.Buffer
		fmt.Fprintf(&buf, "Return-path: <>\nEnvelope-to: %s\nDelivery-date: %s\n", to, time.Now().Format(time.RFC1123Z))
		buf.Write(bytes.ReplaceAll(dsn, []byte("\r\n"), []byte("\n")))
		p, err := b.Maildir.Write("", buf.Bytes())
		if err == nil {
			err = p.Commit()
		}
		if err != nil {
			log.Warn(kind+" delivery failed", "id", env.ID, "to", to, "err", err)
			return
		}
		log.Info(kind+" delivered", "id", env.ID, "bounce", id, "to", to)
		return
	}
	if b.Spool == nil {
		log.Warn(kind+" not queued: no spool", "id", env.ID, "to", to)
		return
	}
	p, err := b.Spool.PrepareEnvelope(&Envelope{ID: id, Rcpts: []*Recipient{{Addr: to}}, SMTPUTF8: !isASCII(to)}, dsn)
	if err == nil {
		err = p.Commit()
	}
	if err != nil {
		log.Warn(kind+" not queued", "id", env.ID, "err", err)
		return
	}
	if b.Wake != nil {
		b.Wake()
	}
	log.Info(kind+" queued", "id", env.ID, "bounce", p.ID(), "to", to)
}

// recipient is the DSN's block for r.
func (b *Bouncer) recipient(env *Envelope, r *Recipient, action dsninfo.Action) dsninfo.Recipient {
	dr := dsninfo.Recipient{
		FinalRecipient:    dsninfo.Address(r.Addr),
		OriginalRecipient: originalRecipient(r.ORCPT),
		Action:            action,
		Status:            r.Status,
		RemoteMTA:         r.Host,
		Greeting:          r.Greeting,
		HELOResponse:      r.HELO,
		Diagnostic:        r.Message,
	}
	if ip, err := netip.ParseAddr(r.IP); err == nil && r.Host != "" {
		dr.RemoteIP, dr.RemotePort = ip, r.Port
	}
	switch action {
	case dsninfo.Delayed:
		dr.Status = "4.0.0"
		dr.WillRetryUntil = env.Arrival.Add(b.RetryMaxAge)
	case dsninfo.Failed:
		if !strings.HasPrefix(dr.Status, "5") {
			dr.Status = "5.0.0"
		}
	default:
		dr.Status = "2.0.0"
	}
	return dr
}

// originalRecipient is the Original-Recipient field of a stored ORCPT
// ("type;address", decoded from xtext, RFC 3461 §4.2); a utf-8 address
// in its unitext form is written as utf-8-addr-xtext, which a 7-bit
// report keeps (RFC 6533 §3).
func originalRecipient(orcpt string) dsninfo.Typed {
	typ, addr, ok := strings.Cut(orcpt, ";")
	if !ok || typ == "" || addr == "" {
		return dsninfo.Typed{}
	}
	typ = strings.ToLower(typ)
	if typ == "utf-8" {
		if a, err := dsninfo.DecodeUTF8Addr(addr); err == nil {
			addr = dsninfo.EncodeUTF8Addr(a)
		}
	}
	return dsninfo.Typed{Type: typ, Value: addr}
}

// full is the whole message for RET=FULL, when it is at most
// ReturnSizeLimit long; ok is false when only the header goes back.
func (b *Bouncer) full(env *Envelope, msg *io.SectionReader, log *slog.Logger) (_ []byte, ok bool) {
	limit := b.ReturnSizeLimit
	if limit <= 0 {
		limit = DefaultReturnSizeLimit
	}
	if msg.Size() > limit {
		log.Info("dsn: RET=FULL message over bounce_return_size_limit, header returned", "id", env.ID, "size", msg.Size(), "limit", limit)
		return nil, false
	}
	buf := make([]byte, msg.Size())
	if _, err := msg.ReadAt(buf, 0); err != nil && err != io.EOF {
		log.Warn("dsn: reading the message", "id", env.ID, "err", err)
		return nil, false
	}
	return buf, true
}
