package smtpd

import (
	"context"
	"crypto/tls"
	"errors"
	"time"

	"github.com/mailpolicy/mailpolicy/smtp"

	"github.com/mailpolicy/mailpolicy/events"
)

// errTLSFailed ends a session whose TLS handshake failed.
var errTLSFailed = errors.New("TLS handshake failed")

// securityExtensions are STARTTLS and AUTH, when offered.
func (s *session) securityExtensions() []string {
	var ext []string
	if s.startTLSOffered() {
		ext = append(ext, "STARTTLS")
	}
	if s.authOffered() {
		ext = append(ext, "AUTH "+authMechanisms)
	}
	return ext
}

// startTLSOffered: a TLS configuration, not yet in TLS, and the client
// in tls_advertise_hosts.
func (s *session) startTLSOffered() bool {
	cfg := &s.srv.cfg
	return cfg.TLSConfig != nil && s.tls == nil &&
		(cfg.TLSAdvertise == nil || cfg.TLSAdvertise.Match("", s.client.Addr()))
}

// cmdStartTLS is RFC 3207's STARTTLS. After the handshake the session
// starts over (§4.2): no HELO, no transaction, and whatever the client
// sent after STARTTLS in clear text is dropped with the old reader
// (CVE-2011-0411, command injection).
func (s *session) cmdStartTLS(arg string) error {
	switch {
	case arg != "":
		return s.synprot(false, smtp.ReplyParamSyntaxError, "5.5.4", "STARTTLS takes no argument")
	case s.tls != nil:
		return s.synprot(true, smtp.ReplyBadSequence, "5.5.1", "TLS already active")
	case !s.startTLSOffered():
		return s.synprot(true, smtp.ReplyBadSequence, "5.5.1", "STARTTLS command used when not advertised")
	}
	if n := s.r.Buffered(); n > 0 {
		s.log().Warn("clear-text input after STARTTLS dropped", "octets", n)
	}
	s.reply(smtp.ReplyServiceReady, "2.0.0", "Ready to start TLS")
	if err := s.flush(); err != nil {
		return err
	}
	if !s.handshake() {
		return errTLSFailed
	}
	s.setTx(nil)
	s.helo, s.esmtp = "", false
	return nil
}

// handshake runs the server side of TLS on the connection, within
// ReadTimeout, and replaces the reader and writer. false: the
// connection is unusable (the caller ends the session).
func (s *session) handshake() bool {
	cfg := &s.srv.cfg
	tc := tls.Server(s.conn, cfg.TLSConfig)
	ctx, cancel := context.WithTimeout(s.srv.ctx, cfg.ReadTimeout)
	defer cancel()
	s.conn.SetDeadline(time.Now().Add(cfg.ReadTimeout))
	err := tc.HandshakeContext(ctx)
	s.conn.SetDeadline(time.Time{})
	if err != nil {
		s.log().Info("TLS handshake failed", "err", err.Error())
		s.srv.raise(s.srv.ctx, events.Event{Name: events.TLSFailConnect, Data: err.Error(),
			HostAddress: s.client.Addr(), HostPort: int(s.client.Port())})
		return false
	}
	cs := tc.ConnectionState()
	s.tls = &cs
	s.conn = tc
	s.r.Reset(tc)
	s.w.Reset(tc)
	s.log().Info("TLS", "version", tls.VersionName(cs.Version), "cipher", tls.CipherSuiteName(cs.CipherSuite), "sni", cs.ServerName)
	return true
}
