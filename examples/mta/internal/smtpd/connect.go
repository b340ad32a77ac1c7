package smtpd

import (
	"context"

	"github.com/mailpolicy/mailpolicy/smtp"
)

// A Connector is a Backend that also decides connections (Exim's
// acl_smtp_connect): it is asked once per session, after the PROXY
// header and, on an implicit-TLS listener, the handshake, before the
// greeting. A non-nil Reply is sent instead of the banner and the
// session ends. A 4xx reply goes out as 421 and a 5xx as 554 (RFC 5321
// §3.1 and §4.2.2: a greeting that refuses is 554, and a temporary
// refusal must close the connection, which 421 says).
type Connector interface {
	Connect(ctx context.Context, c *Conn) *Reply
}

// connect asks the Backend's Connector, when it has one, under the
// policy timeout; nil lets the session go on.
func (s *session) connect() *Reply {
	cn, ok := s.srv.cfg.Backend.(Connector)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(s.srv.ctx, s.srv.cfg.PolicyTimeout)
	defer cancel()
	r := cn.Connect(ctx, s.info())
	if r == nil {
		return nil
	}
	out := *r
	if out.Code < 500 {
		out.Code = smtp.ReplyServiceNotAvailable
	} else {
		out.Code = smtp.ReplyTransactionFailed
	}
	s.log().Info("connection refused", "code", out.Code, "reason", out.Text)
	return &out
}
