package proxyproto

import (
	"encoding/binary"
	"hash/crc32"
)

// TLVType is the type byte of a v2 TLV.
type TLVType uint8

// TLV types of the specification (PP2_TYPE_* and PP2_SUBTYPE_SSL_*).
const (
	TypeALPN      TLVType = 0x01
	TypeAuthority TLVType = 0x02
	TypeCRC32C    TLVType = 0x03
	TypeNoop      TLVType = 0x04
	TypeUniqueID  TLVType = 0x05
	TypeSSL       TLVType = 0x20
	TypeNetNS     TLVType = 0x30

	SubtypeSSLVersion    TLVType = 0x21
	SubtypeSSLCN         TLVType = 0x22
	SubtypeSSLCipher     TLVType = 0x23
	SubtypeSSLSigAlg     TLVType = 0x24
	SubtypeSSLKeyAlg     TLVType = 0x25
	SubtypeSSLGroup      TLVType = 0x26
	SubtypeSSLSigScheme  TLVType = 0x27
	SubtypeSSLClientCert TLVType = 0x28
)

// Client flags of the PP2_TYPE_SSL TLV.
const (
	ClientSSL      uint8 = 0x01 // PP2_CLIENT_SSL: the client connected over TLS
	ClientCertConn uint8 = 0x02 // PP2_CLIENT_CERT_CONN: certificate sent on this connection
	ClientCertSess uint8 = 0x04 // PP2_CLIENT_CERT_SESS: certificate sent in this session
)

// maxUniqueID is the length limit of PP2_TYPE_UNIQUE_ID.
const maxUniqueID = 128

// TLV is one type-length-value entry of a v2 header.
type TLV struct {
	Type  TLVType
	Value []byte
}

// zeroCRC stands in for the checksum field while it is verified; never
// written.
var zeroCRC [4]byte

// castagnoli is the CRC32C polynomial table; never written after init.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// SSLInfo is the decoded PP2_TYPE_SSL TLV.
type SSLInfo struct {
	Client     uint8  // ClientSSL | ClientCertConn | ClientCertSess
	Verify     uint32 // 0 when a client certificate was presented and verified
	Version    string // e.g. "TLSv1.3"
	CN         string // client certificate Common Name
	Cipher     string // e.g. "TLS_AES_256_GCM_SHA384"
	SigAlg     string
	KeyAlg     string
	Group      string
	SigScheme  string
	ClientCert []byte // DER, when the proxy sends it
	Sub        []TLV  // all sub-TLVs, in order
}

// Verified reports whether the client presented a certificate and it
// was verified (a client certificate flag is set and Verify is 0).
func (s SSLInfo) Verified() bool {
	return s.Client&(ClientCertConn|ClientCertSess) != 0 && s.Verify == 0
}

// find returns the value of the first TLV of type t.
func (h *Header) find(t TLVType) ([]byte, bool) {
	for _, v := range h.TLVs {
		if v.Type == t {
			return v.Value, true
		}
	}
	return nil, false
}

// ALPN returns the PP2_TYPE_ALPN value (e.g. "smtp").
func (h *Header) ALPN() (string, bool) {
	v, ok := h.find(TypeALPN)
	return string(v), ok
}

// Authority returns PP2_TYPE_AUTHORITY: the host name the client asked
// for (TLS SNI).
func (h *Header) Authority() (string, bool) {
	v, ok := h.find(TypeAuthority)
	return string(v), ok
}

// CRC32C returns the PP2_TYPE_CRC32C checksum. ReadHeader has already
// verified it; a header with a wrong checksum is rejected.
func (h *Header) CRC32C() (uint32, bool) {
	v, ok := h.find(TypeCRC32C)
	if !ok || len(v) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(v), true
}

// UniqueID returns PP2_TYPE_UNIQUE_ID (at most 128 opaque bytes).
func (h *Header) UniqueID() ([]byte, bool) { return h.find(TypeUniqueID) }

// NetNS returns PP2_TYPE_NETNS, the network namespace name.
func (h *Header) NetNS() (string, bool) {
	v, ok := h.find(TypeNetNS)
	return string(v), ok
}

