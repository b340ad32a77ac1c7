package proxyproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
)

// v2Signature is the 12-byte signature that starts every v2 header.
const v2Signature = "\r\n\r\n\x00\r\nQUIT\n"

// MaxV1Length is the longest v1 line the specification allows,
// including the CRLF.
const MaxV1Length = 107

// DefaultMaxV2Length is the default cap on the v2 length field (the
// bytes after the 16-byte fixed part). The specification lets a sender
// use up to 65535, but asks senders to keep the whole header within 536
// bytes; 2048 leaves room for every TLV HAProxy sends except a full
// client certificate (PP2_SUBTYPE_SSL_CLIENT_CERT), while bounding the
// memory a pending connection can make us hold. Exim's own cap is 232
// bytes in total (TLVs beyond that make it fail).
const DefaultMaxV2Length = 2048

// Parser reads headers with configurable limits. The zero value is
// ready to use and applies DefaultMaxV2Length.
type Parser struct {
	// MaxV2Length caps the v2 length field; a larger header is rejected
	// (ErrTooLong) before its body is read. 0 means DefaultMaxV2Length.
	MaxV2Length int
}

// ReadHeader reads one PROXY header (v1 or v2) from r with the default
// limits. It never reads a byte past the end of the header, so r can be
// a bare net.Conn and a TLS handshake or SMTP command may follow at
// once. On a reader that ends early the error matches ErrIncomplete.
func ReadHeader(r io.Reader) (*Header, error) {
	h := new(Header)
	if err := (Parser{}).Read(r, h); err != nil {
		return nil, err
	}
	return h, nil
}

// Read reads one header from r into h, reusing h's storage (so reading
// into the same Header again does not allocate for headers without
// UNIX paths). On error h is left in an unspecified state.
//
// A v1 line is read a byte or two at a time (never past its CRLF); a v2
// header is read as its 16-byte fixed part and then exactly the length
// it announces, each with io.ReadFull, so short reads are fine.
func (p Parser) Read(r io.Reader, h *Header) error {
	buf := h.buf[:cap(h.buf)]
	if len(buf) < 256 {
		buf = make([]byte, 256)
	}
	tlvs := h.TLVs[:0]
	*h = Header{}
	h.TLVs = tlvs
	h.buf = buf[:0]
	if err := readFull(r, buf[:1], 0, 0); err != nil {
		return err
	}
	switch buf[0] {
	case 'P':
		return p.readV1(r, h, buf)
	case '\r':
		return p.readV2(r, h, buf)
	}
	return &SyntaxError{Msg: "input does not start with a PROXY signature", kind: ErrNoHeader}
}

// readFull fills b from r; have is the number of header bytes already
// read (for the error).
func readFull(r io.Reader, b []byte, version, have int) error {
	n, err := io.ReadFull(r, b)
	if err == nil {
		return nil
	}
	if errors.Is(err, io.EOF) && have+n > 0 {
		err = io.ErrUnexpectedEOF
	}
	return &IncompleteError{Version: version, Read: have + n, Err: err}
}

func (p Parser) readV1(r io.Reader, h *Header, buf []byte) error {
	const sig = "PROXY "
	if err := readFull(r, buf[1:len(sig)], 1, 1); err != nil {
		return err
	}
	if string(buf[:len(sig)]) != sig {
		return &SyntaxError{Msg: "input does not start with a PROXY signature", kind: ErrNoHeader}
	}
	// The shortest valid line is "PROXY UNKNOWN\r\n" (15 bytes); a TCP4
	// or TCP6 line has a longer minimum, so read up to that at once.
	n := len(sig)
	want := 15
	for {
		if err := readFull(r, buf[n:want], 1, n); err != nil {
			return err
		}
		start := n
		n = want
		for i := start; i < n; i++ {
			if buf[i-1] == '\r' && buf[i] != '\n' {
				return syntaxErr(1, i-1, "carriage return not followed by line feed")
			}
			if buf[i] == '\n' {
				if buf[i-1] != '\r' || i != n-1 {
					return syntaxErr(1, i, "line feed without carriage return or before the end of the line")
				}
				h.buf = buf[:n]
				return parseV1(buf[:n-2], h)
			}
		}
		if n == 15 {
			switch string(buf[6:11]) {
			case "TCP4 ":
				want = len("PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n")
			case "TCP6 ":
				want = len("PROXY TCP6 :: :: 0 0\r\n")
			}
			if want > n {
				continue
			}
		}
		step := 2
		if buf[n-1] == '\r' {
			step = 1
		}
		if n+step > MaxV1Length {
			return &SyntaxError{Version: 1, Offset: n, Msg: "no CRLF within 107 bytes", kind: ErrTooLong}
		}
		want = n + step
	}
}

