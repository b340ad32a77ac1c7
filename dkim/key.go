package dkim

import (
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"strings"

	"github.com/mailpolicy/mailpolicy/resolver"
)

// maxRSABits bounds the RSA keys Verify uses: a key record can
// carry a modulus of hundreds of thousands of bits, whose verification
// would cost seconds. Real keys are at most 4096 bits.
const maxRSABits = 16384

// pubKey is a parsed key record (RFC 6376 §3.6.1, RFC 8463).
type pubKey struct {
	keyType string // k=: "rsa" or "ed25519"
	rsa     *rsa.PublicKey
	ed      ed25519.PublicKey
	bits    int
	hashes  []string // h=; nil when absent (any hash)
	email   bool     // s= is absent, or lists "*" or "email"
	strict  bool     // t= has "s": i= must be in d= itself, not a subdomain
}

// keyResult is the outcome of one key lookup, cached per query
// name for the signatures of one message.
type keyResult struct {
	key *pubKey
	err *Error
}

// lookupKey fetches and parses the key record of a signature:
// TXT at <selector>._domainkey.<domain>. Of several TXT records the
// first that does not start with a "v=" tag other than v=DKIM1 is used,
// as Exim does (RFC 6376 §3.6.2.2 leaves the choice to the verifier;
// go-msgauth refuses several).
//
// Every way of not getting a key is pubkey_unavailable, Exim's reason
// for a key it could not get, but RFC 6376 §6.1.2 splits them, and
// DMARC must too: a forger can always name a selector that does not
// exist, and if that were temporary a p=reject domain would get a
// retry instead of a rejection. So NXDOMAIN, NODATA and TXT records
// none of which is a DKIM key are permanent ("no key for signature");
// only a lookup that got no answer is Temporary. That includes REFUSED
// and malformed replies, which the resolver calls permanent because
// asking that server again will not help, but which say nothing about
// whether the key exists.
func lookupKey(ctx context.Context, res Resolver, name string) keyResult {
	txts, _, err := res.LookupTXT(ctx, name)
	if err != nil {
		if resolver.IsNoRecord(err) {
			return keyResult{err: &Error{Reason: ReasonPubkeyUnavailable, Msg: "no key record at " + name, Err: err}}
		}
		return keyResult{err: &Error{Reason: ReasonPubkeyUnavailable, Temporary: true,
			Msg: "key lookup failed (temporary) at " + name, Err: err}}
	}
	for _, txt := range txts {
		if isKeyCandidate(txt) {
			key, kerr := parseKey(txt)
			return keyResult{key: key, err: kerr}
		}
	}
	return keyResult{err: &Error{Reason: ReasonPubkeyUnavailable, Msg: "no DKIM key record among the TXT records at " + name}}
}

// isKeyCandidate reports whether a TXT record can be a DKIM key
// record: it does not start with a v= tag, or that tag is v=DKIM1.
func isKeyCandidate(txt string) bool {
	s := strings.TrimLeft(txt, " \t")
	if !strings.HasPrefix(s, "v") {
		return true
	}
	rest := strings.TrimLeft(s[1:], " \t")
	if !strings.HasPrefix(rest, "=") {
		return true // a tag whose name starts with v, or garbage
	}
	val, _, _ := strings.Cut(rest[1:], ";")
	return strings.Trim(val, " \t") == "DKIM1"
}

// parseKey parses a key record. Problems with the record itself
// (tag syntax, v=, k=, missing or revoked p=, base64) are
// pubkey_dns_syntax; a p= that is not a key of type k= is
// pubkey_der_syntax (Exim's "public key record import problem" in
// both cases).
func parseKey(txt string) (*pubKey, *Error) {
	syntax := func(tag, msg string, err error) (*pubKey, *Error) {
		return nil, &Error{Reason: ReasonPubkeyDNSSyntax, Tag: tag, Msg: msg, Err: err}
	}
	der := func(msg string, err error) (*pubKey, *Error) {
		return nil, &Error{Reason: ReasonPubkeyDERSyntax, Tag: "p", Msg: msg, Err: err}
	}
	tags, err := parseTagList(txt)
	if err != nil {
		return syntax("", "malformed key record", err)
	}
	for i, t := range tags {
		if t.name == "v" && (i != 0 || t.value != "DKIM1") {
			return syntax("v", "key record version must be DKIM1 and come first", nil)
		}
	}
	k := &pubKey{keyType: "rsa", email: true}
	if kt, ok := tagLookup(tags, "k"); ok {
		if !isKeyType(kt) {
			return syntax("k", "unknown key type "+quoteValue(kt), nil)
		}
		k.keyType = kt
	}
	p, ok := tagLookup(tags, "p")
	if !ok {
		return syntax("p", "key record without public key", nil)
	}
	if stripFWS(p) == "" {
		return syntax("p", "key revoked (empty p=)", nil)
	}
	b, err := decodeBase64(p)
	if err != nil {
		return syntax("p", "invalid base64", err)
	}
	switch k.keyType {
	case "rsa":
		pub, err := x509.ParsePKIXPublicKey(b)
		if err != nil {
			// RFC 6376 §3.6.1 says RSAPublicKey, its example (and every
			// signer) uses SubjectPublicKeyInfo; erratum 3017 allows both.
			var perr error
			if pub, perr = x509.ParsePKCS1PublicKey(b); perr != nil {
				return der("not an RSA public key", err)
			}
		}
		rk, ok := pub.(*rsa.PublicKey)
		if !ok {
			return der("k=rsa but p= holds another type of key", nil)
		}
		k.rsa, k.bits = rk, rk.N.BitLen()
		if k.bits > maxRSABits {
			return der("RSA key too large", nil)
		}
	case "ed25519":
		if len(b) != ed25519.PublicKeySize {
			return der("Ed25519 key is not 32 octets", nil)
		}
		k.ed, k.bits = ed25519.PublicKey(b), 8*ed25519.PublicKeySize
	}
	if h, ok := tagLookup(tags, "h"); ok {
		k.hashes = splitColonList(h) // unknown names are ignored (§3.6.1)
	}
	if s, ok := tagLookup(tags, "s"); ok {
		k.email = false
		for _, svc := range splitColonList(s) {
			k.email = k.email || svc == "*" || strings.EqualFold(svc, "email")
		}
	}
	if t, ok := tagLookup(tags, "t"); ok {
		for _, f := range splitColonList(t) {
			k.strict = k.strict || f == "s"
		}
	}
	return k, nil
}
