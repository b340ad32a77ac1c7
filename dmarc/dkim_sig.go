package dmarc

import (
	"crypto"
	"strconv"
	"strings"
)

// dkimSig is one DKIM-Signature field, parsed.
type dkimSig struct {
	field    int    // index of the field in the message header
	ordinal  int    // position among the message's DKIM-Signature fields
	keyType  string // "rsa" or "ed25519"; "" when a= is missing or unknown
	hashName string // "sha1", "sha256" or "sha512"
	hash     crypto.Hash

	// As reported in DKIMResult: the tag values without whitespace.
	domain, selector, identifier string

	headerRelaxed, bodyRelaxed bool
	headers                    []string // h=, as written
	bodyLen                    int64    // l=, -1 when absent
	bodyHash, sig              []byte   // bh=, b=
	created, expires           int64    // t=, x=; -1 when absent
	bStart, bEnd               int      // b= value with its surrounding whitespace, in the field value

	// err is set when the signature cannot be verified whatever the key
	// and body (RFC 6376 §6.1.1); its Reason is signature_tag... or
	// unsupported_dkim_version.
	err *DKIMError
}

func (s *dkimSig) algorithm() string { return s.keyType + "-" + s.hashName }

// dkimHashByName maps the hash names VerifyDKIM knows, in a= and in
// WithDKIMHashes, to their crypto.Hash.
func dkimHashByName(name string) (crypto.Hash, bool) {
	switch name {
	case "sha1":
		return crypto.SHA1, true
	case "sha256":
		return crypto.SHA256, true
	case "sha512":
		return crypto.SHA512, true
	}
	return 0, false
}

// isDKIMKeyType reports whether VerifyDKIM knows the key type name, in
// a=, k= and WithDKIMKeyTypes.
func isDKIMKeyType(name string) bool { return name == "rsa" || name == "ed25519" }

// dkimMaxTimestamp bounds t= and x= (RFC 6376 §3.5: at most 12 digits).
const dkimMaxTimestampDigits = 12

// parseDKIMSignature parses the value of a DKIM-Signature field (the
// text after the colon, folding included). It never fails: a malformed
// signature comes back with err set, and with keyType "" if its a= tag
// cannot be read at all (VerifyDKIM then drops it, as Exim drops a
// signature whose algorithm it does not know).
//
// The checks are those of RFC 6376 §3.5 and §6.1.1: v=1; a=, b=, bh=,
// d=, h= and s= present; a= naming a known key type and hash; c= simple
// or relaxed; d= and s= domain names; h= field names including From;
// i= within d=; l=, t= and x= decimal (x= after t=); q= including
// dns/txt; b= and bh= base64.
func parseDKIMSignature(value string) *dkimSig {
	s := &dkimSig{bodyLen: -1, created: -1, expires: -1}
	tags, perr := parseDKIMTagList(value)
	if perr != nil {
		tags = lenientDKIMTags(value)
	}
	if a, ok := dkimTagLookup(tags, "a"); ok {
		k, h, _ := strings.Cut(strings.ToLower(strings.Trim(a, " \t\r\n")), "-")
		if hash, ok := dkimHashByName(h); ok && isDKIMKeyType(k) {
			s.keyType, s.hashName, s.hash = k, h, hash
		}
	}
	if d, ok := dkimTagLookup(tags, "d"); ok {
		s.domain = stripDKIMFWS(d)
	}
	if sel, ok := dkimTagLookup(tags, "s"); ok {
		s.selector = stripDKIMFWS(sel)
	}
	if i, ok := dkimTagLookup(tags, "i"); ok {
		s.identifier = stripDKIMFWS(i)
	}
	if perr != nil {
		s.invalid(DKIMReasonSignatureTag, "", "malformed tag list", perr)
		return s
	}
	s.check(tags)
	return s
}

func (s *dkimSig) invalid(reason, tag, msg string, err error) {
	s.err = &DKIMError{Reason: reason, Tag: tag, Msg: msg, Err: err}
}

