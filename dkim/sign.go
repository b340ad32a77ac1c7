package dkim

import (
	"bufio"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Signer makes DKIM signatures (RFC 6376, RFC 8463 for Ed25519) the
// way an Exim smtp transport with dkim_* options does. Make one with
// NewSigner and keep it: it caches the keys and is safe for
// concurrent use.
type Signer struct {
	sigs    []*signSpec
	skipped []SignatureInfo // selectors whose key says "do not sign"

	headerRelaxed, bodyRelaxed bool
	hash                       crypto.Hash
	hashName                   string
	identity                   string // i= as written (quoted-printable), or ""
	timestamps                 time.Duration
	specs                      []signHeaderSpec
	strict                     bool
	now                        func() time.Time

	readers sync.Pool // *bufio.Reader of readBuffer bytes

	// sBodyHash, when set (tests), wraps each body hash as it is made.
	sBodyHash func(hash.Hash) hash.Hash
}

// signSpec is one (domain, selector) that signs.
type signSpec struct {
	domain, selector string
	key              *signKeySource
}

// SignResult is what Sign made.
type SignResult struct {
	// Header is the DKIM-Signature fields to put in front of the
	// message, each folded at 78 columns and ending CRLF, in the
	// order of SignerConfig.Domains and their selectors; nil when the
	// message goes unsigned.
	Header []byte
	// Signatures describes the fields in Header, in the same order.
	Signatures []SignatureInfo
	// Skipped are the (domain, selector) pairs whose PrivateKey is
	// "", "0" or "false" (Domain and Selector set only).
	Skipped []SignatureInfo
	// Err says why the message goes unsigned when SignerConfig.Strict
	// is clear and a signature could not be made (a *SignError); nil
	// otherwise.
	Err error
}

// SignatureInfo describes one signature Sign made.
type SignatureInfo struct {
	Domain, Selector string
	Algorithm        string   // a=: "rsa-sha256", "ed25519-sha256"...
	Canon            string   // c=: "relaxed/relaxed"...
	Headers          []string // h=, in order
	KeyBits          int      // RSA modulus length; 256 for Ed25519
}

// SignError is why a signature could not be made, or why Sign could
// not read the message.
type SignError struct {
	Domain, Selector string // "" when no one signature is at fault
	Msg              string
	Err              error
}

func (e *SignError) Error() string {
	var b strings.Builder
	b.WriteString("dkim: Sign: ")
	if e.Domain != "" || e.Selector != "" {
		fmt.Fprintf(&b, "d=%s s=%s: ", e.Domain, e.Selector)
	}
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *SignError) Unwrap() error { return e.Err }

// NewSigner checks c and loads its keys (key files are read now, and
// again by Sign when they change). An error is a *SignConfigError.
func NewSigner(c SignerConfig) (*Signer, error) {
	s := &Signer{strict: c.Strict, now: c.Now, timestamps: c.Timestamps}
	if s.now == nil {
		s.now = time.Now
	}
	var ok bool
	if s.headerRelaxed, s.bodyRelaxed, ok = signCanonNames(c.Canon); !ok {
		return nil, &SignConfigError{Field: "Canon", Value: c.Canon, Msg: `want "relaxed", "simple" or "header/body"`}
	}
	if s.hash, s.hashName, ok = signHashByName(c.Hash); !ok {
		return nil, &SignConfigError{Field: "Hash", Value: c.Hash, Msg: `want "sha256", "sha1" or "sha512"`}
	}
	if c.Timestamps < 0 || (c.Timestamps > 0 && c.Timestamps < time.Second) {
		return nil, &SignConfigError{Field: "Timestamps", Value: c.Timestamps.String(), Msg: "want 0 or at least a second"}
	}
	var bad string
	if s.specs, bad, ok = signParseHeaders(c.SignHeaders); !ok {
		msg := "not a header field name"
		if bad == "From" {
			msg = "the list must name From"
		}
		return nil, &SignConfigError{Field: "SignHeaders", Value: bad, Msg: msg}
	}
	if c.Identity != "" {
		if len(c.Identity) > 320 || !strings.Contains(c.Identity, "@") {
			return nil, &SignConfigError{Field: "Identity", Value: c.Identity, Msg: "want [local-part]@domain"}
		}
		s.identity = signQuoteIdentity(c.Identity)
	}
	if len(c.Domains) == 0 {
		return nil, &SignConfigError{Field: "Domains", Msg: "no domain"}
	}
	for _, d := range c.Domains {
		if !signIsDomain(d.Domain) {
			return nil, &SignConfigError{Field: "Domains", Value: d.Domain, Msg: "not an ASCII domain name"}
		}
		if c.Identity != "" && !signIdentityFits(c.Identity, d.Domain) {
			return nil, &SignConfigError{Field: "Identity", Value: c.Identity, Msg: "not in domain " + d.Domain}
		}
		if len(d.Selectors) == 0 {
			return nil, &SignConfigError{Field: "Selector", Value: d.Domain, Msg: "domain without selector"}
		}
		for _, sel := range d.Selectors {
			if !signIsDomain(sel.Selector) {
				return nil, &SignConfigError{Field: "Selector", Value: sel.Selector, Msg: "not a selector"}
			}
			if signNoKey(sel.PrivateKey) {
				s.skipped = append(s.skipped, SignatureInfo{Domain: d.Domain, Selector: sel.Selector})
				continue
			}
			src := &signKeySource{}
			k := strings.TrimSpace(sel.PrivateKey)
			if strings.HasPrefix(k, "/") && !strings.ContainsAny(k, "\n") {
				src.path = k
				_, err := src.get()
				if err != nil {
					return nil, &SignConfigError{Field: "PrivateKey", Value: k, Msg: "d=" + d.Domain + " s=" + sel.Selector, Err: err}
				}
			} else {
				src.key, src.err = signParseKey([]byte(k))
				if src.err != nil {
					return nil, &SignConfigError{Field: "PrivateKey", Value: "(text)", Msg: "d=" + d.Domain + " s=" + sel.Selector, Err: src.err}
				}
			}
			s.sigs = append(s.sigs, &signSpec{domain: d.Domain, selector: sel.Selector, key: src})
		}
	}
	return s, nil
}

// Sign reads a message (header section, empty line, body; CRLF or LF
// line ends) and returns the DKIM-Signature fields to prepend. The
// header section is held in memory (at most MaxHeaderBytes); the body
// is streamed once through one hash per distinct (canonicalization,
// hash), however many signatures there are.
//
// A signature that cannot be made (a key file gone bad, a header
// section over the limit, a crypto failure) is a *SignError: returned
// as the error when SignerConfig.Strict is set, else in SignResult.Err
// with the message unsigned. Failing to read r, or ctx ending, is
// always an error (a *SignError without domain). When no selector has
// a key, or when the message goes unsigned, r may not be read to the
// end.
func (s *Signer) Sign(ctx context.Context, r io.Reader) (SignResult, error) {
	res := SignResult{Skipped: s.skipped}
	if len(s.sigs) == 0 {
		return res, nil
	}
	if err := ctx.Err(); err != nil {
		return SignResult{}, &SignError{Msg: "reading message", Err: err}
	}
	keys := make([]*signKey, len(s.sigs))
	for i, sp := range s.sigs {
		k, err := sp.key.get()
		if err != nil {
			return s.fail(res, &SignError{Domain: sp.domain, Selector: sp.selector, Msg: "private key", Err: err})
		}
		keys[i] = k
	}

	br, _ := s.readers.Get().(*bufio.Reader)
	if br == nil {
		br = bufio.NewReaderSize(r, readBuffer)
	} else {
		br.Reset(r)
	}
	defer func() {
		br.Reset(nil)
		s.readers.Put(br)
	}()
	hdr, eof, err := readHeader(br)
	if errors.Is(err, ErrHeaderTooLarge) {
		return s.fail(res, &SignError{Msg: "reading message", Err: err})
	}
	if err != nil {
		return SignResult{}, &SignError{Msg: "reading message", Err: err}
	}

	// Body: one canonicalizer per canonicalization, one hash per
	// (canonicalization, hash). All signatures share s's settings
	// today, so that is one of each.
	canon := newBodyCanon(s.bodyRelaxed)
	h := s.hash.New()
	if s.sBodyHash != nil {
		h = s.sBodyHash(h)
	}
	bh := &bodyHash{relaxed: s.bodyRelaxed, hashName: s.hashName, limit: -1, h: h}
	canon.hashes = append(canon.hashes, bh)
	if !eof {
		if err := signReadBody(ctx, br, canon); err != nil {
			return SignResult{}, &SignError{Msg: "reading message", Err: err}
		}
	}
	canon.finish()
	bodyHashB64 := base64.StdEncoding.EncodeToString(bh.sum)

	ticked := make([]bool, len(s.specs))
	fields, names := signSelectHeaders(hdr, s.specs, ticked)
	var t, x int64 = -1, -1
	if s.timestamps > 0 {
		t = s.now().Unix()
		x = t + int64(s.timestamps/time.Second)
	}
	c := signCanonString(s.headerRelaxed) + "/" + signCanonString(s.bodyRelaxed)

	// The header fields are canonicalized once for all signatures.
	var canonHdr []byte
	for _, i := range fields {
		if s.headerRelaxed {
			f := hdr.Fields[i]
			canonHdr = appendRelaxedHeader(canonHdr, hdr.Raw(i), f.Colon-f.Start)
		} else {
			canonHdr = append(canonHdr, hdr.Raw(i)...)
		}
	}

	var out []byte
	infos := make([]SignatureInfo, 0, len(s.sigs))
	var scratch []byte
	for i, sp := range s.sigs {
		k := keys[i]
		alg := k.keyType + "-" + s.hashName
		f := signFolder{}
		f.start()
		f.tag("v=1")
		f.tag("a=" + alg)
		f.tag("c=" + c)
		f.tag("d=" + sp.domain)
		f.tag("s=" + sp.selector)
		if s.identity != "" {
			f.tag("i=" + s.identity)
		}
		if t >= 0 {
			f.tag("t=" + strconv.FormatInt(t, 10))
			f.tag("x=" + strconv.FormatInt(x, 10))
		}
		f.list("h=", names)
		f.b64("bh=", bodyHashB64, true)
		f.bare("b=")
		unsigned := f.b

		hh := s.hash.New()
		hh.Write(canonHdr)
		if s.headerRelaxed {
			scratch = append(append(scratch[:0], unsigned...), '\r', '\n')
			scratch = appendRelaxedHeader(scratch[:0:0], scratch, len("DKIM-Signature"))
			hh.Write(scratch[:len(scratch)-2])
		} else {
			hh.Write(unsigned)
		}
		digest := hh.Sum(nil)
		var opt crypto.SignerOpts = s.hash
		if k.keyType == "ed25519" {
			opt = crypto.Hash(0) // PureEdDSA over the hash (RFC 8463 §3)
		}
		sig, err := k.signer.Sign(rand.Reader, digest, opt)
		if err != nil {
			return s.fail(res, &SignError{Domain: sp.domain, Selector: sp.selector, Msg: "signing", Err: err})
		}
		f.b64("", base64.StdEncoding.EncodeToString(sig), false)
		out = append(append(out, f.b...), '\r', '\n')
		infos = append(infos, SignatureInfo{Domain: sp.domain, Selector: sp.selector, Algorithm: alg,
			Canon: c, Headers: names, KeyBits: k.bits})
	}
	res.Header, res.Signatures = out, infos
	return res, nil
}

func (s *Signer) fail(res SignResult, e *SignError) (SignResult, error) {
	if s.strict {
		return SignResult{Err: e}, e
	}
	res.Err = e
	return res, nil
}

// signReadBody streams the body through the canonicalizer, a buffer at
// a time cut after the last LF.
func signReadBody(ctx context.Context, br *bufio.Reader, c *bodyCanon) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := br.Peek(br.Size())
		switch {
		case err == nil:
			n := len(b)
			for n > 0 && b[n-1] != '\n' {
				n--
			}
			if n == 0 {
				n = len(b)
			}
			if n > 0 {
				c.write(b[:n])
			}
			br.Discard(n)
		case errors.Is(err, io.EOF):
			if len(b) > 0 {
				c.write(b)
			}
			return nil
		default:
			return err
		}
	}
}

