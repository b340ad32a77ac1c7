package mta

import (
	"context"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/auth"
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
	// params are MAIL's (DSN's RET and ENVID, SMTPUTF8), rparams each
	// recipient's (NOTIFY, ORCPT), parallel to rcpts: see dsn.go.
	params  smtp.MailParams
	rparams []*smtp.RcptParams
	// authSender is the AUTH= mailbox accepted from an authenticated
	// client (auth.MailAuthSender), "" otherwise.
	authSender string
}

// Mail runs SPF (Exim's "spf" ACL condition) and starts the
// transaction; the outcome is kept for DMARC.
func (s *Server) Mail(ctx context.Context, c *smtpd.Conn, from string, p *smtp.MailParams) (smtpd.Transaction, *smtpd.Reply) {
	if r := s.rateMail(ctx, c); r != nil { // ratelimit.go
		return nil, r
	}
	tx := &transaction{s: s, from: from}
	if p != nil {
		tx.params = *p
	}
	log := s.cfg.Logger.With("session", c.ID, "client", c.Client.String())
	if c.AuthUser != "" {
		// Submission: the client is ours, its mail is not judged as
		// inbound mail (no SPF, DMARC or content checks).
		sender, ignored := auth.MailAuthSender(true, p.Auth, nil)
		if ignored != "" {
			log.Info("AUTH= ignored", "reason", ignored)
		}
		if sender != "<>" {
			tx.authSender = sender
		}
		log.Debug("mail from", "from", from, "auth", c.AuthUser, "prdr", p.PRDR)
		return tx, nil
	}
	if p.Auth != "" {
		if _, ignored := auth.MailAuthSender(false, p.Auth, nil); ignored != "" {
			log.Info("AUTH= ignored", "reason", ignored)
		}
	}
	tx.spf = s.checks.SPF(ctx, c.Client.Addr(), c.HELO, from)
	tx.env.Run = s.cfg.Scanner != nil
	log.Debug("mail from", "from", from, "spf", tx.spf.Result.String(), "prdr", p.PRDR)
	return tx, nil
}

// Rcpt routes a recipient (checks.Router) and gathers its bmi opt-in.
func (tx *transaction) Rcpt(ctx context.Context, c *smtpd.Conn, rcpt string, p *smtp.RcptParams) *smtpd.Reply {
	s := tx.s
	tx.env.BeginRcpt()
	relayOK := s.router.RelayAllowed(c.Client.Addr()) || c.AuthUser != ""
	rt, refused := s.router.Route(rcpt, relayOK)
	if refused != nil {
		tx.env.RejectRcpt()
		return &smtpd.Reply{Code: refused.Code, Enhanced: refused.Enhanced, Text: refused.Text}
	}
	if r := s.rateRcpt(ctx, c); r != nil { // ratelimit.go
		tx.env.RejectRcpt()
		return r
	}
	if optin, ok := s.cfg.OptIn[strings.ToLower(rcpt)]; ok {
		tx.env.SetOptIn(optin)
	}
	tx.env.AddRecipient(rcpt)
	tx.rcpts = append(tx.rcpts, rcpt)
	tx.routes = append(tx.routes, rt)
	tx.rparams = append(tx.rparams, p)
	return nil
}
