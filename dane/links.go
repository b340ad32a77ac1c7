package dane

import (
	"crypto/sha256"
	"crypto/x509"
	"sync"
)

// maxCachedLinks bounds a linkCache; a set serves one host, whose chains
// have a handful of links.
const maxCachedLinks = 32

// linkCache remembers the certificate signatures a TLSA set's DANE-TA
// checks found valid, keyed by a digest of both certificates, so that
// repeated connections to the same host do not verify the same
// signatures again. Only the signature result is cached: dates, names
// and issuer names are checked on every Verify. A nil cache caches
// nothing.
type linkCache struct {
	mu sync.Mutex
	ok map[[sha256.Size]byte]struct{}
}

func newLinkCache() *linkCache { return &linkCache{ok: map[[sha256.Size]byte]struct{}{}} }

func linkKey(child, parent *x509.Certificate) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	for i, l := 0, len(child.Raw); i < 8; i++ {
		n[i] = byte(l >> (8 * i))
	}
	h.Write(n[:]) // length prefix: the concatenation is unambiguous
	h.Write(child.Raw)
	h.Write(parent.Raw)
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// checkSignatureFrom is child.CheckSignatureFrom(parent), remembered.
func (c *linkCache) checkSignatureFrom(child, parent *x509.Certificate) error {
	if c == nil {
		return child.CheckSignatureFrom(parent)
	}
	k := linkKey(child, parent)
	c.mu.Lock()
	_, hit := c.ok[k]
	c.mu.Unlock()
	if hit {
		return nil
	}
	if err := child.CheckSignatureFrom(parent); err != nil {
		return err
	}
	c.mu.Lock()
	if len(c.ok) >= maxCachedLinks {
		clear(c.ok)
	}
	c.ok[k] = struct{}{}
	c.mu.Unlock()
	return nil
}
