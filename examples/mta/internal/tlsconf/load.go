package tlsconf

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// loadPair reads one tls_certificate file and its key: from keyPath, or
// from the certificate file when keyPath is "".
func loadPair(certPath, keyPath string) (tls.Certificate, error) {
	certErr := func(err error) error { return &ConfigError{Option: "tls_certificate", File: certPath, Err: err} }
	keyFile := keyPath
	if keyFile == "" {
		keyFile = certPath
	}
	keyErr := func(err error) error { return &ConfigError{Option: "tls_privatekey", File: keyFile, Err: err} }

	data, err := os.ReadFile(certPath)
	if err != nil {
		return tls.Certificate{}, certErr(err)
	}
	var c tls.Certificate
	for i, b := range pemBlocks(data) {
		if b.Type != "CERTIFICATE" {
			continue
		}
		x, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return tls.Certificate{}, certErr(fmt.Errorf("PEM block %d: %v", i+1, err))
		}
		if c.Leaf == nil {
			c.Leaf = x
		}
		c.Certificate = append(c.Certificate, b.Bytes)
	}
	if c.Leaf == nil {
		return tls.Certificate{}, certErr(errors.New("no PEM CERTIFICATE block"))
	}

	keyData := data
	if keyPath != "" {
		if keyData, err = os.ReadFile(keyPath); err != nil {
			return tls.Certificate{}, keyErr(err)
		}
	}
	key, err := findKey(keyData)
	if err != nil {
		if keyPath == "" {
			err = fmt.Errorf("%v (tls_privatekey unset: the key must be in the certificate file)", err)
		}
		return tls.Certificate{}, keyErr(err)
	}
	pub, ok := c.Leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return tls.Certificate{}, keyErr(fmt.Errorf("does not match the certificate in tls_certificate %q", certPath))
	}
	c.PrivateKey = key
	return c, nil
}

// pemBlocks returns every PEM block in data, in order.
func pemBlocks(data []byte) []*pem.Block {
	var out []*pem.Block
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			return out
		}
		out = append(out, b)
	}
}

// findKey parses the first private key block in data (PKCS #8, PKCS #1
// or SEC 1), as OpenSSL reads the first key in Exim's files.
func findKey(data []byte) (crypto.Signer, error) {
	for i, b := range pemBlocks(data) {
		if !strings.HasSuffix(b.Type, "PRIVATE KEY") {
			continue
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
			return nil, fmt.Errorf("PEM block %d: encrypted private keys are not supported", i+1)
		}
		k, err := parseKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d (%s): %v", i+1, b.Type, err)
		}
		return k, nil
	}
	return nil, errors.New("no PEM PRIVATE KEY block")
}

func parseKey(der []byte) (crypto.Signer, error) {
	var k any
	var err error
	if k, err = x509.ParsePKCS8PrivateKey(der); err != nil {
		if k, err = x509.ParsePKCS1PrivateKey(der); err != nil {
			if k, err = x509.ParseECPrivateKey(der); err != nil {
				return nil, errors.New("not a PKCS #8, PKCS #1 or SEC 1 private key")
			}
		}
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("key type %T cannot sign TLS handshakes", k)
}

// issuerOf is the first chain certificate that signed the leaf, the one
// OCSP responses for it must come from.
func issuerOf(c tls.Certificate) *x509.Certificate {
	for _, der := range c.Certificate[1:] {
		x, err := x509.ParseCertificate(der)
		if err == nil && c.Leaf.CheckSignatureFrom(x) == nil {
			return x
		}
	}
	return nil
}