// check validates the tags one by one, stopping at the first problem.
func (s *dkimSig) check(tags []dkimTag) {
	v, ok := dkimTagLookup(tags, "v")
	if !ok {
		s.invalid(DKIMReasonSignatureTag, "v", "required tag missing", nil)
		return
	}
	if v != "1" {
		s.invalid(DKIMReasonVersion, "v", "unsupported version "+quoteDKIM(v), nil)
		return
	}
	for _, name := range []string{"a", "b", "bh", "d", "h", "s"} {
		if _, ok := dkimTagLookup(tags, name); !ok {
			s.invalid(DKIMReasonSignatureTag, name, "required tag missing", nil)
			return
		}
	}
	if s.keyType == "" {
		a, _ := dkimTagLookup(tags, "a")
		s.invalid(DKIMReasonSignatureTag, "a", "unknown algorithm "+quoteDKIM(a), nil)
		return
	}
	bad := func(tag, msg string) {
		val, _ := dkimTagLookup(tags, tag)
		s.invalid(DKIMReasonSignatureTag, tag, msg+" "+quoteDKIM(val), nil)
	}
	d, _ := dkimTagLookup(tags, "d")
	if !isDKIMDomainName(d, 2) {
		bad("d", "invalid domain")
		return
	}
	sel, _ := dkimTagLookup(tags, "s")
	if !isDKIMDomainName(sel, 1) || len(sel)+len("._domainkey.")+len(d) > 253 {
		bad("s", "invalid selector")
		return
	}
	if c, ok := dkimTagLookup(tags, "c"); ok {
		hc, bc, slash := strings.Cut(strings.ToLower(c), "/")
		var okH, okB bool
		s.headerRelaxed, okH = dkimCanonName(hc)
		s.bodyRelaxed, okB = false, true
		if slash {
			s.bodyRelaxed, okB = dkimCanonName(bc)
		}
		if !okH || !okB {
			bad("c", "unknown canonicalization")
			return
		}
	}
	h, _ := dkimTagLookup(tags, "h")
	s.headers = splitDKIMColonList(h)
	from := false
	for _, name := range s.headers {
		if !isDKIMFieldName(name) {
			bad("h", "invalid header field list")
			return
		}
		from = from || strings.EqualFold(name, "from")
	}
	if !from {
		bad("h", "From not signed in")
		return
	}
	if i, ok := dkimTagLookup(tags, "i"); ok {
		at := strings.LastIndexByte(i, '@')
		if at < 0 {
			bad("i", "identity without @ in")
			return
		}
		dom := strings.ToLower(i[at+1:])
		ld := strings.ToLower(d)
		if dom != ld && !strings.HasSuffix(dom, "."+ld) {
			bad("i", "identity outside d= domain in")
			return
		}
	}
	if l, ok := dkimTagLookup(tags, "l"); ok {
		n, ok := parseDKIMDecimal(l, 76)
		if !ok {
			bad("l", "invalid body length")
			return
		}
		s.bodyLen = n
	}
	if q, ok := dkimTagLookup(tags, "q"); ok {
		dns := false
		for _, m := range splitDKIMColonList(q) {
			dns = dns || strings.EqualFold(m, "dns/txt")
		}
		if !dns {
			bad("q", "no supported query method in")
			return
		}
	}
	if t, ok := dkimTagLookup(tags, "t"); ok {
		if s.created, ok = parseDKIMDecimal(t, dkimMaxTimestampDigits); !ok {
			bad("t", "invalid timestamp")
			return
		}
	}
	if x, ok := dkimTagLookup(tags, "x"); ok {
		if s.expires, ok = parseDKIMDecimal(x, dkimMaxTimestampDigits); !ok {
			bad("x", "invalid timestamp")
			return
		}
		if s.created >= 0 && s.expires <= s.created {
			bad("x", "expiry not after t= in")
			return
		}
	}
	var err error
	if s.bodyHash, err = decodeDKIMBase64(mustDKIMTag(tags, "bh")); err != nil || len(s.bodyHash) == 0 {
		s.invalid(DKIMReasonSignatureTag, "bh", "invalid base64", err)
		return
	}
	for _, t := range tags {
		if t.name == "b" {
			s.bStart, s.bEnd = t.start, t.end
			if s.sig, err = decodeDKIMBase64(t.value); err != nil || len(s.sig) == 0 {
				s.invalid(DKIMReasonSignatureTag, "b", "invalid base64", err)
				return
			}
		}
	}
}

func mustDKIMTag(tags []dkimTag, name string) string {
	v, _ := dkimTagLookup(tags, name)
	return v
}

func dkimCanonName(s string) (relaxed, ok bool) {
	switch s {
	case "simple":
		return false, true
	case "relaxed":
		return true, true
	}
	return false, false
}

// parseDKIMDecimal parses 1 to maxDigits decimal digits; values beyond
// int64 saturate (only l= can have that many digits, and no body is
// that long).
func parseDKIMDecimal(s string, maxDigits int) (int64, bool) {
	if s == "" || len(s) > maxDigits {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if !isDKIMDigit(s[i]) {
			return 0, false
		}
		if n > (1<<63-1-9)/10 {
			n = 1<<63 - 1
			continue
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

// isDKIMDomainName reports whether s is a dot-separated sequence of at
// least minLabels labels of letters, digits, hyphens (not at either end)
// and underscores, each at most 63 octets, at most 253 in all. The
// underscore is not in RFC 6376's grammar but occurs in DNS names and
// is harmless in a query.
func isDKIMDomainName(s string, minLabels int) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	labels := 0
	for label := range strings.SplitSeq(s, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !isDKIMAlpha(c) && !isDKIMDigit(c) && c != '-' && c != '_' {
				return false
			}
		}
		labels++
	}
	return labels >= minLabels
}

// isDKIMFieldName reports whether s is an RFC 5322 field name.
func isDKIMFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

// quoteDKIM quotes remote text for an error message, shortened.
func quoteDKIM(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
