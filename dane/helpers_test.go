package dane

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// pki is a test hierarchy: root → intermediate → leaf.
type pki struct {
	root, inter, leaf          *x509.Certificate
	rootKey, interKey, leafKey *ecdsa.PrivateKey
}

var serial atomic.Int64

func newCert(t testing.TB, tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(serial.Add(1))
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

func caTemplate(cn string) *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
}

// newPKI makes a hierarchy whose leaf is valid for names; leafTmpl, when
// non-nil, is adjusted before signing.
func newPKI(t testing.TB, adjust func(leaf *x509.Certificate), names ...string) *pki {
	t.Helper()
	p := &pki{}
	p.root, p.rootKey = newCert(t, caTemplate("Test Root"), nil, nil)
	p.inter, p.interKey = newCert(t, caTemplate("Test Intermediate"), p.root, p.rootKey)
	leaf := &x509.Certificate{
		Subject:     pkix.Name{CommonName: names[0]},
		DNSNames:    names,
		NotBefore:   time.Now().Add(-time.Hour),
		NotAfter:    time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if adjust != nil {
		adjust(leaf)
	}
	p.leaf, p.leafKey = newCert(t, leaf, p.inter, p.interKey)
	return p
}

// tlsCert is the server certificate with the given chain (leaf first).
func (p *pki) tlsCert(chain ...*x509.Certificate) tls.Certificate {
	c := tls.Certificate{PrivateKey: p.leafKey, Leaf: p.leaf}
	for _, x := range chain {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return c
}

func spkiSHA256(c *x509.Certificate) TLSA {
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return TLSA{Usage: UsageDANEEE, Selector: SelectorSPKI, MatchingType: MatchSHA256, Data: sum[:]}
}

func taRecord(c *x509.Certificate) TLSA {
	r := spkiSHA256(c)
	r.Usage = UsageDANETA
	return r
}

// serveTLS runs a TLS server on loopback that completes handshakes
// (and reads until EOF) with cert. It returns the address.
func serveTLS(t testing.TB, cert tls.Certificate) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				if err := c.(*tls.Conn).Handshake(); err != nil {
					return
				}
				buf := make([]byte, 64)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// dialDANE handshakes with the server at addr under ClientConfig.
func dialDANE(t testing.TB, addr string, set *TLSASet, names []string) (*Verification, error) {
	t.Helper()
	var v *Verification
	cfg := clientConfig(nil, set, names, &v)
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return v, err
	}
	defer c.Close()
	return v, nil
}
