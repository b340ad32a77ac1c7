package dcc

import (
	"net"
	"strconv"
	"strings"
)

// DefaultAddress is Exim's default dccifd_address.
const DefaultAddress = "/usr/local/dcc/var/dccifd"

// An Address is where dccifd listens: a UNIX socket or a TCP host and
// port. The zero Address means DefaultAddress.
type Address struct {
	Network string // "unix" or "tcp"
	// Addr is the socket path for "unix" and "host:port" (as
	// net.JoinHostPort builds it) for "tcp". The host may be a name, an
	// IPv4 or an IPv6 address.
	Addr string
}

// ParseAddress parses a dccifd_address value as Exim does: a value
// starting with "/" is a UNIX socket path, anything else must be a host
// and a port separated by white space. Unlike Exim the host may be a
// name or an IPv6 address (brackets allowed) of any length, and the
// port must be a number from 1 to 65535.
func ParseAddress(s string) (Address, error) {
	if strings.HasPrefix(s, "/") {
		if strings.ContainsAny(s, "\x00\r\n") {
			return Address{}, &AddressError{s, "control character in socket path"}
		}
		return Address{Network: "unix", Addr: s}, nil
	}
	f := strings.Fields(s)
	if len(f) != 2 {
		return Address{}, &AddressError{s, `want "/socket/path" or "host port"`}
	}
	host, port := f[0], f[1]
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if host == "" || strings.ContainsAny(host, "[]/\x00") {
		return Address{}, &AddressError{s, "bad host"}
	}
	if strings.Contains(host, ":") && net.ParseIP(host) == nil {
		return Address{}, &AddressError{s, "bad IPv6 address"}
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || port[0] == '+' {
		return Address{}, &AddressError{s, "port must be a number from 1 to 65535"}
	}
	return Address{Network: "tcp", Addr: net.JoinHostPort(host, strconv.Itoa(n))}, nil
}

// String returns a in dccifd_address form: the path, or "host port".
func (a Address) String() string {
	if a.Network == "tcp" {
		if h, p, err := net.SplitHostPort(a.Addr); err == nil {
			return h + " " + p
		}
	}
	return a.Addr
}

func (a Address) orDefault() Address {
	if a == (Address{}) {
		return Address{Network: "unix", Addr: DefaultAddress}
	}
	return a
}
