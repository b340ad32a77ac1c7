package dkim

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	_ "crypto/sha1" // rsa-sha1, when WithHashes asks for it
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

// defaultMaxSignatures is WithMaxSignatures' default.
const defaultMaxSignatures = 5

// Verify verifies the DKIM signatures (RFC 6376, RFC 8463 for
// Ed25519, RFC 8301) of the message read from r, and returns one result
// per signature it keeps, in the shape of Exim's $dkim_verify_status
// and $dkim_verify_reason.
//
// The options (options.go) are WithResolver, for the key lookups,
// WithClock, and Exim's dkim_verify_* settings.
//
// Which signatures, in which order, is Exim's (dkim_verify_hashes and
// dkim_verify_keytypes): a signature whose a= names a hash not in
// WithHashes or a key type not in WithKeyTypes is dropped (not verified, not
// returned, invisible to DMARC), and so is one whose a= cannot be read
// at all; the rest are ordered by key type preference, then hash
// preference, then their order in the message. A signature that is
// malformed otherwise is kept, with status "invalid".
//
// The message is read once. The header section is kept in memory (at
// most MaxHeaderBytes); the body is streamed and canonicalized as
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
// is unusable (*OptionError), or the message could not be read
// (*ReadError: a reader error, or a header section over the limit).
// A message without signatures gives no results and no error.
func Verify(ctx context.Context, r io.Reader, opts ...Option) ([]Result, error) {
	var c config
	c.init(opts)
	v, err := newVerifier(&c)
	if err != nil {
		return nil, err
	}
	return v.verify(ctx, r)
}

// verifier holds the configuration and the state of one
// Verify call.
type verifier struct {
	hashes   []string // in preference order
	keyTypes []string
	minBits  map[string]int
	minimal  bool
	max      int
	res      Resolver
	now      func() time.Time

	hdr        *headerSection
	sigs       []*signature  // the signatures kept, in result order
	canons     [2]*bodyCanon // simple, relaxed; nil until a signature needs one
	bodyHashes []*bodyHash   // one per distinct (canonicalization, hash, l=)
	keys       map[string]keyResult
	lookups    int    // key lookups sent to the resolver
	used       []bool // header fields already picked for the current signature
	buf        []byte
}

func newVerifier(c *config) (*verifier, error) {
	o := c
	v := &verifier{
		minimal: o.minimal,
		max:     o.maxSigs,
		now:     c.now,
		minBits: map[string]int{"rsa": 1024, "ed25519": 250},
		keys:    map[string]keyResult{},
	}
	var err error
	if v.hashes, err = optionList("WithHashes", o.hashes, []string{"sha256", "sha512"}, []string{"sha1", "sha256", "sha512"}); err != nil {
		return nil, err
	}
	if v.keyTypes, err = optionList("WithKeyTypes", o.keyTypes, []string{"ed25519", "rsa"}, []string{"ed25519", "rsa"}); err != nil {
		return nil, err
	}
	for _, m := range o.minKeyBits {
		n := strings.ToLower(strings.TrimSpace(m.keyType))
		if !isKeyType(n) {
			return nil, &OptionError{Option: "WithMinKeyBits", Value: m.keyType, Msg: "unknown key type (want ed25519 or rsa)"}
		}
		if m.bits < 0 {
			return nil, &OptionError{Option: "WithMinKeyBits", Value: fmt.Sprintf("%s=%d", m.keyType, m.bits), Msg: "negative size"}
		}
		v.minBits[n] = m.bits
	}
	switch {
	case v.max == 0:
		v.max = defaultMaxSignatures
	case v.max < 0:
		return nil, &OptionError{Option: "WithMaxSignatures", Value: fmt.Sprint(v.max), Msg: "negative cap"}
	}
	if v.now == nil {
		v.now = time.Now
	}
	v.res = c.dnsResolver()
	return v, nil
}

