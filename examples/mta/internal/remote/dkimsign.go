package remote

import (
	"context"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/queue"
)

// sign signs msg for this delivery attempt, before any connection:
// Exim signs in the transport, so each attempt (a retry too) uses the
// key files as they are then, and signing first makes SIZE= count the
// signature and spares a connection when the message must wait. ok is
// false when it must: the pending recipients are deferred with Exim's
// "DKIM: signing failed" (dkim_strict) and nothing is sent to them. The
// message is read as it goes (signing.Signers.Apply); the result is what to
// send, the fields in front of the spooled message.
func (q *Courier) sign(ctx context.Context, env *queue.Envelope, out message, rcpts []*queue.Recipient) (_ message, ok bool) {
	log := q.Logger
	o := q.Signers.Apply(ctx, out.body)
	switch {
	case o.Defer:
		msg := "DKIM: signing failed: " + o.Err.Error()
		if ctx.Err() != nil {
			msg = "delivery interrupted: " + ctx.Err().Error()
		}
		for _, r := range rcpts {
			if r.State == queue.Pending {
				r.Message = msg
			}
		}
		log.Warn("deferred", "id", env.ID, "dkim_domain", o.Domain, "reason", msg)
		return out, false
	case o.Err != nil:
		log.Warn("DKIM: signing failed, sent unsigned (not strict)", "id", env.ID, "dkim_domain", o.Domain, "err", o.Err)
	case o.NoFrom != "":
		log.Info("DKIM: not signed", "id", env.ID, "reason", o.NoFrom)
	}
	if o.Header == nil {
		return out, true
	}
	sigs := make([]string, len(o.Signatures))
	for i, s := range o.Signatures {
		sigs[i] = "d=" + s.Domain + " s=" + s.Selector + " a=" + s.Algorithm
	}
	log.Info("DKIM: signed", "id", env.ID, "signatures", sigs)
	out.head = o.Header
	return out, true
}
