package proxyproto

import (
	"encoding/binary"
	"errors"
	"io"
	"strconv"
)

// Format returns the header encoded as version 1 or 2 (0 means 2).
//
// Version 1 carries no TLVs: Local and Unspec become "PROXY UNKNOWN",
// TCP4 needs IPv4 addresses, TCP6 IPv6 ones, and other transports are
// an error. Version 2 writes the address block for Transport (zeros for
// Local), then the TLVs in order; a TLV of type TypeCRC32C gets the
// checksum of the finished header, whatever value it had.
func (h *Header) Format(version int) ([]byte, error) {
	return h.AppendFormat(nil, version)
}

// AppendFormat is Format appending to dst.
func (h *Header) AppendFormat(dst []byte, version int) ([]byte, error) {
	switch version {
	case 1:
		return h.appendV1(dst)
	case 0, 2:
		return h.appendV2(dst)
	}
	return dst, errors.New("proxyproto: version must be 1 or 2")
}

// WriteTo writes the header, as h.Version (0 means 2), to w.
func (h *Header) WriteTo(w io.Writer) (int64, error) {
	b, err := h.Format(h.Version)
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	return int64(n), err
}

func (h *Header) appendV1(dst []byte) ([]byte, error) {
	if len(h.TLVs) > 0 {
		return dst, errors.New("proxyproto: a v1 header cannot carry TLVs")
	}
	if h.Command == Local || h.Transport == Unspec {
		return append(dst, "PROXY UNKNOWN\r\n"...), nil
	}
	if h.Command != Proxy {
		return dst, errors.New("proxyproto: invalid command")
	}
	s, d := h.Source.Addr(), h.Destination.Addr()
	switch h.Transport {
	case TCP4:
		if !s.Is4() || !d.Is4() {
			return dst, errors.New("proxyproto: TCP4 needs IPv4 addresses")
		}
		dst = append(dst, "PROXY TCP4 "...)
	case TCP6:
		if !s.Is6() || !d.Is6() || s.Zone() != "" || d.Zone() != "" {
			return dst, errors.New("proxyproto: TCP6 needs IPv6 addresses without zone")
		}
		dst = append(dst, "PROXY TCP6 "...)
	default:
		return dst, errors.New("proxyproto: v1 supports only TCP4, TCP6 and UNKNOWN")
	}
	dst = s.AppendTo(dst)
	dst = append(dst, ' ')
	dst = d.AppendTo(dst)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, uint64(h.Source.Port()), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, uint64(h.Destination.Port()), 10)
	return append(dst, '\r', '\n'), nil
}

func (h *Header) appendV2(dst []byte) ([]byte, error) {
	if h.Command != Local && h.Command != Proxy {
		return dst, errors.New("proxyproto: invalid command")
	}
	alen := h.Transport.addrLen()
	if alen < 0 {
		return dst, errors.New("proxyproto: invalid transport")
	}
	n := alen
	for _, t := range h.TLVs {
		if len(t.Value) > 0xffff {
			return dst, errors.New("proxyproto: TLV value longer than 65535 bytes")
		}
		n += 3 + len(t.Value)
	}
	if n > 0xffff {
		return dst, errors.New("proxyproto: header longer than 65535 bytes")
	}
	start := len(dst)
	dst = append(dst, v2Signature...)
	dst = append(dst, 0x20|byte(h.Command), byte(h.Transport), byte(n>>8), byte(n))
	abuf := len(dst)
	dst = append(dst, make([]byte, alen)...)
	a := dst[abuf:]
	if h.Command == Proxy {
		s, d := h.Source.Addr(), h.Destination.Addr()
		switch h.Transport {
		case TCP4, UDP4:
			if !s.Is4() || !d.Is4() {
				return dst[:start], errors.New("proxyproto: " + h.Transport.String() + " needs IPv4 addresses")
			}
			s4, d4 := s.As4(), d.As4()
			copy(a[0:4], s4[:])
			copy(a[4:8], d4[:])
			binary.BigEndian.PutUint16(a[8:], h.Source.Port())
			binary.BigEndian.PutUint16(a[10:], h.Destination.Port())
		case TCP6, UDP6:
			if !s.Is6() || !d.Is6() {
				return dst[:start], errors.New("proxyproto: " + h.Transport.String() + " needs IPv6 addresses")
			}
			s16, d16 := s.As16(), d.As16()
			copy(a[0:16], s16[:])
			copy(a[16:32], d16[:])
			binary.BigEndian.PutUint16(a[32:], h.Source.Port())
			binary.BigEndian.PutUint16(a[34:], h.Destination.Port())
		case UnixStream, UnixDgram:
			if !okPath(h.SourcePath) || !okPath(h.DestinationPath) {
				return dst[:start], errors.New("proxyproto: UNIX path longer than 108 bytes or containing NUL")
			}
			copy(a[0:108], h.SourcePath)
			copy(a[108:216], h.DestinationPath)
		}
	}
	crcAt := -1
	for _, t := range h.TLVs {
		dst = append(dst, byte(t.Type), byte(len(t.Value)>>8), byte(len(t.Value)))
		if t.Type == TypeCRC32C && crcAt < 0 && len(t.Value) == 4 {
			crcAt = len(dst) - start
			dst = append(dst, 0, 0, 0, 0)
			continue
		}
		dst = append(dst, t.Value...)
	}
	if crcAt >= 0 {
		hdr := dst[start:]
		binary.BigEndian.PutUint32(hdr[crcAt:], 0)
		c := crcOf(hdr)
		binary.BigEndian.PutUint32(hdr[crcAt:], c)
	}
	return dst, nil
}

func okPath(p string) bool {
	if len(p) > 108 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] == 0 {
			return false
		}
	}
	return true
}
