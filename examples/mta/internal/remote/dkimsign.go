package remote

import (
	"context"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/queue"
)

// sign signs data for this delivery attempt, before any connection:
// Exim signs in the transport, so each attempt (a retry too) uses the
// key files as they are then, and signing first makes SIZE= count the
// signature and spares a connection when the message must wait. ok is
// false when it must: the pending recipients are deferred with Exim's
// "DKIM: signing failed" (dkim_strict) and nothing is sent.
func (q *Courier) sign(ctx context.Context, env *queue.Envelope, data []byte) (out []byte, ok bool) {
	log := q.Logger
	o := q.Signers.Apply(ctx, data)
	switch {
	case o.Defer:
		msg := "DKIM: signing failed: " + o.Err.Error()
		if ctx.Err() != nil {
			msg = "delivery interrupted: " + ctx.Err().Error()
		}
		for _, r := range env.Rcpts {
			if r.State == queue.Pending {
				r.Message = msg
			}
		}
		log.Warn("deferred", "id", env.ID, "dkim_domain", o.Domain, "reason", msg)
		return nil, false
	case o.Err != nil:
		log.Warn("DKIM: signing failed, sent unsigned (not strict)", "id", env.ID, "dkim_domain", o.Domain, "err", o.Err)
	case o.NoFrom != "":
		log.Info("DKIM: not signed", "id", env.ID, "reason", o.NoFrom)
	}
	if o.Header == nil {
		return data, true
	}
	sigs := make([]string, len(o.Signatures))
	for i, s := range o.Signatures {
		sigs[i] = "d=" + s.Domain + " s=" + s.Selector + " a=" + s.Algorithm
	}
	log.Info("DKIM: signed", "id", env.ID, "signatures", sigs)
	out = make([]byte, 0, len(o.Header)+len(data))
	return append(append(out, o.Header...), data...), true
}
