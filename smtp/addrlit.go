package smtp

import (
	"errors"
	"net/netip"
	"strings"
)

// ErrAddressLiteral is returned by ParseAddressLiteral for text that is
// not an IPv4 or IPv6 address literal.
var ErrAddressLiteral = errors.New("smtp: invalid address literal")

// ParseAddressLiteral parses an RFC 5321 address literal (§4.1.3):
// "[192.0.2.1]" or "[IPv6:2001:db8::1]" (the tag matched without regard
// to case). General address literals ("[tag:text]") and IPv6 zones are
// refused.
func ParseAddressLiteral(s string) (netip.Addr, error) {
	if len(s) < 3 || s[0] != '[' || s[len(s)-1] != ']' {
		return netip.Addr{}, ErrAddressLiteral
	}
	in := s[1 : len(s)-1]
	if len(in) > 5 && strings.EqualFold(in[:5], "IPv6:") {
		a, err := netip.ParseAddr(in[5:])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return netip.Addr{}, ErrAddressLiteral
		}
		return a, nil
	}
	a, err := netip.ParseAddr(in)
	if err != nil || !a.Is4() {
		return netip.Addr{}, ErrAddressLiteral
	}
	return a, nil
}

// ValidAddressLiteral reports whether s is "[IPv4]" or "[IPv6:addr]".
func ValidAddressLiteral(s string) bool {
	_, err := ParseAddressLiteral(s)
	return err == nil
}

// AddressLiteral returns the address literal of a: "[192.0.2.1]",
// "[IPv6:2001:db8::1]"; an IPv4-mapped IPv6 address is given as IPv4
// and a zone is dropped. The invalid Addr gives "".
func AddressLiteral(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return ""
	case a.Is4() || a.Is4In6():
		return "[" + a.Unmap().String() + "]"
	}
	return "[IPv6:" + a.WithZone("").String() + "]"
}