// SSL decodes PP2_TYPE_SSL. ReadHeader validated its structure.
func (h *Header) SSL() (SSLInfo, bool) {
	v, ok := h.find(TypeSSL)
	if !ok {
		return SSLInfo{}, false
	}
	s, err := parseSSL(v)
	if err != "" {
		return SSLInfo{}, false
	}
	return s, true
}

// parseSSL decodes the value of a PP2_TYPE_SSL TLV; err is empty on
// success.
func parseSSL(v []byte) (SSLInfo, string) {
	var s SSLInfo
	if len(v) < 5 {
		return s, "SSL TLV shorter than 5 bytes"
	}
	s.Client = v[0]
	s.Verify = binary.BigEndian.Uint32(v[1:5])
	for p := v[5:]; len(p) > 0; {
		if len(p) < 3 {
			return s, "truncated SSL sub-TLV"
		}
		n := int(binary.BigEndian.Uint16(p[1:3]))
		if 3+n > len(p) {
			return s, "SSL sub-TLV overflows the SSL TLV"
		}
		t, val := TLVType(p[0]), p[3:3+n]
		s.Sub = append(s.Sub, TLV{Type: t, Value: val})
		switch t {
		case SubtypeSSLVersion:
			s.Version = string(val)
		case SubtypeSSLCN:
			s.CN = string(val)
		case SubtypeSSLCipher:
			s.Cipher = string(val)
		case SubtypeSSLSigAlg:
			s.SigAlg = string(val)
		case SubtypeSSLKeyAlg:
			s.KeyAlg = string(val)
		case SubtypeSSLGroup:
			s.Group = string(val)
		case SubtypeSSLSigScheme:
			s.SigScheme = string(val)
		case SubtypeSSLClientCert:
			s.ClientCert = val
		}
		p = p[3+n:]
	}
	return s, ""
}

// checkSSL validates the structure of an SSL TLV without allocating.
func checkSSL(v []byte) string {
	if len(v) < 5 {
		return "SSL TLV shorter than 5 bytes"
	}
	for p := v[5:]; len(p) > 0; {
		if len(p) < 3 {
			return "truncated SSL sub-TLV"
		}
		n := int(binary.BigEndian.Uint16(p[1:3]))
		if 3+n > len(p) {
			return "SSL sub-TLV overflows the SSL TLV"
		}
		p = p[3+n:]
	}
	return ""
}

// parseTLVs splits area (which starts at offset base of the header buf)
// into tlvs, validating the known types. It returns the offset of the
// CRC32C value in buf (or -1) and an error message.
func parseTLVs(tlvs []TLV, area []byte, base int) ([]TLV, int, int, string) {
	crcAt := -1
	for off := 0; off < len(area); {
		if len(area)-off < 3 {
			return tlvs, crcAt, base + off, "truncated TLV header"
		}
		t := TLVType(area[off])
		n := int(binary.BigEndian.Uint16(area[off+1 : off+3]))
		if off+3+n > len(area) {
			return tlvs, crcAt, base + off, "TLV length exceeds the header"
		}
		val := area[off+3 : off+3+n : off+3+n]
		switch t {
		case TypeCRC32C:
			if n != 4 {
				return tlvs, crcAt, base + off, "CRC32C TLV is not 4 bytes"
			}
			if crcAt >= 0 {
				return tlvs, crcAt, base + off, "duplicate CRC32C TLV"
			}
			crcAt = base + off + 3
		case TypeUniqueID:
			if n > maxUniqueID {
				return tlvs, crcAt, base + off, "UNIQUE_ID TLV longer than 128 bytes"
			}
		case TypeSSL:
			if msg := checkSSL(val); msg != "" {
				return tlvs, crcAt, base + off, msg
			}
		}
		tlvs = append(tlvs, TLV{Type: t, Value: val})
		off += 3 + n
	}
	return tlvs, crcAt, 0, ""
}

// checkCRC verifies the CRC32C whose 4-byte value starts at buf[at].
func checkCRC(buf []byte, at int) bool {
	c := crc32.Update(0, castagnoli, buf[:at])
	c = crc32.Update(c, castagnoli, zeroCRC[:])
	c = crc32.Update(c, castagnoli, buf[at+4:])
	return c == binary.BigEndian.Uint32(buf[at:at+4])
}

// crcOf is the CRC32C of b.
func crcOf(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
