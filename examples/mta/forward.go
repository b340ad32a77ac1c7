package main

import (
	"errors"
	"net/netip"
	"strings"

	"github.com/mailpolicy/mailpolicy/smtp"
	"github.com/mailpolicy/mailpolicy/srs"
)

// routeKind says where an accepted recipient goes.
type routeKind int

const (
	routeLocal   routeKind = iota // the maildir
	routeRemote                   // the queue, with the original sender
	routeForward                  // the queue, with an SRS sender
)

// route is the routing of one recipient.
type route struct {
	kind routeKind
	addr string // where it goes: the recipient, the forward target or the SRS original
}

// refusal is an RCPT reply refusing a recipient.
type refusal struct {
	code     int
	enhanced string
	text     string
}

// route decides what happens to rcpt given by client: local
// delivery, forwarding (-forward, SRS sender), SRS reversal (an
// SRS0/SRS1 address at -srs-domain goes back to the original sender,
// whatever -relay-from says, so that bounces get home) or relaying
// (-relay-from).
func (s *Server) route(rcpt string, client netip.Addr) (route, *refusal) {
	return s.routeDepth(rcpt, s.relayAllowed(client), 0)
}

func (s *Server) relayAllowed(client netip.Addr) bool {
	return s.queue != nil && s.cfg.RelayFrom != nil && s.cfg.RelayFrom.Match("", client)
}

func (s *Server) routeDepth(rcpt string, relayOK bool, depth int) (route, *refusal) {
	local, domain := smtp.SplitAddress(rcpt)
	if s.cfg.SRS != nil && domain == s.cfg.SRSDomain && isSRSLocal(local) && depth == 0 {
		orig, err := s.cfg.SRS.Reverse(rcpt)
		if err != nil && !srsPermanent(err) {
			// The database-mode Store failed (Redis down or slow).
			s.cfg.Logger.Warn("srs reverse: store", "rcpt", rcpt, "err", err)
			return route{}, &refusal{451, "4.3.0", "SRS lookup failed, try again later"}
		}
		if err != nil {
			s.cfg.Logger.Info("srs reverse refused", "rcpt", rcpt, "err", err)
			return route{}, &refusal{550, "5.7.1", "Invalid SRS address <" + rcpt + ">"}
		}
		if !smtp.ValidMailbox(orig) {
			return route{}, &refusal{550, "5.7.1", "Invalid SRS address <" + rcpt + ">"}
		}
		return s.routeDepth(orig, s.queue != nil, depth+1)
	}
	if s.isLocalDomain(domain) {
		if to, ok := s.cfg.Forwards[strings.ToLower(rcpt)]; ok && s.queue != nil {
			return route{kind: routeForward, addr: to}, nil
		}
		if !s.userExists(local) {
			return route{}, &refusal{550, "5.1.1", "Unknown user <" + rcpt + ">"}
		}
		return route{kind: routeLocal, addr: rcpt}, nil
	}
	if !relayOK {
		return route{}, &refusal{550, "5.7.1", "Relay not permitted"}
	}
	return route{kind: routeRemote, addr: rcpt}, nil
}

// srsPermanent reports whether a Reverse error is about the address
// itself (550) rather than a failing Store (451).
func srsPermanent(err error) bool {
	for _, e := range []error{srs.ErrNotSRS, srs.ErrFormat, srs.ErrHash, srs.ErrExpired, srs.ErrTooLong, srs.ErrUnknownAlias, srs.ErrUnsafe} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// isSRSLocal reports whether a local part looks like SRS0 or SRS1.
func isSRSLocal(local string) bool {
	if len(local) < 5 {
		return false
	}
	p := strings.ToUpper(local[:4])
	return (p == "SRS0" || p == "SRS1") && strings.ContainsRune("=+-", rune(local[4]))
}

// forwardSender is the envelope sender of a forwarded copy: the SRS
// rewrite of from. The null sender stays null; an address SRS refuses
// to rewrite (srsPermanent: malformed, too long) is kept as it is. An
// error means the database-mode Store failed: the copy must be deferred,
// not sent with a sender that SPF at the next hop would fail.
func (s *Server) forwardSender(from string) (string, error) {
	if from == "" || s.cfg.SRS == nil {
		return from, nil
	}
	out, err := s.cfg.SRS.Forward(from)
	switch {
	case err == nil:
		return out, nil
	case srsPermanent(err):
		s.cfg.Logger.Warn("srs forward", "from", from, "err", err)
		return from, nil
	}
	return "", err
}
