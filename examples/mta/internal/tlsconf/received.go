package tlsconf

import (
	"crypto/tls"
	"fmt"
)

// Received is the TLS part of the Received header as Exim's default
// received_header_text writes it, " ($tls_in_ver) tls
// $tls_in_cipher_std" without the leading space:
// "(TLS1.3) tls TLS_AES_256_GCM_SHA384". It is "" for a nil state.
//
// Exim's text is "with $received_protocol " followed by that leading
// space, so its headers read "with esmtps  (TLS1.3) tls ..." with two
// spaces; the session chooses the protocol word and the spacing.
// The result is 7-bit printable whatever the state holds.
func Received(cs *tls.ConnectionState) string {
	if cs == nil {
		return ""
	}
	return "(" + VersionName(cs.Version) + ") tls " + CipherName(cs.CipherSuite)
}

// VersionName is $tls_in_ver: OpenSSL's version name without its "v",
// as Exim strips it ("TLSv1.2" becomes "TLS1.2", "TLSv1" "TLS1").
// Unknown versions are written in hex.
func VersionName(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLS1.3"
	case tls.VersionTLS12:
		return "TLS1.2"
	case tls.VersionTLS11:
		return "TLS1.1"
	case tls.VersionTLS10:
		return "TLS1"
	case 0x0300:
		return "SSL3"
	}
	return fmt.Sprintf("0x%04X", v)
}

// CipherName is $tls_in_cipher_std, the IANA name of the cipher suite
// (what OpenSSL's SSL_CIPHER_standard_name gives Exim), or its number
// in hex when unknown.
func CipherName(id uint16) string { return tls.CipherSuiteName(id) }
