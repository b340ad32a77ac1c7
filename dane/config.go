package dane

import (
	"crypto/tls"
	"fmt"
)

// ClientConfig returns a copy of base (which may be nil) for a DANE TLS
// client, for smtp.Client.StartTLS: SNI is forced to the TLSA set's
// host name (names[0] without a set), the PKIX verification is switched
// off (InsecureSkipVerify) and VerifyConnection runs Verify instead, so
// the handshake fails unless the peer passes DANE. There is no fallback
// to PKIX. base's own VerifyConnection, when set, is called after
// DANE's verification has passed (for the caller's checks, such as
// OCSP), and its error fails the handshake too. base's
// VerifyPeerCertificate is kept only when base sets InsecureSkipVerify
// itself, as a caller does that expects no verified chains; it then
// runs before DANE's verification (crypto/tls calls it before
// VerifyConnection), whatever DANE will decide: that is where Exim's
// tls:cert events, raised for every certificate presented, belong.
// Otherwise it is dropped: it would see no verified chains.
func ClientConfig(base *tls.Config, set *TLSASet, names []string) *tls.Config {
	return clientConfig(base, set, names, nil)
}

func clientConfig(base *tls.Config, set *TLSASet, names []string, out **Verification) *tls.Config {
	var cfg *tls.Config
	if base != nil {
		cfg = base.Clone()
	} else {
		cfg = &tls.Config{}
	}
	switch {
	case set != nil:
		cfg.ServerName = set.Host
	case len(names) > 0:
		cfg.ServerName = names[0]
	}
	names = append([]string(nil), names...)
	if base == nil || !base.InsecureSkipVerify {
		cfg.VerifyPeerCertificate = nil
	}
	cfg.InsecureSkipVerify = true
	then := cfg.VerifyConnection
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		v, err := Verify(set, cs, names)
		if out != nil {
			*out = v
		}
		if err != nil {
			return fmt.Errorf("DANE verification failed: %w", err)
		}
		if then != nil {
			return then(cs)
		}
		return nil
	}
	return cfg
}
