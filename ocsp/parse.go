package ocsp

import (
	"bytes"
	"crypto"
	_ "crypto/sha1" // OCSP cert IDs use SHA-1 by default
	_ "crypto/sha256"
	_ "crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	xocsp "golang.org/x/crypto/ocsp"
)

// The RFC 6960 structures, only as far as needed to see every
// SingleResponse's CertID and the certificates a response carries;
// golang.org/x/crypto/ocsp does the signature work.
type rawResponse struct {
	Status asn1.Enumerated
	Bytes  rawResponseBytes `asn1:"explicit,tag:0,optional"`
}

type rawResponseBytes struct {
	Type     asn1.ObjectIdentifier
	Response []byte
}

type rawBasic struct {
	TBS    rawTBS
	SigAlg pkix.AlgorithmIdentifier
	Sig    asn1.BitString
	Certs  []asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

type rawTBS struct {
	Raw         asn1.RawContent
	Version     int `asn1:"optional,default:0,explicit,tag:0"`
	ResponderID asn1.RawValue
	ProducedAt  time.Time `asn1:"generalized"`
	Responses   []rawSingle
	Extensions  []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

type rawSingle struct {
	CertID     rawCertID
	Status     asn1.RawValue
	ThisUpdate time.Time        `asn1:"generalized"`
	NextUpdate time.Time        `asn1:"generalized,explicit,tag:0,optional"`
	Extensions []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

type rawCertID struct {
	HashAlg  pkix.AlgorithmIdentifier
	NameHash []byte
	KeyHash  []byte
	Serial   *big.Int
}

var oidBasic = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}

var hashByOID = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{
	{asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, crypto.SHA1},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}, crypto.SHA256},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}, crypto.SHA384},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}, crypto.SHA512},
}

// parsed is a response decoded far enough to select and verify it.
type parsed struct {
	raw     []byte
	singles []rawSingle
	certs   []*x509.Certificate // unparsable ones are skipped
}

// parseRaw decodes a DER OCSP response. Only successful basic responses
// are accepted.
func parseRaw(der []byte) (*parsed, error) {
	var r rawResponse
	rest, err := asn1.Unmarshal(der, &r)
	if err != nil {
		return nil, fmt.Errorf("error parsing response: %v", err)
	}
	if len(rest) > 0 {
		return nil, errors.New("trailing data after OCSP response")
	}
	if r.Status != 0 {
		return nil, fmt.Errorf("response status is %s, not successful", xocsp.ResponseStatus(r.Status))
	}
	if !r.Bytes.Type.Equal(oidBasic) {
		return nil, errors.New("not a basic OCSP response")
	}
	var b rawBasic
	if rest, err := asn1.Unmarshal(r.Bytes.Response, &b); err != nil || len(rest) > 0 {
		return nil, errors.New("error parsing basic OCSP response")
	}
	if len(b.TBS.Responses) == 0 {
		return nil, errors.New("no single response in OCSP response")
	}
	p := &parsed{raw: der, singles: b.TBS.Responses}
	for _, c := range b.Certs {
		if cert, err := x509.ParseCertificate(c.FullBytes); err == nil {
			p.certs = append(p.certs, cert)
		}
	}
	return p, nil
}

// issuerHashes returns the name and key hashes of issuer under h.
func issuerHashes(issuer *x509.Certificate, h crypto.Hash) (name, key []byte, ok bool) {
	if !h.Available() {
		return nil, nil, false
	}
	var spki struct {
		Alg pkix.AlgorithmIdentifier
		Key asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, nil, false
	}
	hn := h.New()
	hn.Write(issuer.RawSubject)
	hk := h.New()
	hk.Write(spki.Key.RightAlign())
	return hn.Sum(nil), hk.Sum(nil), true
}

// matches reports whether the CertID names serial as issued by issuer.
func (id *rawCertID) matches(serial *big.Int, issuer *x509.Certificate) bool {
	if id.Serial == nil || serial == nil || id.Serial.Cmp(serial) != 0 {
		return false
	}
	for _, h := range hashByOID {
		if id.HashAlg.Algorithm.Equal(h.oid) {
			name, key, ok := issuerHashes(issuer, h.hash)
			return ok && bytes.Equal(name, id.NameHash) && bytes.Equal(key, id.KeyHash)
		}
	}
	return false
}

