package queue

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/dsninfo"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/maildir"
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
}

// Bounce sends a DSN about rcpts of the spooled message env to its
// sender: Action failed (or, with delayed, Action delayed and
// Will-Retry-Until), RET=HDRS, Exim's extra fields from the last host
// tried. A bounce is never bounced: nothing is sent for the null
// sender. The DSN goes to the maildir when the sender is local (or an
// SRS address that reverses to a local one), else to the queue with a
// null sender.
func (b *Bouncer) Bounce(env *Envelope, data []byte, rcpts []*Recipient, delayed bool) {
	log := b.Logger
	if log == nil {
		log = slog.Default()
	}
	if env.From == "" || len(rcpts) == 0 {
		if len(rcpts) > 0 && !delayed {
			log.Info("bounce of a bounce discarded", "id", env.ID)
		}
		return
	}
	rep := dsninfo.Report{
		To:           env.From,
		ReportingMTA: b.Hostname,
		ArrivalDate:  env.Arrival,
		Return:       dsninfo.ReturnHeaders,
		Original:     headerPart(data),
	}
	for _, r := range rcpts {
		dr := dsninfo.Recipient{
			FinalRecipient: dsninfo.Typed{Type: "rfc822", Value: r.Addr},
			Action:         dsninfo.Failed,
			Status:         r.Status,
			RemoteMTA:      r.Host,
			Greeting:       r.Greeting,
			HELOResponse:   r.HELO,
			Diagnostic:     r.Message,
		}
		if ip, err := netip.ParseAddr(r.IP); err == nil {
			dr.RemoteIP, dr.RemotePort = ip, r.Port
		}
		if delayed {
			dr.Action = dsninfo.Delayed
			dr.Status = "4.0.0"
			dr.WillRetryUntil = env.Arrival.Add(b.RetryMaxAge)
		} else if dr.Status == "" || !strings.HasPrefix(dr.Status, "5") {
			dr.Status = "5.0.0"
		}
		rep.Recipients = append(rep.Recipients, dr)
	}
	msg, err := dsninfo.Compose(rep)
	if err != nil {
		log.Warn("bounce: compose", "id", env.ID, "err", err)
		return
	}
	kind := "bounce"
	if delayed {
		kind = "delay warning"
	}
	to, local, refused := b.Route(env.From)
	if refused != "" {
		log.Warn(kind+" undeliverable", "id", env.ID, "to", env.From, "reason", refused)
		return
	}
	id := NewID()
	if local {
		var buf bytes.Buffer
		fmt.Fprintf(&buf, "Return-path: <>\nEnvelope-to: %s\nDelivery-date: %s\n", to, time.Now().Format(time.RFC1123Z))
		buf.Write(bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n")))
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
	sid, err := b.Spool.Enqueue(id, "", []string{to}, msg)
	if err != nil {
		log.Warn(kind+" not queued", "id", env.ID, "err", err)
		return
	}
	if b.Wake != nil {
		b.Wake()
	}
	log.Info(kind+" queued", "id", env.ID, "bounce", sid, "to", to)
}

// headerPart is the header of a message (CRLF), for RET=HDRS.
func headerPart(data []byte) []byte {
	if i := bytes.Index(data, []byte("\r\n\r\n")); i >= 0 {
		return data[:i+2]
	}
	return data
}