// signFoldCol is where lines are folded (RFC 5322 §2.1.1's 78
// characters); no single token Sign writes is longer than 998.
const signFoldCol = 78

// signFolder writes a DKIM-Signature field folded with CRLF TAB.
type signFolder struct {
	b   []byte
	col int
}

func (f *signFolder) start() {
	f.b = append(f.b[:0], "DKIM-Signature:"...)
	f.col = len(f.b)
}

// atom writes an unbreakable piece, after a space (or a fold) when sp.
func (f *signFolder) atom(p string, sp bool) {
	need := len(p)
	if sp {
		need++
	}
	if f.col+need > signFoldCol && f.col > 1 {
		f.b = append(f.b, "\r\n\t"...)
		f.col = 1
	} else if sp {
		f.b = append(f.b, ' ')
		f.col++
	}
	f.b = append(f.b, p...)
	f.col += len(p)
}

// tag writes "name=value;" as one piece.
func (f *signFolder) tag(t string) { f.atom(t+";", true) }

// bare writes a last piece without ';' ("b=").
func (f *signFolder) bare(t string) { f.atom(t, true) }

// list writes h=: names joined by ':', folding before a colon.
func (f *signFolder) list(prefix string, names []string) {
	for i, n := range names {
		switch {
		case i == 0 && len(names) == 1:
			f.atom(prefix+n+";", true)
		case i == 0:
			f.atom(prefix+n, true)
		case i == len(names)-1:
			f.atom(":"+n+";", false)
		default:
			f.atom(":"+n, false)
		}
	}
}

// b64 writes base64 text filling the lines (FWS may come between any
// two characters), starting with prefix ("bh=") after a space, or
// right where the field is ("" prefix: b='s value after "b=").
func (f *signFolder) b64(prefix, v string, semi bool) {
	if prefix != "" {
		// Start on this line only if some of the value fits too.
		if f.col+1+len(prefix)+8 > signFoldCol {
			f.b = append(f.b, "\r\n\t"...)
			f.col = 1
		} else {
			f.b = append(f.b, ' ')
			f.col++
		}
		f.b = append(f.b, prefix...)
		f.col += len(prefix)
	}
	if semi {
		v += ";"
	}
	for len(v) > 0 {
		room := signFoldCol - f.col
		if room <= 0 {
			f.b = append(f.b, "\r\n\t"...)
			f.col = 1
			continue
		}
		n := min(room, len(v))
		if semi && n == len(v)-1 {
			n-- // keep the ';' with at least one character
		}
		if n <= 0 {
			f.b = append(f.b, "\r\n\t"...)
			f.col = 1
			continue
		}
		f.b = append(f.b, v[:n]...)
		f.col += n
		v = v[n:]
	}
}
