package dkim

import (
	"crypto"
	"strconv"
	"strings"
)

// signature is one DKIM-Signature field, parsed.
type signature struct {
	field    int    // index of the field in the message header
	ordinal  int    // position among the message's DKIM-Signature fields
	keyType  string // "rsa" or "ed25519"; "" when a= is missing or unknown
	hashName string // "sha1", "sha256" or "sha512"
	hash     crypto.Hash

	// As reported in Result: the tag values without whitespace.
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
	err *Error
}

func (s *signature) algorithm() string { return s.keyType + "-" + s.hashName }

// hashByName maps the hash names Verify knows, in a= and in
// WithHashes, to their crypto.Hash.
func hashByName(name string) (crypto.Hash, bool) {
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

// isKeyType reports whether Verify knows the key type name, in
// a=, k= and WithKeyTypes.
func isKeyType(name string) bool { return name == "rsa" || name == "ed25519" }

// maxTimestamp bounds t= and x= (RFC 6376 §3.5: at most 12 digits).
const maxTimestampDigits = 12

// parseSignature parses the value of a DKIM-Signature field (the
// text after the colon, folding included). It never fails: a malformed
// signature comes back with err set, and with keyType "" if its a= tag
// cannot be read at all (Verify then drops it, as Exim drops a
// signature whose algorithm it does not know).
//
// The checks are those of RFC 6376 §3.5 and §6.1.1: v=1; a=, b=, bh=,
// d=, h= and s= present; a= naming a known key type and hash; c= simple
// or relaxed; d= and s= domain names; h= field names including From;
// i= within d=; l=, t= and x= decimal (x= after t=); q= including
// dns/txt; b= and bh= base64.
func parseSignature(value string) *signature {
	s := &signature{bodyLen: -1, created: -1, expires: -1}
	tags, perr := parseTagList(value)
	if perr != nil {
		tags = lenientTags(value)
	}
	if a, ok := tagLookup(tags, "a"); ok {
		k, h, _ := strings.Cut(strings.ToLower(strings.Trim(a, " \t\r\n")), "-")
		if hash, ok := hashByName(h); ok && isKeyType(k) {
			s.keyType, s.hashName, s.hash = k, h, hash
		}
	}
	if d, ok := tagLookup(tags, "d"); ok {
		s.domain = stripFWS(d)
	}
	if sel, ok := tagLookup(tags, "s"); ok {
		s.selector = stripFWS(sel)
	}
	if i, ok := tagLookup(tags, "i"); ok {
		s.identifier = stripFWS(i)
	}
	if perr != nil {
		s.invalid(ReasonSignatureTag, "", "malformed tag list", perr)
		return s
	}
	s.check(tags)
	return s
}

func (s *signature) invalid(reason Reason, tag, msg string, err error) {
	s.err = &Error{Reason: reason, Tag: tag, Msg: msg, Err: err}
}

// check validates the tags one by one, stopping at the first problem.
func (s *signature) check(tags []tagSpec) {
	v, ok := tagLookup(tags, "v")
	if !ok {
		s.invalid(ReasonSignatureTag, "v", "required tag missing", nil)
		return
	}
	if v != "1" {
		s.invalid(ReasonVersion, "v", "unsupported version "+quoteValue(v), nil)
		return
	}
	for _, name := range []string{"a", "b", "bh", "d", "h", "s"} {
		if _, ok := tagLookup(tags, name); !ok {
			s.invalid(ReasonSignatureTag, name, "required tag missing", nil)
			return
		}
	}
	if s.keyType == "" {
		a, _ := tagLookup(tags, "a")
		s.invalid(ReasonSignatureTag, "a", "unknown algorithm "+quoteValue(a), nil)
		return
	}
	bad := func(tag, msg string) {
		val, _ := tagLookup(tags, tag)
		s.invalid(ReasonSignatureTag, tag, msg+" "+quoteValue(val), nil)
	}
	d, _ := tagLookup(tags, "d")
	if !isDomainName(d, 2) {
		bad("d", "invalid domain")
		return
	}
	sel, _ := tagLookup(tags, "s")
	if !isDomainName(sel, 1) || len(sel)+len("._domainkey.")+len(d) > 253 {
		bad("s", "invalid selector")
		return
	}
	if c, ok := tagLookup(tags, "c"); ok {
		hc, bc, slash := strings.Cut(strings.ToLower(c), "/")
		var okH, okB bool
		s.headerRelaxed, okH = canonName(hc)
		s.bodyRelaxed, okB = false, true
		if slash {
			s.bodyRelaxed, okB = canonName(bc)
		}
		if !okH || !okB {
			bad("c", "unknown canonicalization")
			return
		}
	}
	h, _ := tagLookup(tags, "h")
	s.headers = splitColonList(h)
	from := false
	for _, name := range s.headers {
		if !isFieldName(name) {
			bad("h", "invalid header field list")
			return
		}
		from = from || strings.EqualFold(name, "from")
	}
	if !from {
		bad("h", "From not signed in")
		return
	}
	if i, ok := tagLookup(tags, "i"); ok {
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
	if l, ok := tagLookup(tags, "l"); ok {
		n, ok := parseDecimal(l, 76)
		if !ok {
			bad("l", "invalid body length")
			return
		}
		s.bodyLen = n
	}
	if q, ok := tagLookup(tags, "q"); ok {
		dns := false
		for _, m := range splitColonList(q) {
			dns = dns || strings.EqualFold(m, "dns/txt")
		}
		if !dns {
			bad("q", "no supported query method in")
			return
		}
	}
	if t, ok := tagLookup(tags, "t"); ok {
		if s.created, ok = parseDecimal(t, maxTimestampDigits); !ok {
			bad("t", "invalid timestamp")
			return
		}
	}
	if x, ok := tagLookup(tags, "x"); ok {
		if s.expires, ok = parseDecimal(x, maxTimestampDigits); !ok {
			bad("x", "invalid timestamp")
			return
		}
		if s.created >= 0 && s.expires <= s.created {
			bad("x", "expiry not after t= in")
			return
		}
	}
	var err error
	if s.bodyHash, err = decodeBase64(mustTag(tags, "bh")); err != nil || len(s.bodyHash) == 0 {
		s.invalid(ReasonSignatureTag, "bh", "invalid base64", err)
		return
	}
	for _, t := range tags {
		if t.name == "b" {
			s.bStart, s.bEnd = t.start, t.end
			if s.sig, err = decodeBase64(t.value); err != nil || len(s.sig) == 0 {
				s.invalid(ReasonSignatureTag, "b", "invalid base64", err)
				return
			}
		}
	}
}

func mustTag(tags []tagSpec, name string) string {
	v, _ := tagLookup(tags, name)
	return v
}

func canonName(s string) (relaxed, ok bool) {
	switch s {
	case "simple":
		return false, true
	case "relaxed":
		return true, true
	}
	return false, false
}

// parseDecimal parses 1 to maxDigits decimal digits; values beyond
// int64 saturate (only l= can have that many digits, and no body is
// that long).
func parseDecimal(s string, maxDigits int) (int64, bool) {
	if s == "" || len(s) > maxDigits {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
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

// isDomainName reports whether s is a dot-separated sequence of at
// least minLabels labels of letters, digits, hyphens (not at either end)
// and underscores, each at most 63 octets, at most 253 in all. The
// underscore is not in RFC 6376's grammar but occurs in DNS names and
// is harmless in a query.
func isDomainName(s string, minLabels int) bool {
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
			if !isAlpha(c) && !isDigit(c) && c != '-' && c != '_' {
				return false
			}
		}
		labels++
	}
	return labels >= minLabels
}

// isFieldName reports whether s is an RFC 5322 field name.
func isFieldName(s string) bool {
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

// quoteValue quotes remote text for an error message, shortened.
func quoteValue(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