// optionList checks and normalizes the names of WithHashes or
// WithKeyTypes (option): names are
// trimmed and matched without regard to case, repeats are ignored, an
// empty list means the default. Exim matches dkim_verify_hashes
// elements as prefixes of the names it knows (so "sha2" means sha256)
// and lets an unknown element keep signatures with an unparseable a=;
// here every element must be a whole known name.
func optionList(option string, in, def, known []string) ([]string, error) {
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
					msg += "; Exim would take it as a prefix of " + k + ", Verify needs the whole name"
					break
				}
			}
			return nil, &OptionError{Option: option, Value: name, Msg: msg}
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// verify runs one message through: header, signatures, body, keys.
func (v *verifier) verify(ctx context.Context, r io.Reader) ([]Result, error) {
	br := bufio.NewReaderSize(r, readBuffer)
	hdr, eof, err := readHeader(br)
	if err != nil {
		return nil, &ReadError{Err: err}
	}
	v.hdr = hdr
	sigs := v.signatures()
	v.sigs = sigs
	if len(sigs) == 0 {
		return nil, nil
	}

	results := make([]Result, len(sigs))
	bodyHashes := make([]*bodyHash, len(sigs))
	now := v.now().Unix()
	for i, s := range sigs {
		res := &results[i]
		*res = Result{Domain: s.domain, Selector: s.selector, Identifier: s.identifier, Algorithm: s.algorithm()}
		switch {
		case i >= v.max:
			v.outcome(res, s, StatusNone, &Error{Msg: fmt.Sprintf("not verified: over the cap of %d signatures (WithMaxSignatures)", v.max)})
		case s.err != nil:
			v.outcome(res, s, StatusInvalid, s.err)
		case s.expires >= 0 && now > s.expires:
			v.outcome(res, s, StatusInvalid, &Error{Reason: ReasonExpired, Tag: "x",
				Msg: "signature expired at " + time.Unix(s.expires, 0).UTC().Format(time.RFC3339)})
		default:
			bodyHashes[i] = v.bodyHash(s)
		}
	}

	if len(v.bodyHashes) > 0 {
		if !eof {
			if err := v.readBody(br); err != nil {
				return nil, &ReadError{Err: err}
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
			v.outcome(res, s, StatusNone, &Error{Msg: "not verified: an earlier signature passed (Minimal)"})
		case bodyHashes[i] != nil: // not decided in the first pass
			v.verifyOne(ctx, res, s, bodyHashes[i])
		}
		passed = passed || res.Status == StatusPass
	}
	return results, nil
}

// signatures parses the DKIM-Signature fields, drops those Hashes and
// KeyTypes exclude (and those whose a= is unreadable), and sorts the
// rest: key type preference, hash preference, message order.
func (v *verifier) signatures() []*signature {
	var sigs []*signature
	ordinal := 0
	for i := range v.hdr.Fields {
		if !equalFold(v.hdr.Name(i), "DKIM-Signature") {
			continue
		}
		s := parseSignature(string(v.hdr.Value(i)))
		s.field, s.ordinal = i, ordinal
		ordinal++
		if s.keyType == "" || !slices.Contains(v.keyTypes, s.keyType) || !slices.Contains(v.hashes, s.hashName) {
			continue
		}
		sigs = append(sigs, s)
	}
	slices.SortStableFunc(sigs, func(a, b *signature) int {
		if d := slices.Index(v.keyTypes, a.keyType) - slices.Index(v.keyTypes, b.keyType); d != 0 {
			return d
		}
		return slices.Index(v.hashes, a.hashName) - slices.Index(v.hashes, b.hashName)
	})
	return sigs
}

// outcome sets a result's status, reason and error.
func (v *verifier) outcome(res *Result, s *signature, status Status, err *Error) {
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
func (v *verifier) bodyHash(s *signature) *bodyHash {
	for _, h := range v.bodyHashes {
		if h.relaxed == s.bodyRelaxed && h.hashName == s.hashName && h.limit == s.bodyLen {
			return h
		}
	}
	h := &bodyHash{relaxed: s.bodyRelaxed, hashName: s.hashName, limit: s.bodyLen, h: s.hash.New()}
	v.bodyHashes = append(v.bodyHashes, h)
	ci := 0
	if s.bodyRelaxed {
		ci = 1
	}
	if v.canons[ci] == nil {
		v.canons[ci] = newBodyCanon(s.bodyRelaxed)
	}
	v.canons[ci].hashes = append(v.canons[ci].hashes, h)
	return h
}

// readBuffer is the size of the buffer the message is read
// through. The body is canonicalized straight from it, a buffer at a
// time, cut after the last LF so that lines are seldom split.
const readBuffer = 32 << 10

// readBody streams the rest of the message through the body
// canonicalizers in use.
func (v *verifier) readBody(br *bufio.Reader) error {
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

func (v *verifier) feed(b []byte) {
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
func (v *verifier) verifyOne(ctx context.Context, res *Result, s *signature, bh *bodyHash) {
	name := s.selector + "._domainkey." + s.domain
	kr, ok := v.keys[strings.ToLower(name)]
	if !ok {
		v.lookups++
		kr = lookupKey(ctx, v.res, name)
		v.keys[strings.ToLower(name)] = kr
	}
	if kr.err != nil {
		v.outcome(res, s, StatusInvalid, kr.err)
		return
	}
	k := kr.key
	res.KeyBits = k.bits
	fail := func(reason Reason, msg string) { v.outcome(res, s, StatusFail, &Error{Reason: reason, Msg: msg}) }
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
	case k.strict && !strictIdentity(s):
		fail("", "key record t=s requires i= in d= itself, not a subdomain")
		return
	case k.bits < v.minBits[k.keyType]:
		fail(ReasonPubkeyTooShort, fmt.Sprintf("public key too short: %d bits, minimum %d", k.bits, v.minBits[k.keyType]))
		return
	}
	canon := v.canons[0]
	if s.bodyRelaxed {
		canon = v.canons[1]
	}
	if s.bodyLen >= 0 && canon.total < s.bodyLen {
		fail(ReasonBodyHashMismatch, fmt.Sprintf("body hash mismatch: l=%d but the canonicalized body has %d octets", s.bodyLen, canon.total))
		return
	}
	if subtle.ConstantTimeCompare(bh.sum, s.bodyHash) != 1 {
		fail(ReasonBodyHashMismatch, "body hash mismatch")
		return
	}
	digest := v.headerHash(s)
	switch k.keyType {
	case "rsa":
		if err := rsa.VerifyPKCS1v15(k.rsa, s.hash, digest, s.sig); err != nil {
			v.outcome(res, s, StatusFail, &Error{Reason: ReasonSignatureIncorrect, Msg: "signature did not verify", Err: err})
			return
		}
	case "ed25519":
		if !ed25519.Verify(k.ed, digest, s.sig) {
			fail(ReasonSignatureIncorrect, "signature did not verify")
			return
		}
	}
	v.outcome(res, s, StatusPass, nil)
}

// strictIdentity reports whether i= (or its default, @d=) has
// exactly the d= domain, as a key with t=s requires.
func strictIdentity(s *signature) bool {
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
func (v *verifier) headerHash(s *signature) []byte {
	h := s.hash.New()
	hdr := v.hdr
	v.used = slices.Grow(v.used[:0], len(hdr.Fields))[:len(hdr.Fields)]
	clear(v.used)
	for _, name := range s.headers {
		for i := len(hdr.Fields) - 1; i >= 0; i-- {
			if v.used[i] || !equalFold(hdr.Name(i), name) {
				continue
			}
			v.used[i] = true
			if s.headerRelaxed {
				v.buf = appendRelaxedHeader(v.buf[:0], hdr.Raw(i), hdr.Fields[i].Colon-hdr.Fields[i].Start)
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
		field = appendRelaxedHeader(v.buf[:0], field, f.Colon-f.Start)
	}
	h.Write(field[:len(field)-2])
	return h.Sum(nil)
}

// equalFold compares a field name with a name from h=, ignoring
// ASCII case.
func equalFold(b []byte, s string) bool {
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
