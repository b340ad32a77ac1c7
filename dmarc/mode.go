package dmarc

import (
	"fmt"
	"strings"
)

// Mode selects the specification Evaluate follows. Every mode gives
// Exim's status words and $dmarc_* variables; the modes differ in how
// the policy record and the organizational domain are found, how a
// record is read, and which Authentication-Results words package
// authres writes for the outcome (it reads Outcome.Mode).
type Mode uint8

const (
	// ModeRFC7489 is the default: RFC 7489 policy discovery (the From
	// domain, then its organizational domain from the Public Suffix
	// List), its strict record syntax, pct= sampling, and RFC 7489
	// §11.2's result words. WithTreeWalk adds the DMARCbis draft tree
	// walk to it, as before. This is what Exim (libopendmarc) and most
	// receivers deployed before RFC 9989 do.
	ModeRFC7489 Mode = iota
	// ModeRFC9989 is DMARC as published in RFC 9989: the DNS tree walk
	// (§4.10) finds both the policy record and the organizational
	// domains that alignment compares (no Public Suffix List), records
	// are read leniently (§4.7, §4.8: unknown tags and bad values are
	// ignored, p= is optional, pct=, rf= and ri= are historic), t=y
	// applies the next weaker policy, np= covers non-existent
	// subdomains, and the Authentication-Results field carries the
	// policy.dmarc property (§9.1).
	ModeRFC9989
)

// WithMode selects the specification (default ModeRFC7489).
func WithMode(m Mode) Option { return func(c *config) { c.mode = m } }

// String is the mode's name in configuration files and flags:
// "rfc7489" or "rfc9989".
func (m Mode) String() string {
	switch m {
	case ModeRFC7489:
		return "rfc7489"
	case ModeRFC9989:
		return "rfc9989"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// ParseMode reads a mode name as String writes it (case-insensitive).
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "rfc7489":
		return ModeRFC7489, nil
	case "rfc9989":
		return ModeRFC9989, nil
	}
	return 0, fmt.Errorf("dmarc: unknown mode %q (want rfc7489 or rfc9989)", s)
}
