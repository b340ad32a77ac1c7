package resolver

import (
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

const (
	maxNameText  = 253 // presentation length without the trailing dot
	maxNameWire  = 255
	maxLabelText = 63
)

var errEmptyName = errors.New("empty name")

// canonicalName validates name and returns it fully qualified in the
// presentation form miekg/dns produces when unpacking, so it compares
// equal (case aside) to the names in a reply. Rejecting bad names here
// turns what would be a confusing server reply or pack error into an
// ErrPermanent without sending anything.
func canonicalName(name string) (string, error) {
	if name == "" {
		return "", errEmptyName
	}
	if name == "." {
		return ".", nil
	}
	// Escapes change label lengths, so the cheap text checks that give
	// precise messages only apply to escape-free names; packing below
	// catches the rest.
	if !strings.Contains(name, `\`) {
		text := strings.TrimSuffix(name, ".")
		if len(text) > maxNameText {
			return "", fmt.Errorf("name %q longer than %d characters", name, maxNameText)
		}
		for label := range strings.SplitSeq(text, ".") {
			switch {
			case label == "":
				return "", fmt.Errorf("name %q has an empty label", name)
			case len(label) > maxLabelText:
				return "", fmt.Errorf("name %q has a label longer than %d characters", name, maxLabelText)
			}
		}
	}
	var buf [2 * maxNameWire]byte
	n, err := dns.PackDomainName(dns.Fqdn(name), buf[:], 0, nil, false)
	if err != nil {
		return "", fmt.Errorf("invalid name %q: %v", name, err)
	}
	if n > maxNameWire {
		return "", fmt.Errorf("name %q longer than %d octets on the wire", name, maxNameWire)
	}
	out, _, err := dns.UnpackDomainName(buf[:n], 0)
	if err != nil {
		return "", fmt.Errorf("invalid name %q: %v", name, err)
	}
	return out, nil
}

// trimDot drops the trailing dot callers don't want, but keeps the root
// as "." so that, for instance, a null MX (RFC 7505) stays recognisable.
func trimDot(name string) string {
	if name == "." {
		return name
	}
	return strings.TrimSuffix(name, ".")
}
