package dmarc

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	_ "crypto/sha1" // rsa-sha1, when WithDKIMHashes asks for it
	_ "crypto/sha256"
	_ "crypto/sha512"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// defaultDKIMMaxSignatures is WithDKIMMaxSignatures' default.
const defaultDKIMMaxSignatures = 5

// VerifyDKIM verifies the DKIM signatures (RFC 6376, RFC 8463 for
// Ed25519, RFC 8301) of the message read from r, and returns one result
// per signature it keeps, in the shape of Exim's $dkim_verify_status
// and $dkim_verify_reason.
//
// The options are WithResolver, for the key lookups, and the WithDKIM…
// options and WithClock of dkim_options.go; Evaluate's other options
// are ignored, so a server can pass both calls the same list.
//
// Which signatures, in which order, is Exim's (dkim_verify_hashes and
// dkim_verify_keytypes): a signature whose a= names a hash not in
// WithDKIMHashes or a key type not in WithDKIMKeyTypes is dropped (not verified, not
// returned, invisible to DMARC), and so is one whose a= cannot be read
// at all; the rest are ordered by key type preference, then hash
// preference, then their order in the message. A signature that is
// malformed otherwise is kept, with status "invalid".
//
// The message is read once. The header section is kept in memory (at
// most DKIMMaxHeaderBytes); the body is streamed and canonicalized as
// it is read, and hashed once for each distinct combination of body
// canonicalization, hash algorithm and l= among the signatures to
// verify. Reading stops after the header when no signature needs the
// body. Bare LF line endings are read as CRLF.
//
// Key lookups use ctx. A signature whose key cannot be had is "invalid"
// with reason pubkey_unavailable, Exim's words, and Temporary tells the
// two cases of RFC 6376 §6.1.2 apart: set when the lookup got no answer
// (SERVFAIL, timeout, REFUSED, a malformed reply, ctx done: TEMPFAIL,
// dkim=temperror), clear when there is no key (NXDOMAIN, NODATA, no
// DKIM key among the TXT records: PERMFAIL, dkim=permerror).
// Signatures with the same d= and s= share one lookup.
//
// Beyond what Exim checks: an x= in the past makes a signature invalid
// (reason signature_expired, a PERMFAIL in RFC 6376 §6.1.1), and the
// key record's s= (service) and t=s (no subdomain in i=) are enforced,
// as a fail without reason, like a key whose h= excludes the hash. l=
// is honoured as RFC 6376 says: text after the signed length does not
// break the signature, so a pass with l= vouches only for that much of
// the body.
//
// The error is non-nil only when nothing could be verified: an option
// is unusable (*DKIMOptionError), or the message could not be read
// (*DKIMReadError: a reader error, or a header section over the limit).
// A message without signatures gives no results and no error.
func VerifyDKIM(ctx context.Context, r io.Reader, opts ...Option) ([]DKIMResult, error) {
	var c config
	c.init(opts)
	v, err := newDKIMVerifier(&c)
	if err != nil {
		return nil, err
	}
	return v.verify(ctx, r)
}

// dkimVerifier holds the configuration and the state of one
// VerifyDKIM call.
type dkimVerifier struct {
	hashes   []string // in preference order
	keyTypes []string
	minBits  map[string]int
	minimal  bool
	max      int
	res      Resolver
	now      func() time.Time

	hdr        *dkimHeader
	sigs       []*dkimSig        // the signatures kept, in result order
	canons     [2]*dkimBodyCanon // simple, relaxed; nil until a signature needs one
	bodyHashes []*dkimBodyHash   // one per distinct (canonicalization, hash, l=)
	keys       map[string]dkimKeyResult
	lookups    int    // key lookups sent to the resolver
	used       []bool // header fields already picked for the current signature
	buf        []byte
}