// parseV1 parses a v1 line without its CRLF.
func parseV1(line []byte, h *Header) error {
	h.Version = 1
	h.Command = Proxy
	rest := line[len("PROXY "):]
	proto, rest, more := cut(rest)
	switch string(proto) {
	case "UNKNOWN":
		// The receiver ignores everything up to the CRLF.
		h.Transport = Unspec
		return nil
	case "TCP4":
		h.Transport = TCP4
	case "TCP6":
		h.Transport = TCP6
	default:
		return syntaxErr(1, 6, "protocol is not TCP4, TCP6 or UNKNOWN")
	}
	if !more {
		return syntaxErr(1, len(line), "missing addresses")
	}
	var f [4][]byte
	for i := range f {
		var ok bool
		f[i], rest, ok = cut(rest)
		if len(f[i]) == 0 {
			return syntaxErr(1, len(line)-len(rest), "empty field (fields are separated by exactly one space)")
		}
		if ok != (i < 3) {
			if ok {
				return syntaxErr(1, len(line)-len(rest), "trailing field after the destination port")
			}
			return syntaxErr(1, len(line), "missing field")
		}
	}
	var src, dst netip.Addr
	var ok1, ok2 bool
	if h.Transport == TCP4 {
		src, ok1 = parseIPv4(f[0])
		dst, ok2 = parseIPv4(f[1])
	} else {
		src, ok1 = parseIPv6(f[0])
		dst, ok2 = parseIPv6(f[1])
	}
	if !ok1 || !ok2 {
		return syntaxErr(1, 11, "address does not match the "+h.Transport.String()+" family")
	}
	sp, ok1 := parsePort(f[2])
	dp, ok2 := parsePort(f[3])
	if !ok1 || !ok2 {
		return syntaxErr(1, 11, "bad port (0-65535, no leading zeros)")
	}
	h.Source = netip.AddrPortFrom(src, sp)
	h.Destination = netip.AddrPortFrom(dst, dp)
	return nil
}

// cut splits b at the first space; more reports whether there was one.
func cut(b []byte) (tok, rest []byte, more bool) {
	if i := bytes.IndexByte(b, ' '); i >= 0 {
		return b[:i], b[i+1:], true
	}
	return b, nil, false
}

func parsePort(b []byte) (uint16, bool) {
	if len(b) == 0 || len(b) > 5 || (b[0] == '0' && len(b) > 1) {
		return 0, false
	}
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	if v > 65535 {
		return 0, false
	}
	return uint16(v), true
}

