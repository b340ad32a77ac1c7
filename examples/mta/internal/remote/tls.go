package remote

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/mailpolicy/mailpolicy/dane"
	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/ocsp"
	"github.com/mailpolicy/mailpolicy/smtp"
	"github.com/mailpolicy/mailpolicy/tlsrpt"
)

// startTLS starts TLS: under DANE with policy.Connect (TLS required,
// dane:fail raised by it), otherwise opportunistically with
// smtp.Client.StartTLS (a refusal leaves the session in clear text).
// s.tlsOn reports success.
func (s *remoteSession) startTLS(ctx context.Context, policy *dane.Policy, dd *dane.Decision) *hostDefer {
	var err error
	if s.dane {
		_, err = policy.Connect(ctx, s.c, dd, s.tlsConfig(ctx, dd))
	} else {
		err = s.c.StartTLS(ctx, s.tlsConfig(ctx, nil))
	}
	var ce *smtp.CommandError
	switch {
	case err == nil:
		s.tlsOn = true
		return nil
	case errors.Is(err, dane.ErrNoSTARTTLS):
		s.quit(ctx)
		return &hostDefer{message: "DANE error: STARTTLS not offered by " + s.t.host}
	case errors.As(err, &ce):
		s.tlsFailure(tlsrpt.ResultSTARTTLSNotSupported, "STARTTLS refused: "+ce.Reply.String(), "")
		switch {
		case s.stsEnforce:
			s.quit(ctx)
			return &hostDefer{message: "MTA-STS error: " + smtpErrMsg("STARTTLS", ce.Reply), policy: true}
		case !s.dane:
			return nil
		}
		s.quit(ctx)
		return &hostDefer{message: smtpErrMsg("STARTTLS", ce.Reply)}
	}
	// The error that broke the connection, without Connect's words.
	if e := s.c.Err(); e != nil {
		err = e
	}
	if s.stsEnforce && s.stsErr != nil && ctx.Err() == nil {
		return &hostDefer{message: "MTA-STS error: certificate of " + s.t.host + " not valid: " + s.stsErr.Error(), policy: true}
	}
	if s.tlsReady && ctx.Err() == nil {
		if !s.dane {
			s.tlsFailure(tlsrpt.ResultValidationFailure, "TLS handshake: "+err.Error(), "")
		}
		return &hostDefer{message: "TLS session: (SSL_connect): " + err.Error()}
	}
	return s.ioDefer(ctx, err)
}

// tlsConfig builds the client TLS configuration: no PKIX verification
// (opportunistic TLS; under DANE, dane.Policy.Connect adds DANE's
// check), tls:cert events for every certificate of the peer chain, and
// the OCSP checks. The events are raised from VerifyPeerCertificate,
// which runs before VerifyConnection and so before DANE's verification
// and OCSP's (Exim raises tls:cert for every certificate presented,
// whatever the verification then finds).
func (s *remoteSession) tlsConfig(ctx context.Context, dd *dane.Decision) *tls.Config {
	cfg := &tls.Config{ServerName: s.t.host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
	if s.q.TLSConfig != nil {
		cfg = s.q.TLSConfig.Clone()
		cfg.ServerName, cfg.InsecureSkipVerify = s.t.host, true
	}
	then := cfg.VerifyPeerCertificate
	cfg.VerifyPeerCertificate = func(raw [][]byte, chains [][]*x509.Certificate) error {
		for depth := len(raw) - 1; depth >= 0; depth-- {
			cert, err := x509.ParseCertificate(raw[depth]) // crypto/tls has parsed it already
			if err != nil {
				return err
			}
			ev := s.ev(events.TLSCert, events.CertDepthData(depth))
			ev.PeerCert = cert
			d := s.q.raiseOut(ctx, ev)
			// Opportunistic TLS verifies nothing: verification is
			// optional (tls_try_verify_hosts), except under DANE and
			// an enforced MTA-STS policy.
			if d.CertOutcome(!s.dane && !s.stsEnforce, s.dane) == events.CertRefused {
				return fmt.Errorf("certificate at depth %d refused by tls:cert event: %s", depth, d.Result)
			}
		}
		if then != nil {
			return then(raw, chains)
		}
		return nil
	}
	if !s.dane && (s.stsEnforce || s.stsTesting) {
		// PKIX for MTA-STS, after tls:cert: refused under enforce,
		// reported under testing.
		prev := cfg.VerifyConnection
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if err := s.verifyPKIX(cs); err != nil {
				s.stsErr = err
				s.tlsFailure(certResult(err), err.Error(), "")
				if s.stsEnforce {
					return err
				}
			}
			if prev != nil {
				return prev(cs)
			}
			return nil
		}
	}
	if oc := s.q.OCSP; oc != nil {
		var sess *ocsp.Session
		if s.dane && dd != nil && dd.Set != nil {
			sess = oc.SessionDANE(s.t.host, s.t.ip, dd.Set.UsageBits())
		} else {
			sess = oc.Session(s.t.host, s.t.ip)
		}
		cfg = sess.Config(cfg)
	}
	return cfg
}

// danePolicy is the DANE configuration with dane:fail raised on the
// bus.
func (q *Courier) danePolicy(ctx context.Context, base events.Event) *dane.Policy {
	p := &dane.Policy{TryHosts: q.DANETry, RequireHosts: q.DANERequire}
	if q.Bus != nil {
		notify := q.Bus.Notify(context.WithoutCancel(ctx), base)
		p.Event = func(name, data string) { notify(name, data) }
	} else {
		p.Event = func(string, string) {}
	}
	return p
}

// daneOpts are the DNS options of the dane package.
func (q *Courier) daneOpts() []dane.Option {
	return []dane.Option{dane.WithResolver(q.Resolver)}
}
