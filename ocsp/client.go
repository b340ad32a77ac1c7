package ocsp

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/mailpolicy/mailpolicy/hostlist"
)

// DefaultRequestHosts is Exim's default hosts_request_ocsp, the list a
// nil Client.RequestHosts stands for.
const DefaultRequestHosts = "*"

// Client holds the smtp transport's OCSP options. The zero value is
// Exim's default: a staple is requested from every host and required
// from none. A Client may be shared by concurrent connections; do not
// change its fields while it is in use.
type Client struct {
	// RequestHosts is hosts_request_ocsp, the hosts asked for a staple
	// (hostlist.Parse reads Exim's text). nil means Exim's default,
	// DefaultRequestHosts ("*": every host); an empty list asks none.
	RequestHosts *hostlist.List
	// RequireHosts is hosts_require_ocsp, the hosts whose connection
	// fails without a good staple; they are asked for one whatever
	// RequestHosts says. nil means none.
	RequireHosts *hostlist.List
	// Now replaces time.Now; Skew is the date allowance (0 means
	// DefaultSkew).
	Now  func() time.Time
	Skew time.Duration
	// Logf receives Exim's log lines about staples (optional).
	Logf func(format string, args ...any)
}

// DANERequestDefault reports whether, in DANE mode with
// hosts_request_ocsp left at "*", OCSP is requested: Exim then requests
// it only when $tls_out_tlsa_usage (usageBits, a bit per TLSA usage
// found) is 0 or 4, that is, when no DANE-EE record is present.
func DANERequestDefault(usageBits int) bool { return usageBits == 0 || usageBits == 4 }

// Session returns the OCSP check for one connection to host/ip.
func (c *Client) Session(host string, ip netip.Addr) *Session {
	req := c.RequireHosts.Match(host, ip)
	return c.session(req || c.RequestHosts == nil || c.RequestHosts.Match(host, ip), req)
}

// SessionDANE is Session for a connection in DANE mode; usageBits is
// $tls_out_tlsa_usage. When hosts_request_ocsp is Exim's default "*"
// (RequestHosts nil, or a list whose text is exactly "*"), it is
// replaced by DANERequestDefault(usageBits).
func (c *Client) SessionDANE(host string, ip netip.Addr, usageBits int) *Session {
	if c.RequestHosts != nil && strings.TrimSpace(c.RequestHosts.String()) != DefaultRequestHosts {
		return c.Session(host, ip)
	}
	req := c.RequireHosts.Match(host, ip)
	return c.session(req || DANERequestDefault(usageBits), req)
}

func (c *Client) session(request, require bool) *Session {
	s := &Session{Requested: request, Required: require, c: c}
	if request {
		s.status = NotResponded
	}
	return s
}

// Session is the OCSP state of one client connection.
type Session struct {
	Requested, Required bool
	c                   *Client

	mu     sync.Mutex
	status Status
	err    error
	resp   *Response
}

// Status returns $tls_out_ocsp.
func (s *Session) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Err returns the problem found with the staple, if any, even when it
// did not fail the handshake.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Response returns the verified response (status Verified), or nil.
func (s *Session) Response() *Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resp
}

// Config returns a clone of base whose VerifyConnection runs base's
// (if any) and then s.VerifyConnection.
func (s *Session) Config(base *tls.Config) *tls.Config {
	cfg := base.Clone()
	prev := cfg.VerifyConnection
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if prev != nil {
			if err := prev(cs); err != nil {
				return err
			}
		}
		return s.VerifyConnection(cs)
	}
	return cfg
}

// VerifyConnection is for tls.Config.VerifyConnection. It checks the
// staple against the presented chain: the response must name the leaf
// (serial and issuer), be signed by its issuer (from the chain, the
// verified chains or the certificates in the staple) or a delegated
// responder, be in date, and be good. It returns an error, failing the
// handshake, only when OCSP is required.
func (s *Session) VerifyConnection(cs tls.ConnectionState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.Requested {
		s.status = NotRequested
		return nil
	}
	status, resp, err := s.check(cs)
	s.status, s.resp, s.err = status, resp, err
	if err != nil && s.c.Logf != nil {
		var d *detailError
		if errors.As(err, &d) {
			s.c.Logf("ocsp: %s", d.detail)
		} else {
			s.c.Logf("ocsp: %v", err)
		}
	}
	if s.Required && status != Verified {
		if err == nil {
			err = ErrNotReceived
		}
		return err
	}
	return nil
}

func (s *Session) check(cs tls.ConnectionState) (Status, *Response, error) {
	if len(cs.OCSPResponse) == 0 {
		if s.Required {
			return NotResponded, nil, ErrNotReceived
		}
		return NotResponded, nil, nil
	}
	if len(cs.PeerCertificates) == 0 {
		return Failed, nil, fmt.Errorf("%w: no server certificate", ErrUnverifiable)
	}
	p, err := parseRaw(cs.OCSPResponse)
	if err != nil {
		return Failed, nil, fmt.Errorf("%w: %v", ErrParse, err)
	}
	leaf := cs.PeerCertificates[0]
	var cands []*x509.Certificate
	cands = append(cands, cs.PeerCertificates[1:]...)
	for _, ch := range cs.VerifiedChains {
		if len(ch) > 1 {
			cands = append(cands, ch[1:]...)
		}
	}
	cands = append(cands, p.certs...)
	var verr error = errors.New("no response for the server certificate")
	for _, iss := range cands {
		if leaf.CheckSignatureFrom(iss) != nil || p.find(leaf, iss) < 0 {
			continue
		}
		r, err := verify(p, leaf, iss)
		if err != nil {
			verr = err
			continue
		}
		now, skew := time.Now, s.c.Skew
		if s.c.Now != nil {
			now = s.c.Now
		}
		if skew == 0 {
			skew = DefaultSkew
		}
		if err := r.checkTime(now(), skew, false); err != nil {
			return Failed, nil, &detailError{ErrOutOfDate, "OCSP dates invalid: " + err.Error()}
		}
		switch r.Status {
		case Revoked:
			return Failed, nil, &detailError{ErrRevoked, fmt.Sprintf("Server certificate revoked; reason: %d", r.RevocationReason)}
		case Unknown:
			return Failed, nil, &detailError{ErrUnknownStatus, "Server certificate status unknown, in OCSP stapling"}
		}
		return Verified, r, nil
	}
	return Failed, nil, fmt.Errorf("%w: %v", ErrUnverifiable, verr)
}

// detailError is one of the Err values, with Exim's log line.
type detailError struct {
	base   error
	detail string
}

func (e *detailError) Error() string { return e.base.Error() }
func (e *detailError) Unwrap() error { return e.base }
