package main

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/dsninfo"
)

// bounce sends a DSN about rcpts of the spooled message env to its
// sender: Action failed (or, with delayed, Action delayed and
// Will-Retry-Until), RET=HDRS, Exim's extra fields from the last host
// tried. A bounce is never bounced: nothing is sent for the null
// sender. The DSN goes to the maildir when the sender is local (or an
// SRS address that reverses to a local one), else to the queue with a
// null sender.
func (s *Server) bounce(env *envelope, data []byte, rcpts []*spoolRcpt, delayed bool) {
	log := s.cfg.Logger
	if env.From == "" || len(rcpts) == 0 {
		if len(rcpts) > 0 && !delayed {
			log.Info("bounce of a bounce discarded", "id", env.ID)
		}
		return
	}
	rep := dsninfo.Report{
		To:           env.From,
		ReportingMTA: s.cfg.Hostname,
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
			dr.WillRetryUntil = env.Arrival.Add(s.cfg.RetryMaxAge)
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
	rt, refused := s.routeDepth(env.From, s.queue != nil, 0)
	if refused != nil {
		log.Warn(kind+" undeliverable", "id", env.ID, "to", env.From, "reason", refused.text)
		return
	}
	id := s.newMessageID()
	if rt.kind == routeLocal {
		var b bytes.Buffer
		fmt.Fprintf(&b, "Return-path: <>\nEnvelope-to: %s\nDelivery-date: %s\n", rt.addr, time.Now().Format(time.RFC1123Z))
		b.Write(bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n")))
		p, err := s.maildir.write("", b.Bytes())
		if err == nil {
			err = p.commit()
		}
		if err != nil {
			log.Warn(kind+" delivery failed", "id", env.ID, "to", rt.addr, "err", err)
			return
		}
		log.Info(kind+" delivered", "id", env.ID, "bounce", id, "to", rt.addr)
		return
	}
	if err := s.queue.enqueue(id, "", []string{rt.addr}, msg); err != nil {
		log.Warn(kind+" not queued", "id", env.ID, "err", err)
		return
	}
	log.Info(kind+" queued", "id", env.ID, "bounce", id, "to", rt.addr)
}

// headerPart is the header of a message (CRLF), for RET=HDRS.
func headerPart(data []byte) []byte {
	if i := bytes.Index(data, []byte("\r\n\r\n")); i >= 0 {
		return data[:i+2]
	}
	return data
}
