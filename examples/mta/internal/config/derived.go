package config

import (
	"crypto/tls"
	"net"
	"strings"

	"github.com/mailpolicy/mailpolicy/dcc"
	"github.com/mailpolicy/mailpolicy/dkim"
	"github.com/mailpolicy/mailpolicy/ocsp"
)

// The values that settings stand for, in the form the MTA's packages
// take. Validate uses the same functions, so after it passes they do
// not fail.

var tlsVersions = map[string]uint16{"1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}

// MinTLSVersion is tls_min_version as a crypto/tls version (TLS 1.2
// when the setting is invalid, which Validate reports).
func (s Settings) MinTLSVersion() uint16 {
	if v, ok := tlsVersions[s.TLSMinVersion]; ok {
		return v
	}
	return tls.VersionTLS12
}

// OCSPFiles parses tls_ocsp_file (Exim list syntax); none when empty.
func (s Settings) OCSPFiles() ([]ocsp.FileSpec, error) {
	return ocsp.ParseFileList(s.TLSOCSPFile)
}

// DCCAddress parses dccifd: Exim's dccifd_address forms ("/socket",
// "host port") and host:port.
func (s Settings) DCCAddress() (dcc.Address, error) {
	a := s.DCCifd
	if !strings.HasPrefix(a, "/") && !strings.ContainsAny(a, " \t") {
		if h, p, err := net.SplitHostPort(a); err == nil {
			a = h + " " + p
		}
	}
	return dcc.ParseAddress(a)
}

// OptIns maps each optin recipient (lower case) to its bmi_optin list;
// nil when there are none. Malformed entries (Validate reports them)
// are left out.
func (s Settings) OptIns() map[string]string {
	return pairs(s.OptIn, func(a, _ string) bool { return true })
}

// Forwards maps each forwarded local address (lower case) to its
// remote address; nil when there are none. Malformed entries (Validate
// reports them) are left out.
func (s Settings) Forwards() map[string]string {
	return pairs(s.Forward, func(_, b string) bool { return b != "" })
}

func pairs(list []string, ok func(a, b string) bool) map[string]string {
	var m map[string]string
	for _, e := range list {
		a, b, found := strings.Cut(e, "=")
		if !found || a == "" || !ok(a, b) {
			continue
		}
		if m == nil {
			m = map[string]string{}
		}
		m[strings.ToLower(a)] = b
	}
	return m
}

// SignerConfig is the entry as the dkim package's signer
// configuration: one domain, its selectors and the entry's options.
func (d DKIM) SignerConfig() dkim.SignerConfig {
	sels := make([]dkim.SignSelector, len(d.Selectors))
	for i, s := range d.Selectors {
		sels[i] = dkim.SignSelector{Selector: s.Selector, PrivateKey: s.PrivateKey}
	}
	return dkim.SignerConfig{
		Domains:     []dkim.SignDomain{{Domain: d.Domain, Selectors: sels}},
		Canon:       d.Canon,
		Hash:        d.Hash,
		Identity:    d.Identity,
		SignHeaders: d.SignHeaders,
		Timestamps:  d.Timestamps,
		Strict:      d.Strict,
	}
}
