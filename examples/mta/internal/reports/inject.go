package reports

import (
	"bytes"
	"context"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/queue"
)

// Injector puts one message into the MTA's queue, from the envelope
// sender from to the recipients to; once it returns nil the message is
// on disk and the queue delivers it with retries.
type Injector func(ctx context.Context, from string, to []string, msg []byte) error

// SpoolInjector queues messages in sp as the Bouncer queues a DSN:
// message and envelope written and fsynced, the envelope published
// (Commit), then wake (the runner's Wake; nil: the runner finds it at
// its next scan). The recipients are told apart from the rest of the
// queue by nothing: a report is mail like any other.
func SpoolInjector(sp *queue.Spool, wake func()) Injector {
	return func(ctx context.Context, from string, to []string, msg []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		env := &queue.Envelope{ID: queue.NewID(), From: from, Size: wireSize(msg)}
		for _, r := range to {
			env.Rcpts = append(env.Rcpts, &queue.Recipient{Addr: r})
		}
		p, err := sp.PrepareEnvelope(env, msg)
		if err == nil {
			err = p.Commit()
		}
		if err != nil {
			return err
		}
		if wake != nil {
			wake()
		}
		return nil
	}
}

// wireSize is the size of msg with CRLF line ends, the SIZE= the
// courier announces.
func wireSize(msg []byte) int64 {
	return int64(len(msg) + bytes.Count(msg, []byte("\n")) - bytes.Count(msg, []byte("\r\n")))
}
