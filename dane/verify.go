package dane

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Verification failure kinds; Verify's errors match them with errors.Is.
// The OpenSSL verify codes of the DANE test suite map onto them.
var (
	// ErrNoUsableRecords: no DANE-TA(2)/DANE-EE(3) record with a known
	// selector and matching type (Exim: "No usable TLSA records").
	// PKIX-TA(0) and PKIX-EE(1) are unusable for SMTP (RFC 7672 §3.1.3).
	ErrNoUsableRecords = errors.New("dane: no usable TLSA records")
	// ErrNoMatch: no record matches the peer chain (X509_V_ERR_DANE_NO_MATCH, 65).
	ErrNoMatch = errors.New("dane: no TLSA record matches the peer certificates")
	// ErrChain: a DANE-TA(2) record matched but the chain from the leaf to
	// the trust anchor is broken, missing or badly signed
	// (X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 20, and kin).
	ErrChain = errors.New("dane: no valid chain to the DANE-TA trust anchor")
	// ErrExpired: a certificate below the DANE-TA trust anchor is outside
	// its validity period.
	ErrExpired = errors.New("dane: certificate expired or not yet valid")
	// ErrName: the leaf does not match any reference identifier under
	// DANE-TA(2) (X509_V_ERR_HOSTNAME_MISMATCH, 62).
	ErrName = errors.New("dane: certificate name does not match")
	// ErrNoCertificate: the peer sent no certificate.
	ErrNoCertificate = errors.New("dane: peer sent no certificate")
)

// Verification is the detail of a DANE check.
type Verification struct {
	Verified bool
	// Record is the TLSA record that matched (nil if none).
	Record *TLSA
	// Usage is Record's usage, or -1.
	Usage int
	// MatchDepth is the depth in the peer chain (0 = leaf) of the
	// certificate that matched, as OpenSSL counts it: for a DANE-TA(2)
	// certificate supplied in DNS rather than by the peer, the depth it
	// would have in the chain; for a DANE-TA(2) public key from DNS, the
	// depth of the certificate it signed. -1 if nothing matched.
	MatchDepth int
	// Name is the reference identifier the leaf matched (DANE-TA only).
	Name string
	// Usable and Unusable count the set's records.
	Usable, Unusable int
}

// Verify checks the peer of cs against the set's TLSA records as an SMTP
// client does (RFC 7672, Exim's DANESSL verifier):
//
//   - only DANE-TA(2) and DANE-EE(3) records are used;
//   - DANE-EE(3): the leaf must match; names, dates and the rest of the
//     chain are ignored;
//   - DANE-TA(2): a certificate of the peer chain, or a certificate or
//     public key given in the record itself, is the trust anchor; the
//     chain from the leaf to it must be signed correctly and valid now,
//     and the leaf must match one of names (a leading "*." in a
//     certificate name matches exactly one label).
//
// When records of both digest types exist for one usage and selector,
// only SHA2-512 ones are used (RFC 7671 §9 digest agility). The set's
// State is not checked: callers decide whether an insecure set is used.
func Verify(set *TLSASet, cs tls.ConnectionState, names []string) (*Verification, error) {
	var recs []TLSA
	var links *linkCache
	if set != nil {
		recs, links = set.Records, set.links
	}
	return verifyWith(recs, cs.PeerCertificates, names, time.Now(), links)
}

// verifyAt is Verify on plain data.
func verifyAt(recs []TLSA, chain []*x509.Certificate, names []string, now time.Time) (*Verification, error) {
	return verifyWith(recs, chain, names, now, nil)
}

func verifyWith(recs []TLSA, chain []*x509.Certificate, names []string, now time.Time, links *linkCache) (*Verification, error) {
	v := &Verification{Usage: -1, MatchDepth: -1}
	var ee, ta []int
	var has512 [4][2]bool
	for _, r := range recs {
		if r.Usable() && r.MatchingType == MatchSHA512 {
			has512[r.Usage][r.Selector] = true
		}
	}
	for i, r := range recs {
		if !r.Usable() {
			v.Unusable++
			continue
		}
		v.Usable++
		if r.MatchingType == MatchSHA256 && has512[r.Usage][r.Selector] {
			continue // a stronger digest is published for this pair
		}
		if r.Usage == UsageDANEEE {
			ee = append(ee, i)
		} else {
			ta = append(ta, i)
		}
	}
	if v.Usable == 0 {
		return v, ErrNoUsableRecords
	}
	if len(chain) == 0 {
		return v, ErrNoCertificate
	}
	for _, i := range ee {
		if matches(&recs[i], chain[0]) {
			v.Verified, v.Record, v.Usage, v.MatchDepth = true, &recs[i], UsageDANEEE, 0
			return v, nil
		}
	}
	if len(ta) == 0 {
		return v, ErrNoMatch
	}
	return verifyTA(v, recs, ta, chain, names, now, links)
}

// anchor is a DANE-TA trust anchor: a certificate, or a bare key.
type anchor struct {
	cert   *x509.Certificate // nil for a bare key
	key    *x509.Certificate // certificate holding only the public key
	depth  int               // reported match depth
	top    int               // chain[:top] is validated up to the anchor
	record *TLSA
}