// parseIPv4 parses a dotted quad strictly: four decimal octets, no
// leading zeros.
func parseIPv4(b []byte) (netip.Addr, bool) {
	var a [4]byte
	for i := range a {
		j := 0
		v := 0
		for j < len(b) && j < 4 && b[j] >= '0' && b[j] <= '9' {
			v = v*10 + int(b[j]-'0')
			j++
		}
		if j == 0 || j > 3 || v > 255 || (j > 1 && b[0] == '0') {
			return netip.Addr{}, false
		}
		a[i] = byte(v)
		b = b[j:]
		if i < 3 {
			if len(b) == 0 || b[0] != '.' {
				return netip.Addr{}, false
			}
			b = b[1:]
		}
	}
	if len(b) != 0 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(a), true
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// parseIPv6 parses an IPv6 literal (RFC 4291 text form, optional
// trailing dotted quad, no zone) without allocating.
func parseIPv6(b []byte) (netip.Addr, bool) {
	var ip [16]byte
	ellipsis := -1
	i := 0
	if len(b) >= 2 && b[0] == ':' && b[1] == ':' {
		ellipsis = 0
		b = b[2:]
	}
	for len(b) > 0 && i < 16 {
		n, v := 0, 0
		for n < len(b) && n < 5 {
			d := hexVal(b[n])
			if d < 0 {
				break
			}
			v = v<<4 | d
			n++
		}
		if n == 0 || n > 4 {
			return netip.Addr{}, false
		}
		if n < len(b) && b[n] == '.' {
			if i > 12 || (ellipsis < 0 && i != 12) {
				return netip.Addr{}, false
			}
			a4, ok := parseIPv4(b)
			if !ok {
				return netip.Addr{}, false
			}
			v4 := a4.As4()
			copy(ip[i:], v4[:])
			i += 4
			b = nil
			break
		}
		ip[i], ip[i+1] = byte(v>>8), byte(v)
		i += 2
		b = b[n:]
		if len(b) == 0 {
			break
		}
		if b[0] != ':' {
			return netip.Addr{}, false
		}
		b = b[1:]
		if len(b) > 0 && b[0] == ':' {
			if ellipsis >= 0 {
				return netip.Addr{}, false
			}
			ellipsis = i
			b = b[1:]
		} else if len(b) == 0 {
			return netip.Addr{}, false
		}
	}
	if len(b) != 0 {
		return netip.Addr{}, false
	}
	if i < 16 {
		if ellipsis < 0 {
			return netip.Addr{}, false
		}
		n := 16 - i
		copy(ip[ellipsis+n:], ip[ellipsis:i])
		clear(ip[ellipsis : ellipsis+n])
	} else if ellipsis >= 0 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom16(ip), true
}

func (p Parser) readV2(r io.Reader, h *Header, buf []byte) error {
	if err := readFull(r, buf[1:16], 2, 1); err != nil {
		return err
	}
	if string(buf[:12]) != v2Signature {
		return &SyntaxError{Msg: "input does not start with a PROXY signature", kind: ErrNoHeader}
	}
	if buf[12]>>4 != 2 {
		return syntaxErr(2, 12, "version is not 2")
	}
	cmd := Command(buf[12] & 0x0f)
	if cmd != Local && cmd != Proxy {
		return syntaxErr(2, 12, "command is neither LOCAL nor PROXY")
	}
	tr := Transport(buf[13])
	alen := tr.addrLen()
	if alen < 0 {
		return syntaxErr(2, 13, "undefined address family or transport")
	}
	n := int(binary.BigEndian.Uint16(buf[14:16]))
	max := p.MaxV2Length
	if max <= 0 {
		max = DefaultMaxV2Length
	}
	if n > max {
		return &SyntaxError{Version: 2, Offset: 14, Msg: "length exceeds the configured maximum", kind: ErrTooLong}
	}
	if cmd == Proxy && n < alen {
		return syntaxErr(2, 14, "length is shorter than the address block")
	}
	if 16+n > len(buf) {
		nb := make([]byte, 16+n)
		copy(nb, buf[:16])
		buf = nb
	}
	if err := readFull(r, buf[16:16+n], 2, 16); err != nil {
		return err
	}
	buf = buf[:16+n]
	h.buf = buf
	h.Version = 2
	h.Command = cmd
	h.Transport = tr
	if cmd == Local {
		// The receiver uses the real endpoints and discards the address
		// block. TLVs are kept when they are well formed; a checksum
		// that is present must still match.
		if n < alen {
			return nil
		}
		tlvs, crcAt, _, msg := parseTLVs(h.TLVs, buf[16+alen:], 16+alen)
		if msg != "" {
			h.TLVs = h.TLVs[:0]
			return nil
		}
		h.TLVs = tlvs
		if crcAt >= 0 && !checkCRC(buf, crcAt) {
			return &SyntaxError{Version: 2, Offset: crcAt, Msg: "CRC32C mismatch", kind: ErrCRC32C}
		}
		return nil
	}
	a := buf[16 : 16+alen]
	switch tr {
	case TCP4, UDP4:
		h.Source = netip.AddrPortFrom(netip.AddrFrom4([4]byte(a[0:4])), binary.BigEndian.Uint16(a[8:10]))
		h.Destination = netip.AddrPortFrom(netip.AddrFrom4([4]byte(a[4:8])), binary.BigEndian.Uint16(a[10:12]))
	case TCP6, UDP6:
		h.Source = netip.AddrPortFrom(netip.AddrFrom16([16]byte(a[0:16])), binary.BigEndian.Uint16(a[32:34]))
		h.Destination = netip.AddrPortFrom(netip.AddrFrom16([16]byte(a[16:32])), binary.BigEndian.Uint16(a[34:36]))
	case UnixStream, UnixDgram:
		h.SourcePath = cString(a[:108])
		h.DestinationPath = cString(a[108:216])
	}
	tlvs, crcAt, off, msg := parseTLVs(h.TLVs, buf[16+alen:], 16+alen)
	h.TLVs = tlvs
	if msg != "" {
		return syntaxErr(2, off, msg)
	}
	if crcAt >= 0 && !checkCRC(buf, crcAt) {
		return &SyntaxError{Version: 2, Offset: crcAt, Msg: "CRC32C mismatch", kind: ErrCRC32C}
	}
	return nil
}

// cString returns b up to its first NUL.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
