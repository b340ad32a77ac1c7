package smtpd

import (
	"context"
	"crypto/tls"
	"net/netip"

	"github.com/mailpolicy/mailpolicy/prdr"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// A Backend decides what the server does with a client's mail, as
// go-smtp's Backend does: the Server handles the protocol (syntax,
// limits, framing, PRDR replies) and asks the Backend at MAIL, RCPT and
// the end of the message.
type Backend interface {
	// Mail starts a transaction for the sender from (already checked
	// syntax; "" is the null sender). A non-nil Reply refuses it.
	Mail(ctx context.Context, c *Conn, from string, p *smtp.MailParams) (Transaction, *Reply)
}

// A Transaction is one MAIL ... end of data sequence.
type Transaction interface {
	// Rcpt decides one recipient (syntax checked); nil accepts it.
	Rcpt(ctx context.Context, c *Conn, rcpt string, p *smtp.RcptParams) *Reply
	// Data decides the message, read whole, and acts on the decision
	// (stores the copies) before it returns: the reply follows at once.
	Data(ctx context.Context, c *Conn, m *Message) *DataResult
}

// Conn is what a Backend knows of the client.
type Conn struct {
	ID     string         // session number, for logs
	Client netip.AddrPort // the SMTP client (the PROXY source when proxied)
	Proxy  netip.Addr     // the proxy's address when proxied
	HELO   string
	ESMTP  bool
	// TLS is the connection's TLS state; nil in clear text.
	TLS *tls.ConnectionState
	// AuthMechanism and AuthUser are set after a successful AUTH.
	AuthMechanism, AuthUser string
	// Listener names the listener the client came in on ("smtp",
	// "submissions").
	Listener string
}

// Reply is one SMTP reply; Text may hold several lines, separated by
// "\n". Every line goes out 7-bit printable and at most 512 octets.
type Reply struct {
	Code     int
	Enhanced string
	Text     string
}

// DataResult is the Backend's answer to a message.
type DataResult struct {
	// Reply, when set, is the one reply for the whole message.
	Reply *Reply
	// Otherwise Decisions has one entry per accepted recipient, in RCPT
	// order, answered by prdr.Respond: with PRDR (Message.PRDR) one
	// reply each, without it the one reply prdr.Respond makes.
	Decisions []prdr.Decision
	MessageID string
}
