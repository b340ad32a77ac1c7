package smtpd

import (
	"errors"
	"strconv"
	"strings"

	"github.com/mailpolicy/mailpolicy/smtp"

	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/auth"
)

const (
	authMechanisms = auth.Mechanisms
	// maxAuthLine is RFC 4954 §4's minimum a server must take for an
	// AUTH command or a response line, 12288 octets, CRLF included.
	maxAuthLine = 12288
	// replyEncryptionRequired is RFC 4954 §6's 538, which package smtp
	// does not name.
	replyEncryptionRequired = 538
)

// authOffered says whether AUTH is offered to this session now: users
// configured, and TLS (or a loopback client when allowed in clear text).
func (s *session) authOffered() bool {
	cfg := &s.srv.cfg
	return cfg.Users != nil && auth.Permitted(s.tls != nil, s.client.Addr(), cfg.AuthPlaintextLoopback)
}

// cmdAuth is RFC 4954's AUTH with PLAIN and LOGIN. A failed password
// gets 535 and counts against the client in the Limiter; past its limit
// the client gets 454 without a password being checked. auth:fail is
// raised for every failure with the reply sent, as Exim does.
func (s *session) cmdAuth(arg string) error {
	cfg := &s.srv.cfg
	switch {
	case cfg.Users == nil:
		return s.synprot(true, smtp.ReplyBadSequence, "5.5.1", "AUTH command used when not advertised")
	case !s.authOffered():
		s.reply(replyEncryptionRequired, "5.7.11", "Encryption required for requested authentication mechanism")
		return nil
	case s.authMech != "":
		return s.synprot(true, smtp.ReplyBadSequence, "5.5.1", "Already authenticated")
	case s.tx != nil:
		return s.synprot(true, smtp.ReplyBadSequence, "5.5.1", "AUTH not permitted during a mail transaction")
	case !cfg.AuthLimiter.Allowed(s.client.Addr()):
		s.log().Warn("AUTH refused: too many failures")
		cfg.Metrics.AuthAttempt("", "limited")
		s.reply(smtp.ReplyTLSNotAvailable, "4.7.0", "Too many authentication failures, try again later")
		return nil
	}
	mech, initial, hasInitial := strings.Cut(strings.TrimSpace(arg), " ")
	ex, err := auth.Start(mech, initial, hasInitial)
	for err == nil && !ex.Done() {
		s.replyLine("334 " + ex.Challenge())
		line, rerr := s.readLine(maxAuthLine)
		switch {
		case errors.Is(rerr, errLineTooLong):
			err = auth.ErrTooLong
		case errors.Is(rerr, errBareLF), errors.Is(rerr, errBareCR):
			err = auth.ErrMalformed
		case rerr != nil:
			return s.readErr(rerr)
		default:
			_, _, err = ex.Next(string(line))
		}
	}
	if err != nil {
		code, enh, text := authErrorReply(err)
		s.authFailed(mechName(ex, mech), code, enh, text, errors.Is(err, auth.ErrAuthzid))
		return nil
	}
	cred := ex.Credentials()
	s.srv.authSem <- struct{}{}
	ok, verr := cfg.Users.Authenticate(cred.Authcid, cred.Password)
	<-s.srv.authSem
	switch {
	case verr != nil:
		s.log().Warn("AUTH: users file unusable", "err", verr)
		cfg.Metrics.AuthAttempt(cred.Mechanism, "temperror")
		s.authFailed(cred.Mechanism, smtp.ReplyTLSNotAvailable, "4.7.0", "Temporary authentication failure", false)
	case !ok:
		s.log().Info("AUTH failed", "mechanism", cred.Mechanism, "user", safeText(cred.Authcid))
		cfg.Metrics.AuthAttempt(cred.Mechanism, "fail")
		s.authFailed(cred.Mechanism, smtp.ReplyAuthFailed, "5.7.8", "Authentication credentials invalid", true)
	default:
		cfg.AuthLimiter.Succeeded(s.client.Addr())
		cfg.Metrics.AuthAttempt(cred.Mechanism, "pass")
		s.authMech, s.authUser = cred.Mechanism, cred.Authcid
		s.log().Info("AUTH", "mechanism", cred.Mechanism, "user", safeText(cred.Authcid))
		s.reply(smtp.ReplyAuthSucceeded, "2.7.0", "Authentication succeeded")
	}
	return nil
}

// authFailed replies, counts a wrong password against the client, and
// raises auth:fail.
func (s *session) authFailed(mech string, code int, enhanced, text string, count bool) {
	if count {
		s.srv.cfg.AuthLimiter.Failed(s.client.Addr())
	}
	s.reply(code, enhanced, text)
	s.srv.raise(s.srv.ctx, events.Event{Name: events.AuthFail, Authenticator: mech,
		Data:        strconv.Itoa(code) + " " + enhanced + " " + text,
		HostAddress: s.client.Addr(), HostPort: int(s.client.Port())})
}

// authErrorReply maps an exchange error to RFC 4954's replies.
func authErrorReply(err error) (int, string, string) {
	switch {
	case errors.Is(err, auth.ErrUnsupportedMechanism):
		return smtp.ReplyParamNotImplemented, "5.5.4", "Unrecognized authentication mechanism"
	case errors.Is(err, auth.ErrCancelled):
		return smtp.ReplyParamSyntaxError, "5.7.0", "Authentication cancelled"
	case errors.Is(err, auth.ErrTooLong):
		return smtp.ReplySyntaxError, "5.5.6", "Authentication exchange line is too long"
	case errors.Is(err, auth.ErrAuthzid):
		return smtp.ReplyAuthFailed, "5.7.8", "Authentication credentials invalid"
	}
	return smtp.ReplyParamSyntaxError, "5.5.2", "Invalid authentication exchange"
}

func mechName(ex *auth.Exchange, given string) string {
	if ex != nil {
		return ex.Mechanism()
	}
	if len(given) > 20 {
		given = given[:20]
	}
	return strings.ToUpper(safeText(given))
}