func verifyTA(v *Verification, recs []TLSA, ta []int, chain []*x509.Certificate, names []string, now time.Time, links *linkCache) (*Verification, error) {
	var firstErr error
	// Lowest depth first: the nearest anchor gives the shortest chain.
	for d := 1; d <= len(chain); d++ {
		for _, i := range ta {
			r := &recs[i]
			var a *anchor
			if d < len(chain) && matches(r, chain[d]) {
				a = &anchor{cert: chain[d], depth: d, top: d, record: r}
			} else if r.MatchingType == MatchFull {
				a = anchorFromDNS(r, chain[d-1], d, links)
			}
			if a == nil {
				continue
			}
			if v.MatchDepth < 0 {
				v.Record, v.Usage, v.MatchDepth = r, UsageDANETA, a.depth
			}
			name, err := checkChain(a, chain, names, now, links)
			if err == nil {
				v.Verified, v.Record, v.Usage, v.MatchDepth, v.Name = true, r, UsageDANETA, a.depth, name
				return v, nil
			}
			if firstErr == nil || errors.Is(firstErr, ErrChain) && !errors.Is(err, ErrChain) {
				v.Record, v.MatchDepth = r, a.depth
				firstErr = err
			}
		}
	}
	if firstErr == nil {
		return v, ErrNoMatch
	}
	return v, firstErr
}

// anchorFromDNS makes a trust anchor from a Full(0) record whose data is
// the certificate (selector 0) or public key (selector 1) that issued
// child, the certificate at depth d-1.
func anchorFromDNS(r *TLSA, child *x509.Certificate, d int, links *linkCache) *anchor {
	switch r.Selector {
	case SelectorCert:
		c, err := x509.ParseCertificate(r.Data)
		if err != nil || !bytes.Equal(c.RawSubject, child.RawIssuer) {
			return nil
		}
		if links.checkSignatureFrom(child, c) != nil {
			return nil
		}
		return &anchor{cert: c, depth: d, top: d, record: r}
	case SelectorSPKI:
		pub, err := x509.ParsePKIXPublicKey(r.Data)
		if err != nil {
			return nil
		}
		k := &x509.Certificate{PublicKey: pub}
		if k.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature) != nil {
			return nil
		}
		return &anchor{key: k, depth: d - 1, top: d, record: r}
	}
	return nil
}

// checkChain validates chain[:a.top] up to the anchor (signatures,
// issuer names, CA flags, dates) and the leaf's names. The anchor's own
// dates are not checked: it is trusted because DNSSEC says so.
func checkChain(a *anchor, chain []*x509.Certificate, names []string, now time.Time, links *linkCache) (string, error) {
	for i := 0; i < a.top; i++ {
		c := chain[i]
		if now.Before(c.NotBefore) || now.After(c.NotAfter) {
			return "", fmt.Errorf("%w: depth %d (%s, valid %s to %s)", ErrExpired, i, c.Subject,
				c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
		}
		if i+1 < a.top || a.cert != nil {
			parent := a.cert
			if i+1 < a.top {
				parent = chain[i+1]
			}
			if !bytes.Equal(c.RawIssuer, parent.RawSubject) {
				return "", fmt.Errorf("%w: issuer of depth %d not found", ErrChain, i)
			}
			if err := links.checkSignatureFrom(c, parent); err != nil {
				return "", fmt.Errorf("%w: depth %d: %v", ErrChain, i, err)
			}
		} else if err := a.key.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
			return "", fmt.Errorf("%w: depth %d: %v", ErrChain, i, err)
		}
	}
	if a.top == 0 {
		return "", ErrChain
	}
	if n, ok := matchNames(chain[0], names); ok {
		return n, nil
	}
	return "", fmt.Errorf("%w: %v not in certificate", ErrName, names)
}

// matches reports whether cert matches the record's selector and
// matching type.
func matches(r *TLSA, c *x509.Certificate) bool {
	var data []byte
	switch r.Selector {
	case SelectorCert:
		data = c.Raw
	case SelectorSPKI:
		data = c.RawSubjectPublicKeyInfo
	default:
		return false
	}
	switch r.MatchingType {
	case MatchFull:
		return bytes.Equal(data, r.Data)
	case MatchSHA256:
		sum := sha256.Sum256(data)
		return bytes.Equal(sum[:], r.Data)
	case MatchSHA512:
		sum := sha512.Sum512(data)
		return bytes.Equal(sum[:], r.Data)
	}
	return false
}

// matchNames checks the leaf's DNS names (or, when it has none, its
// common name) against the reference identifiers.
func matchNames(c *x509.Certificate, names []string) (string, bool) {
	certNames := c.DNSNames
	if len(certNames) == 0 && c.Subject.CommonName != "" {
		certNames = []string{c.Subject.CommonName}
	}
	for _, ref := range names {
		ref = strings.TrimSuffix(strings.ToLower(ref), ".")
		if ref == "" {
			continue
		}
		for _, cn := range certNames {
			if nameMatches(strings.ToLower(strings.TrimSuffix(cn, ".")), ref) {
				return ref, true
			}
		}
	}
	return "", false
}

// nameMatches matches a certificate name against a reference name; a
// wildcard is allowed only as the whole left-most label and matches
// exactly one label (RFC 7672 §3.2.3).
func nameMatches(pattern, ref string) bool {
	if rest, ok := strings.CutPrefix(pattern, "*."); ok {
		_, refRest, found := strings.Cut(ref, ".")
		return found && rest != "" && strings.Contains(rest, ".") && refRest == rest
	}
	return pattern == ref
}
