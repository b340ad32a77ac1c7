package mta

import (
	"context"
	"strings"

	"github.com/mailpolicy/mailpolicy/bmi"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/checks"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/smtpd"
	"github.com/mailpolicy/mailpolicy/smtp"
	"github.com/mailpolicy/mailpolicy/spf"
)

// transaction is the Backend's side of one MAIL ... DATA sequence.
type transaction struct {
	s      *Server
	from   string
	spf    *spf.Outcome
	rcpts  []string
	routes []checks.Route // per recipient, parallel to rcpts
	env    bmi.Envelope
}

// Mail runs SPF (Exim's "spf" ACL condition) and starts the
// transaction; the outcome is kept for DMARC.
func (s *Server) Mail(ctx context.Context, c *smtpd.Conn, from string, p *smtp.MailParams) (smtpd.Transaction, *smtpd.Reply) {
	tx := &transaction{s: s, from: from, spf: s.checks.SPF(ctx, c.Client.Addr(), c.HELO, from)}
	tx.env.Run = s.cfg.Scanner != nil
	s.cfg.Logger.Info("mail from", "session", c.ID, "client", c.Client.String(), "from", from, "spf", tx.spf.Result.String(), "prdr", p.PRDR)
	return tx, nil
}

// Rcpt routes a recipient (checks.Router) and gathers its bmi opt-in.
func (tx *transaction) Rcpt(ctx context.Context, c *smtpd.Conn, rcpt string, _ *smtp.RcptParams) *smtpd.Reply {
	s := tx.s
	tx.env.BeginRcpt()
	relayOK := s.router.RelayAllowed(c.Client.Addr()) || c.AuthUser != ""
	rt, refused := s.router.Route(rcpt, relayOK)
	if refused != nil {
		tx.env.RejectRcpt()
		return &smtpd.Reply{Code: refused.Code, Enhanced: refused.Enhanced, Text: refused.Text}
	}
	if optin, ok := s.cfg.OptIn[strings.ToLower(rcpt)]; ok {
		tx.env.SetOptIn(optin)
	}
	tx.env.AddRecipient(rcpt)
	tx.rcpts = append(tx.rcpts, rcpt)
	tx.routes = append(tx.routes, rt)
	return nil
}