func newDKIMVerifier(c *config) (*dkimVerifier, error) {
	o := &c.dkim
	v := &dkimVerifier{
		minimal: o.minimal,
		max:     o.maxSigs,
		now:     c.now,
		minBits: map[string]int{"rsa": 1024, "ed25519": 250},
		keys:    map[string]dkimKeyResult{},
	}
	var err error
	if v.hashes, err = dkimOptionList("WithDKIMHashes", o.hashes, []string{"sha256", "sha512"}, []string{"sha1", "sha256", "sha512"}); err != nil {
		return nil, err
	}
	if v.keyTypes, err = dkimOptionList("WithDKIMKeyTypes", o.keyTypes, []string{"ed25519", "rsa"}, []string{"ed25519", "rsa"}); err != nil {
		return nil, err
	}
	for _, m := range o.minKeyBits {
		n := strings.ToLower(strings.TrimSpace(m.keyType))
		if !isDKIMKeyType(n) {
			return nil, &DKIMOptionError{Option: "WithDKIMMinKeyBits", Value: m.keyType, Msg: "unknown key type (want ed25519 or rsa)"}
		}
		if m.bits < 0 {
			return nil, &DKIMOptionError{Option: "WithDKIMMinKeyBits", Value: fmt.Sprintf("%s=%d", m.keyType, m.bits), Msg: "negative size"}
		}
		v.minBits[n] = m.bits
	}
	switch {
	case v.max == 0:
		v.max = defaultDKIMMaxSignatures
	case v.max < 0:
		return nil, &DKIMOptionError{Option: "WithDKIMMaxSignatures", Value: fmt.Sprint(v.max), Msg: "negative cap"}
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.res, err = c.dnsResolver(); err != nil {
		return nil, &DKIMOptionError{Option: "WithResolver", Msg: "unusable DNS configuration", Err: err}
	}
	return v, nil
}

// dkimOptionList checks and normalizes the names of WithDKIMHashes or
// WithDKIMKeyTypes (option): names are
// trimmed and matched without regard to case, repeats are ignored, an
// empty list means the default. Exim matches dkim_verify_hashes
// elements as prefixes of the names it knows (so "sha2" means sha256)
// and lets an unknown element keep signatures with an unparseable a=;
// here every element must be a whole known name.
func dkimOptionList(option string, in, def, known []string) ([]string, error) {
	if len(in) == 0 {
		return def, nil
	}
	out := make([]string, 0, len(in))
	for _, name := range in {
		n := strings.ToLower(strings.TrimSpace(name))
		if !slices.Contains(known, n) {
			msg := "unknown name (want " + strings.Join(known, ", ") + ")"
			for _, k := range known {
				if n != "" && strings.HasPrefix(k, n) {
					msg += "; Exim would take it as a prefix of " + k + ", VerifyDKIM needs the whole name"
					break
				}
			}
			return nil, &DKIMOptionError{Option: option, Value: name, Msg: msg}
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// verify runs one message through: header, signatures, body, keys.
func (v *dkimVerifier) verify(ctx context.Context, r io.Reader) ([]DKIMResult, error) {
	br := bufio.NewReaderSize(r, dkimReadBuffer)
	hdr, eof, err := readDKIMHeader(br)
	if err != nil {
		return nil, &DKIMReadError{Err: err}
	}
	v.hdr = hdr
	sigs := v.signatures()
	v.sigs = sigs
	if len(sigs) == 0 {
		return nil, nil
	}

	results := make([]DKIMResult, len(sigs))
	bodyHashes := make([]*dkimBodyHash, len(sigs))
	now := v.now().Unix()
	for i, s := range sigs {
		res := &results[i]
		*res = DKIMResult{Domain: s.domain, Selector: s.selector, Identifier: s.identifier, Algorithm: s.algorithm()}
		switch {
		case i >= v.max:
			v.outcome(res, s, DKIMStatusNone, &DKIMError{Msg: fmt.Sprintf("not verified: over the cap of %d signatures (WithDKIMMaxSignatures)", v.max)})
		case s.err != nil:
			v.outcome(res, s, DKIMStatusInvalid, s.err)
		case s.expires >= 0 && now > s.expires:
			v.outcome(res, s, DKIMStatusInvalid, &DKIMError{Reason: DKIMReasonExpired, Tag: "x",
				Msg: "signature expired at " + time.Unix(s.expires, 0).UTC().Format(time.RFC3339)})
		default:
			bodyHashes[i] = v.bodyHash(s)
		}
	}

	if len(v.bodyHashes) > 0 {
		if !eof {
			if err := v.readBody(br); err != nil {
				return nil, &DKIMReadError{Err: err}
			}
		}
		for _, c := range v.canons {
			if c != nil {
				c.finish()
			}
		}
	}

	// In result order; with Minimal, everything after the first pass
	// is "none", including signatures already found invalid or over
	// the cap: Exim stops there.
	passed := false
	for i, s := range sigs {
		res := &results[i]
		switch {
		case v.minimal && passed:
			v.outcome(res, s, DKIMStatusNone, &DKIMError{Msg: "not verified: an earlier signature passed (Minimal)"})
		case res.Status == "":
			v.verifyOne(ctx, res, s, bodyHashes[i])
		}
		passed = passed || res.Status == DKIMStatusPass
	}
	return results, nil
}

// signatures parses the DKIM-Signature fields, drops those Hashes and
// KeyTypes exclude (and those whose a= is unreadable), and sorts the
// rest: key type preference, hash preference, message order.
func (v *dkimVerifier) signatures() []*dkimSig {
	var sigs []*dkimSig
	ordinal := 0
	for i := range v.hdr.Fields {
		if !dkimEqualFold(v.hdr.Name(i), "DKIM-Signature") {
			continue
		}
		s := parseDKIMSignature(string(v.hdr.Value(i)))
		s.field, s.ordinal = i, ordinal
		ordinal++
		if s.keyType == "" || !slices.Contains(v.keyTypes, s.keyType) || !slices.Contains(v.hashes, s.hashName) {
			continue
		}
		sigs = append(sigs, s)
	}
	slices.SortStableFunc(sigs, func(a, b *dkimSig) int {
		if d := slices.Index(v.keyTypes, a.keyType) - slices.Index(v.keyTypes, b.keyType); d != 0 {
			return d
		}
		return slices.Index(v.hashes, a.hashName) - slices.Index(v.hashes, b.hashName)
	})
	return sigs
}

// outcome sets a result's status, reason and error.
func (v *dkimVerifier) outcome(res *DKIMResult, s *dkimSig, status string, err *DKIMError) {
	res.Status = status
	res.Reason = ""
	res.Temporary = false
	res.Err = nil
	if err != nil {
		e := *err // a copy: a cached key error is shared by signatures
		e.Domain, e.Selector = s.domain, s.selector
		res.Reason = e.Reason
		res.Temporary = e.Temporary
		res.Err = &e
	}
}

// bodyHash returns the body hash a signature needs, registering it if
// no earlier signature needs the same one.
func (v *dkimVerifier) bodyHash(s *dkimSig) *dkimBodyHash {
	for _, h := range v.bodyHashes {
		if h.relaxed == s.bodyRelaxed && h.hashName == s.hashName && h.limit == s.bodyLen {
			return h
		}
	}
	h := &dkimBodyHash{relaxed: s.bodyRelaxed, hashName: s.hashName, limit: s.bodyLen, h: s.hash.New()}
	v.bodyHashes = append(v.bodyHashes, h)
	ci := 0
	if s.bodyRelaxed {
		ci = 1
	}
	if v.canons[ci] == nil {
		v.canons[ci] = newDKIMBodyCanon(s.bodyRelaxed)
	}
	v.canons[ci].hashes = append(v.canons[ci].hashes, h)
	return h
}

// dkimReadBuffer is the size of the buffer the message is read
// through. The body is canonicalized straight from it, a buffer at a
// time, cut after the last LF so that lines are seldom split.
const dkimReadBuffer = 32 << 10

// readBody streams the rest of the message through the body
// canonicalizers in use.
func (v *dkimVerifier) readBody(br *bufio.Reader) error {
	for {
		b, err := br.Peek(br.Size()) // fills the buffer, or says why not
		switch {
		case err == nil:
			n := bytes.LastIndexByte(b, '\n') + 1
			if n == 0 {
				n = len(b) // a line longer than the buffer
			}
			v.feed(b[:n])
			br.Discard(n)
		case errors.Is(err, io.EOF):
			v.feed(b)
			return nil
		default:
			return err // including io.ErrNoProgress from a reader stuck at (0, nil)
		}
	}
}

func (v *dkimVerifier) feed(b []byte) {
	if len(b) == 0 {
		return
	}
	for _, c := range v.canons {
		if c != nil {
			c.write(b)
		}
	}
}

// verifyOne verifies a signature whose tags are valid and whose body
// hash has been computed: key, key constraints, body hash, signature.
func (v *dkimVerifier) verifyOne(ctx context.Context, res *DKIMResult, s *dkimSig, bh *dkimBodyHash) {
	name := s.selector + "._domainkey." + s.domain
	kr, ok := v.keys[strings.ToLower(name)]
	if !ok {
		v.lookups++
		kr = lookupDKIMKey(ctx, v.res, name)
		v.keys[strings.ToLower(name)] = kr
	}
	if kr.err != nil {
		v.outcome(res, s, DKIMStatusInvalid, kr.err)
		return
	}
	k := kr.key
	res.KeyBits = k.bits
	fail := func(reason, msg string) { v.outcome(res, s, DKIMStatusFail, &DKIMError{Reason: reason, Msg: msg}) }
	switch {
	case k.keyType != s.keyType:
		fail("", "key is "+k.keyType+", signature is "+s.algorithm())
		return
	case k.hashes != nil && !slices.Contains(k.hashes, s.hashName):
		fail("", "key record h= does not allow "+s.hashName)
		return
	case !k.email:
		fail("", "key record s= does not include email")
		return
	case k.strict && !dkimStrictIdentity(s):
		fail("", "key record t=s requires i= in d= itself, not a subdomain")
		return
	case k.bits < v.minBits[k.keyType]:
		fail(DKIMReasonPubkeyTooShort, fmt.Sprintf("public key too short: %d bits, minimum %d", k.bits, v.minBits[k.keyType]))
		return
	}
	canon := v.canons[0]
	if s.bodyRelaxed {
		canon = v.canons[1]
	}
	if s.bodyLen >= 0 && canon.total < s.bodyLen {
		fail(DKIMReasonBodyHashMismatch, fmt.Sprintf("body hash mismatch: l=%d but the canonicalized body has %d octets", s.bodyLen, canon.total))
		return
	}
	if subtle.ConstantTimeCompare(bh.sum, s.bodyHash) != 1 {
		fail(DKIMReasonBodyHashMismatch, "body hash mismatch")
		return
	}
	digest := v.headerHash(s)
	switch k.keyType {
	case "rsa":
		if err := rsa.VerifyPKCS1v15(k.rsa, s.hash, digest, s.sig); err != nil {
			v.outcome(res, s, DKIMStatusFail, &DKIMError{Reason: DKIMReasonSignatureIncorrect, Msg: "signature did not verify", Err: err})
			return
		}
	case "ed25519":
		if !ed25519.Verify(k.ed, digest, s.sig) {
			fail(DKIMReasonSignatureIncorrect, "signature did not verify")
			return
		}
	}
	v.outcome(res, s, DKIMStatusPass, nil)
}

// dkimStrictIdentity reports whether i= (or its default, @d=) has
// exactly the d= domain, as a key with t=s requires.
func dkimStrictIdentity(s *dkimSig) bool {
	if s.identifier == "" {
		return true
	}
	at := strings.LastIndexByte(s.identifier, '@')
	return strings.EqualFold(s.identifier[at+1:], s.domain)
}

// headerHash hashes the header fields h= names, each instance picked
// from the bottom up (RFC 6376 §5.4.2; names without a field left
// contribute nothing), then the signature's own field with b= emptied
// and without its final CRLF, all in the signature's header
// canonicalization.
func (v *dkimVerifier) headerHash(s *dkimSig) []byte {
	h := s.hash.New()
	hdr := v.hdr
	v.used = slices.Grow(v.used[:0], len(hdr.Fields))[:len(hdr.Fields)]
	clear(v.used)
	for _, name := range s.headers {
		for i := len(hdr.Fields) - 1; i >= 0; i-- {
			if v.used[i] || !dkimEqualFold(hdr.Name(i), name) {
				continue
			}
			v.used[i] = true
			if s.headerRelaxed {
				v.buf = appendDKIMRelaxedHeader(v.buf[:0], hdr.Raw(i), hdr.Fields[i].Colon-hdr.Fields[i].Start)
				h.Write(v.buf)
			} else {
				h.Write(hdr.Raw(i))
			}
			break
		}
	}
	f := hdr.Fields[s.field]
	raw := hdr.Raw(s.field)
	vs := f.Colon + 1 - f.Start // where the value starts in raw
	field := make([]byte, 0, len(raw))
	field = append(field, raw[:vs+s.bStart]...)
	field = append(field, raw[vs+s.bEnd:]...)
	if s.headerRelaxed {
		field = appendDKIMRelaxedHeader(v.buf[:0], field, f.Colon-f.Start)
	}
	h.Write(field[:len(field)-2])
	return h.Sum(nil)
}

// dkimEqualFold compares a field name with a name from h=, ignoring
// ASCII case.
func dkimEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}
