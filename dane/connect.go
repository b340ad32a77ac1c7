package dane

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/mailpolicy/mailpolicy/smtp"
)

// STARTTLS outcomes of Policy.Connect.
var (
	// ErrNoSTARTTLS: the server's EHLO reply did not offer STARTTLS.
	ErrNoSTARTTLS = errors.New("dane: server did not offer STARTTLS")
	// ErrSTARTTLSRefused: the server rejected the STARTTLS command or
	// the SMTP dialogue before it failed.
	ErrSTARTTLSRefused = errors.New("dane: STARTTLS failed")
)

// Session is the outcome of Connect.
type Session struct {
	Decision *Decision
	// TLS is the state of the TLS connection, nil when TLS was not
	// started.
	TLS *tls.ConnectionState
	// Verification is the DANE check, nil unless DANE was used.
	Verification *Verification
}

// TLSOutDane is Exim's $tls_out_dane: "yes" when the peer was verified
// by DANE, else "no".
func (s *Session) TLSOutDane() string {
	if s.daneVerified() {
		return "yes"
	}
	return "no"
}

func (s *Session) daneVerified() bool {
	return s != nil && s.TLS != nil && s.Verification != nil && s.Verification.Verified
}

// UsageBits is $tls_out_tlsa_usage for the connection.
func (s *Session) UsageBits() int {
	if s == nil || s.Decision == nil || s.Decision.Action != ActionDANE {
		return 0
	}
	return s.Decision.Set.UsageBits()
}

// CV is the delivery log's CV= word: "dane" if DANE-verified, "no"
// otherwise (this client verifies nothing but DANE; "yes", for PKIX,
// comes from CV).
func (s *Session) CV() string { return CV(s.daneVerified(), false) }

// CV returns Exim's CV= log word: "dane", "yes" (verified otherwise) or
// "no".
func CV(daneVerified, otherwiseVerified bool) string {
	switch {
	case daneVerified:
		return "dane"
	case otherwiseVerified:
		return "yes"
	}
	return "no"
}

// Connect starts TLS on the SMTP client c according to d, with
// smtp.Client.StartTLS. c may be fresh or already greeted and past
// EHLO: a caller that raises smtp:connect and smtp:ehlo events reads
// the greeting and says EHLO itself (Greet, Hello, or OnReply) and then
// calls Connect; Connect says EHLO only when it has not been said.
//
// With ActionDANE, TLS is required and verified with DANE only, with
// ClientConfig (events starttls-not-supported or validation-failure on
// failure, no clear-text fallback). With ActionNoDANE, TLS is started
// opportunistically without verification when offered, and a server
// that does not offer it is not an error. Other actions return an error
// without using c. base may be nil.
//
// After TLS has started the server's extensions are forgotten: say
// EHLO again (c.Hello, or the next command does it).
func (p *Policy) Connect(ctx context.Context, c *smtp.Client, d *Decision, base *tls.Config) (*Session, error) {
	s := &Session{Decision: d}
	switch d.Action {
	case ActionDANE:
		var v *Verification
		cfg := clientConfig(base, d.Set, d.Set.Names, &v)
		err := c.StartTLS(ctx, cfg)
		s.Verification = v
		if err != nil {
			err = startTLSError(err)
			if errors.Is(err, ErrNoSTARTTLS) {
				p.emit(DataSTARTTLSNotSupported)
			} else {
				p.emit(DataValidationFailure)
			}
			return s, fmt.Errorf("DANE attempt failed; TLS connection to %s: %w", d.Host, err)
		}
		s.TLS = tlsState(c)
		return s, nil
	case ActionNoDANE:
		var cfg *tls.Config
		if base != nil {
			cfg = base.Clone()
		} else {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			cfg.ServerName = d.Host
		}
		cfg.InsecureSkipVerify = true
		err := c.StartTLS(ctx, cfg)
		if errors.Is(err, smtp.ErrNotOffered) {
			return s, nil
		}
		if err != nil {
			return s, startTLSError(err)
		}
		s.TLS = tlsState(c)
		return s, nil
	}
	return s, fmt.Errorf("dane: %s: not connecting: %s", d.Host, d.Message)
}

func tlsState(c *smtp.Client) *tls.ConnectionState {
	cs, ok := c.TLSConnectionState()
	if !ok {
		return nil
	}
	return &cs
}

// startTLSError classifies an error of smtp.Client.StartTLS: not
// offered, refused (or the dialogue before it failed), or the error of
// the connection or the handshake itself.
func startTLSError(err error) error {
	var (
		ce *smtp.CommandError
		re *smtp.ReplyError
		pe *smtp.ProtocolError
	)
	switch {
	case errors.Is(err, smtp.ErrNotOffered):
		return ErrNoSTARTTLS
	case errors.As(err, &ce), errors.As(err, &re), errors.As(err, &pe):
		return fmt.Errorf("%w: %w", ErrSTARTTLSRefused, err)
	}
	return err
}
