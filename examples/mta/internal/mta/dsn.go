package mta

import (
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/dsninfo"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/checks"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/queue"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/smtpd"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// The DSN parameters (RFC 3461) and SMTPUTF8 (RFC 6531) of a
// transaction go with every copy: into the spool envelope for the
// remote ones, where the queue's Bouncer and the next hop find them,
// and into the success DSN for the local ones.

// spoolEnvelope is the spool envelope of the recipients idx, sent as
// from (the sender, or its SRS form for forwarded copies).
func (tx *transaction) spoolEnvelope(sid, from string, idx []int) *queue.Envelope {
	env := &queue.Envelope{ID: sid, From: from, Ret: string(tx.params.Ret), EnvID: tx.params.EnvID, SMTPUTF8: tx.params.SMTPUTF8}
	for _, i := range idx {
		env.Rcpts = append(env.Rcpts, tx.dsnRecipient(i))
	}
	return env
}

// dsnRecipient is recipient i as routed, with its NOTIFY and ORCPT. A
// forwarded recipient without ORCPT gets the address it was sent to as
// one (RFC 3461 §5.2.1 allows adding it), so that a DSN from past the
// forward still names the address its sender knows.
func (tx *transaction) dsnRecipient(i int) *queue.Recipient {
	r := queue.NewRecipient(tx.routes[i].Addr, tx.rparams[i])
	if r.ORCPT == "" && tx.routes[i].Kind == checks.Forward {
		t := dsninfo.Address(tx.rcpts[i])
		r.ORCPT = t.Type + ";" + t.Value
	}
	return r
}

// notifyDelivered sends the success DSN (Action delivered) for those
// of the recipients idx, delivered to the Maildir, that asked
// NOTIFY=SUCCESS; without a spool it reaches local senders only.
func (tx *transaction) notifyDelivered(id, common string, m *smtpd.Message, idx []int) {
	var asked []*queue.Recipient
	for _, i := range idx {
		if r := tx.dsnRecipient(i); r.Notifies(smtp.NotifySuccess) {
			r.State = queue.Delivered
			asked = append(asked, r)
		}
	}
	if len(asked) == 0 || tx.from == "" {
		return // the Bouncer says nothing to the null sender either
	}
	s := tx.s
	head := m.Header()
	env := &queue.Envelope{ID: id, From: tx.from, Arrival: time.Now(), Ret: string(tx.params.Ret), EnvID: tx.params.EnvID, SMTPUTF8: tx.params.SMTPUTF8}
	s.bouncer.Delivered(env, append([]byte(common), head...), asked)
}

// protocol is the Received "with" word: RFC 6531 §4.3's UTF8SMTP,
// UTF8SMTPS, UTF8SMTPA or UTF8SMTPSA for a transaction with SMTPUTF8,
// else RFC 3848's.
func (tx *transaction) protocol(c *smtpd.Conn) string {
	p := protocol(c)
	if tx.params.SMTPUTF8 {
		return "UTF8" + strings.TrimPrefix(p, "E")
	}
	return p
}