// find returns the index of the single response for cert from issuer,
// or -1.
func (p *parsed) find(cert, issuer *x509.Certificate) int {
	for i := range p.singles {
		if p.singles[i].CertID.matches(cert.SerialNumber, issuer) {
			return i
		}
	}
	return -1
}

// Response is a verified OCSP response for one certificate.
type Response struct {
	Status           CertStatus
	SerialNumber     *big.Int
	ProducedAt       time.Time
	ThisUpdate       time.Time
	NextUpdate       time.Time // zero when the response has none
	RevokedAt        time.Time
	RevocationReason int
	// Signer is the delegated responder certificate that signed the
	// response, or nil when the issuer signed it.
	Signer *x509.Certificate
	// Raw is the whole DER response, as stapled or written to a file.
	Raw []byte
}

// verify checks that p carries a response for cert, signed by issuer or
// by a delegated responder issuer certified for OCSP signing whose
// validity covers the response, and returns it. It checks no dates of
// the response itself; see checkTime.
func verify(p *parsed, cert, issuer *x509.Certificate) (*Response, error) {
	i := p.find(cert, issuer)
	if i < 0 {
		return nil, errors.New("no response for the certificate's serial number and issuer")
	}
	s := &p.singles[i]
	// With the certificate given, x/crypto verifies the signature by an
	// embedded certificate; with none embedded, it leaves it to us.
	xr, err := xocsp.ParseResponseForCert(p.raw, cert, nil)
	if err != nil {
		return nil, fmt.Errorf("invalid response: %v", err)
	}
	r := &Response{
		SerialNumber: s.CertID.Serial,
		ProducedAt:   xr.ProducedAt,
		ThisUpdate:   s.ThisUpdate,
		NextUpdate:   s.NextUpdate,
		Raw:          p.raw,
	}
	switch s.Status.Tag {
	case 0:
		r.Status = Good
	case 1:
		r.Status = Revoked
		var info struct {
			Time   time.Time       `asn1:"generalized"`
			Reason asn1.Enumerated `asn1:"explicit,tag:0,optional"`
		}
		if _, err := asn1.UnmarshalWithParams(s.Status.FullBytes, &info, "tag:1"); err == nil {
			r.RevokedAt, r.RevocationReason = info.Time, int(info.Reason)
		}
	default:
		r.Status = Unknown
	}
	switch signer := xr.Certificate; {
	case signer == nil:
		if err := xr.CheckSignatureFrom(issuer); err != nil {
			return nil, fmt.Errorf("bad signature: %v", err)
		}
	case signer.Equal(issuer):
		// The issuer's own certificate included; x/crypto checked the
		// signature against it.
	default:
		if err := signer.CheckSignatureFrom(issuer); err != nil {
			return nil, fmt.Errorf("responder certificate not issued by the certificate's issuer: %v", err)
		}
		if !hasOCSPSigning(signer) {
			return nil, errors.New("responder certificate lacks the OCSPSigning extended key usage")
		}
		end := r.NextUpdate
		if end.IsZero() {
			end = r.ThisUpdate
		}
		if r.ThisUpdate.Before(signer.NotBefore) || end.After(signer.NotAfter) {
			return nil, fmt.Errorf("responder certificate (valid %s to %s) does not cover the response (%s to %s)",
				signer.NotBefore.UTC().Format(time.RFC3339), signer.NotAfter.UTC().Format(time.RFC3339),
				r.ThisUpdate.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
		}
		r.Signer = signer
	}
	return r, nil
}

func hasOCSPSigning(c *x509.Certificate) bool {
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageOCSPSigning {
			return true
		}
	}
	return false
}

// DefaultSkew is Exim's clock-skew allowance for OCSP dates.
const DefaultSkew = 300 * time.Second

// checkTime applies the date rules: thisUpdate not more than skew in the
// future; nextUpdate, when present, not more than skew in the past; and
// with requireNext, nextUpdate present.
func (r *Response) checkTime(now time.Time, skew time.Duration, requireNext bool) error {
	if r.ThisUpdate.After(now.Add(skew)) {
		return fmt.Errorf("thisUpdate %s is in the future", r.ThisUpdate.UTC().Format(time.RFC3339))
	}
	if r.NextUpdate.IsZero() {
		if requireNext {
			return errors.New("response has no nextUpdate")
		}
		return nil
	}
	if r.NextUpdate.Before(now.Add(-skew)) {
		return fmt.Errorf("response expired: nextUpdate %s is past", r.NextUpdate.UTC().Format(time.RFC3339))
	}
	return nil
}
