package remote

import (
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/queue"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// dsnParams are the RCPT parameters for rc: its NOTIFY and ORCPT when
// the server offers DSN (RFC 3461 §5.2.1), none otherwise.
func dsnParams(rc *queue.Recipient, dsn bool) *smtp.RcptParams {
	if !dsn {
		return nil
	}
	return rc.RcptParams()
}

// utf8Refusal is the address message of recipients that cannot go to
// host because it does not offer SMTPUTF8 and the message needs it: a
// relay may not downgrade (RFC 6531 §3.2), so they fail at once, and
// the sender gets a DSN.
func utf8Refusal(host string) string {
	return "remote host " + host + " does not offer SMTPUTF8, which the message needs (internationalised address or header)"
}
