package proxyproto

import (
	"net/netip"
)

// Command is the v2 command nibble. A v1 header is always Proxy.
type Command uint8

// Commands of the v2 header.
const (
	Local Command = 0x0 // health check from the proxy itself: use the real endpoints
	Proxy Command = 0x1 // relayed connection: the header carries the client
)

func (c Command) String() string {
	switch c {
	case Local:
		return "LOCAL"
	case Proxy:
		return "PROXY"
	}
	return "INVALID"
}

// Transport is the v2 address family and transport byte (offset 13);
// the same values name the v1 protocols (TCP4, TCP6, UNKNOWN=Unspec).
type Transport uint8

// Transports. Only the values defined by the specification are accepted.
const (
	Unspec     Transport = 0x00 // v1 UNKNOWN, v2 AF_UNSPEC
	TCP4       Transport = 0x11
	UDP4       Transport = 0x12
	TCP6       Transport = 0x21
	UDP6       Transport = 0x22
	UnixStream Transport = 0x31
	UnixDgram  Transport = 0x32
)

func (t Transport) String() string {
	switch t {
	case Unspec:
		return "UNSPEC"
	case TCP4:
		return "TCP4"
	case UDP4:
		return "UDP4"
	case TCP6:
		return "TCP6"
	case UDP6:
		return "UDP6"
	case UnixStream:
		return "UNIX_STREAM"
	case UnixDgram:
		return "UNIX_DGRAM"
	}
	return "INVALID"
}

// addrLen is the size of the v2 address block for t, or -1 when t is
// not a defined value.
func (t Transport) addrLen() int {
	switch t {
	case Unspec:
		return 0
	case TCP4, UDP4:
		return 12
	case TCP6, UDP6:
		return 36
	case UnixStream, UnixDgram:
		return 216
	}
	return -1
}

// IsIP reports whether t carries IP addresses and ports.
func (t Transport) IsIP() bool { return t == TCP4 || t == TCP6 || t == UDP4 || t == UDP6 }

// IsUnix reports whether t carries UNIX socket paths.
func (t Transport) IsUnix() bool { return t == UnixStream || t == UnixDgram }

// Header is a PROXY protocol header, either version.
//
// Source and Destination are set only for Command Proxy with an IP
// Transport; SourcePath and DestinationPath only for Proxy with a UNIX
// Transport. For Local (v2) and Unspec (v1 UNKNOWN, v2 AF_UNSPEC) the
// receiver must use the real connection endpoints, and the header's
// address fields are left zero.
//
// TLV values returned by ReadHeader point into storage owned by the
// Header; Parser.Read reuses it, so copy values you keep after the
// Header is read into again.
type Header struct {
	Version         int // 1 or 2
	Command         Command
	Transport       Transport
	Source          netip.AddrPort
	Destination     netip.AddrPort
	SourcePath      string
	DestinationPath string
	TLVs            []TLV

	buf []byte // raw header bytes (v2) or line (v1)
}

// HasAddresses reports whether the header replaces the connection's
// endpoints (Proxy command with an IP transport).
func (h *Header) HasAddresses() bool {
	return h.Command == Proxy && h.Transport.IsIP()
}

// Len is the number of bytes the header occupied on the wire (0 if it
// was not read by ReadHeader or Parser.Read).
func (h *Header) Len() int { return len(h.buf) }
