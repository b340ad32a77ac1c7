// Package checks turns an SMTP transaction into decisions, doing no
// delivery itself: SPF at MAIL, routing at RCPT, and at the end of DATA
// iprev, DKIM, DMARC, DCC and bmi (content scanning) into one Decision
// value that the caller acts on. The order is the project
// architecture's (How a message flows).
package checks

import (
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"strings"

	"github.com/mailpolicy/mailpolicy/hostlist"
	"github.com/mailpolicy/mailpolicy/smtp"
	"github.com/mailpolicy/mailpolicy/srs"
)

// RouteKind says where an accepted recipient goes.
type RouteKind int

const (
	Local   RouteKind = iota // the maildir
	Remote                   // the queue, with the original sender
	Forward                  // the queue, with an SRS sender
)

// Route is the routing of one recipient.
type Route struct {
	Kind RouteKind
	Addr string // where it goes: the recipient, the forward target or the SRS original
}

// Refusal is a reply refusing a recipient or a message.
type Refusal struct {
	Code     int
	Enhanced string
	Text     string
	Reason   string // for the log and the metrics; "" is Text
}

// Router routes recipients. Domains and Users are lower case.
type Router struct {
	Domains []string // local domains; everything else is relay
	// Users, when not empty, are the local parts that exist in every
	// local domain; others get 550 5.1.1. "postmaster" always exists.
	Users []string
	// Forwards maps a local address (lower case) to the remote address
	// it is forwarded to; the envelope sender is rewritten with SRS.
	Forwards map[string]string
	// SRS rewrites senders of forwarded mail; SRSDomain is its domain,
	// where SRS0/SRS1 recipients are reversed.
	SRS       *srs.Rewriter
	SRSDomain string
	// RelayFrom are the clients that may send to non-local domains.
	RelayFrom *hostlist.List
	// Outbound says there is a queue: without one nothing is relayed
	// or forwarded.
	Outbound bool
	Logger   *slog.Logger
}

// Route decides what happens to rcpt: local delivery, forwarding
// (SRS sender), SRS reversal (an SRS0/SRS1 address at SRSDomain goes
// back to the original sender, whoever the client is, so that bounces
// get home) or relaying, when relayOK (RelayAllowed, or an
// authenticated client).
func (s *Router) Route(rcpt string, relayOK bool) (Route, *Refusal) {
	return s.routeDepth(rcpt, relayOK && s.Outbound, 0)
}

// RelayAllowed reports whether client is in RelayFrom.
func (s *Router) RelayAllowed(client netip.Addr) bool {
	return s.RelayFrom != nil && s.RelayFrom.Match("", client)
}

// RouteBounce is where a notification to addr goes, for the queue's
// Bouncer: relaying is allowed, as for any message we originate.
func (s *Router) RouteBounce(addr string) (to string, local bool, refused string) {
	rt, ref := s.routeDepth(addr, s.Outbound, 0)
	if ref != nil {
		return "", false, ref.Text
	}
	return rt.Addr, rt.Kind == Local, ""
}

func (s *Router) routeDepth(rcpt string, relayOK bool, depth int) (Route, *Refusal) {
	local, domain := smtp.SplitAddress(rcpt)
	if s.SRS != nil && domain == s.SRSDomain && isSRSLocal(local) && depth == 0 {
		orig, err := s.SRS.Reverse(rcpt)
		if err != nil && !srsPermanent(err) {
			// The database-mode Store failed (Redis down or slow).
			s.log().Warn("srs reverse: store", "rcpt", rcpt, "err", err)
			return Route{}, &Refusal{smtp.ReplyLocalError, "4.3.0", "SRS lookup failed, try again later", "srs store"}
		}
		if err != nil {
			s.log().Info("srs reverse refused", "rcpt", rcpt, "err", err)
			return Route{}, &Refusal{smtp.ReplyMailboxUnavailable, "5.7.1", "Invalid SRS address <" + rcpt + ">", "srs invalid"}
		}
		if !smtp.ValidMailbox(orig) {
			return Route{}, &Refusal{smtp.ReplyMailboxUnavailable, "5.7.1", "Invalid SRS address <" + rcpt + ">", "srs invalid"}
		}
		return s.routeDepth(orig, s.Outbound, depth+1)
	}
	if s.IsLocalDomain(domain) {
		if to, ok := s.Forwards[strings.ToLower(rcpt)]; ok && s.Outbound {
			return Route{Kind: Forward, Addr: to}, nil
		}
		if !s.userExists(local) {
			return Route{}, &Refusal{smtp.ReplyMailboxUnavailable, "5.1.1", "Unknown user <" + rcpt + ">", "unknown user"}
		}
		return Route{Kind: Local, Addr: rcpt}, nil
	}
	if !relayOK {
		return Route{}, &Refusal{smtp.ReplyMailboxUnavailable, "5.7.1", "Relay not permitted", "relay"}
	}
	return Route{Kind: Remote, Addr: rcpt}, nil
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

// ForwardSender is the envelope sender of a forwarded copy: the SRS
// rewrite of from. The null sender stays null; an address SRS refuses
// to rewrite (srsPermanent: malformed, too long) is kept as it is. An
// error means the database-mode Store failed: the copy must be deferred,
// not sent with a sender that SPF at the next hop would fail.
func (s *Router) ForwardSender(from string) (string, error) {
	if from == "" || s.SRS == nil {
		return from, nil
	}
	out, err := s.SRS.Forward(from)
	switch {
	case err == nil:
		return out, nil
	case srsPermanent(err):
		s.log().Warn("srs forward", "from", from, "err", err)
		return from, nil
	}
	return "", err
}

func (s *Router) log() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// IsLocalDomain reports whether d (lower case) is one of ours.
func (s *Router) IsLocalDomain(d string) bool {
	return slices.Contains(s.Domains, d)
}

// userExists applies Users to a local part.
func (s *Router) userExists(local string) bool {
	local = strings.ToLower(local)
	return len(s.Users) == 0 || local == "postmaster" || slices.Contains(s.Users, local)
}
