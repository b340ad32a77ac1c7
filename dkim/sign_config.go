package dkim

import (
	"crypto"
	"fmt"
	"strings"
	"time"
)

// SignerConfig is the DKIM part of an Exim smtp transport: the
// dkim_* options. NewSigner checks it and loads the keys.
type SignerConfig struct {
	// Domains are dkim_domain, each with its dkim_selector list: one
	// signature is made per (domain, selector), in this order. RSA and
	// Ed25519 dual signing is two selectors of one domain.
	Domains []SignDomain

	// Canon is dkim_canon: "relaxed" (the default) or "simple", for
	// header and body alike; "header/body" ("relaxed/simple") sets
	// them apart.
	Canon string

	// Hash is dkim_hash: "sha256" (the default), "sha1" (deprecated
	// by RFC 8301; verifiers may reject it) or "sha512" (Exim's
	// extension: rsa-sha512, ed25519-sha512; few verifiers know it).
	Hash string

	// Identity is dkim_identity, the i= tag ("[local-part]@domain");
	// "" leaves i= out. Its domain must be each signing domain or a
	// subdomain of it (RFC 6376 §3.5).
	Identity string

	// Timestamps is dkim_timestamps: when positive, each signature
	// gets t= (now) and x= (now + Timestamps). Zero: neither.
	Timestamps time.Duration

	// SignHeaders is dkim_sign_headers, a colon-separated list of
	// header names; "" means DefaultSignHeaders. A plain name signs
	// one instance per mention, the last instance first, and a
	// mention with no instance left is listed anyway (the header's
	// absence is signed). "=Name" signs every instance present;
	// "+Name" every instance present plus one absent one
	// (oversigning: no instance can be added later). The list must
	// name From (RFC 6376 §5.4).
	SignHeaders string

	// Strict is dkim_strict: when set, Sign returns a *SignError when
	// a signature cannot be made, and the caller should defer the
	// message. When clear, the message goes out unsigned and
	// SignResult.Err says why.
	Strict bool

	// Now is the clock for t= and x=; nil means time.Now.
	Now func() time.Time
}

// SignDomain is one dkim_domain with its selectors.
type SignDomain struct {
	Domain    string // d=, ASCII (A-labels)
	Selectors []SignSelector
}

// SignSelector is one dkim_selector with its dkim_private_key.
type SignSelector struct {
	Selector string // s=

	// PrivateKey is dkim_private_key: the key as PEM text (PKCS #1
	// "RSA PRIVATE KEY" or PKCS #8 "PRIVATE KEY", RSA of at least
	// 1024 bits or Ed25519; an Ed25519 key may also be the base64 of
	// its 32-byte seed), or the absolute path ("/...") of a file
	// holding it. A file is read again when its size, modification
	// time or identity changes, so keys rotate without a restart.
	// "", "0" and "false" mean: no signature for this selector.
	PrivateKey string
}

// DefaultSignHeaders is Exim's default dkim_sign_headers (the
// _DKIM_SIGN_HEADERS macro): the header fields RFC 4871 lists.
const DefaultSignHeaders = "From:Sender:Reply-To:Subject:Date:" +
	"Message-ID:To:Cc:MIME-Version:Content-Type:" +
	"Content-Transfer-Encoding:Content-ID:" +
	"Content-Description:Resent-Date:Resent-From:" +
	"Resent-Sender:Resent-To:Resent-Cc:" +
	"Resent-Message-ID:In-Reply-To:References:" +
	"List-Id:List-Help:List-Unsubscribe:" +
	"List-Subscribe:List-Post:List-Owner:List-Archive"

// OversignHeaders is Exim's _DKIM_OVERSIGN_HEADERS: DefaultSignHeaders
// with every name oversigned ("+").
const OversignHeaders = "+From:+Sender:+Reply-To:+Subject:+Date:" +
	"+Message-ID:+To:+Cc:+MIME-Version:+Content-Type:" +
	"+Content-Transfer-Encoding:+Content-ID:" +
	"+Content-Description:+Resent-Date:+Resent-From:" +
	"+Resent-Sender:+Resent-To:+Resent-Cc:" +
	"+Resent-Message-ID:+In-Reply-To:+References:" +
	"+List-Id:+List-Help:+List-Unsubscribe:" +
	"+List-Subscribe:+List-Post:+List-Owner:+List-Archive"

// SignConfigError reports a SignerConfig NewSigner cannot use.
type SignConfigError struct {
	Field string // "Domains", "Selector", "PrivateKey", "Canon", "Hash", "Identity", "Timestamps" or "SignHeaders"
	Value string // the value at fault (never a key's text)
	Msg   string
	Err   error
}

func (e *SignConfigError) Error() string {
	s := fmt.Sprintf("dkim: NewSigner: %s: %q: %s", e.Field, e.Value, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *SignConfigError) Unwrap() error { return e.Err }

// signCanonNames parses dkim_canon.
func signCanonNames(s string) (header, body bool, ok bool) {
	if s == "" {
		return true, true, true
	}
	h, b, two := strings.Cut(s, "/")
	hr, ok1 := signCanonWord(h)
	if !two {
		return hr, hr, ok1
	}
	br, ok2 := signCanonWord(b)
	return hr, br, ok1 && ok2
}

func signCanonWord(s string) (relaxed, ok bool) {
	switch s {
	case "relaxed":
		return true, true
	case "simple":
		return false, true
	}
	return false, false
}

func signCanonString(relaxed bool) string {
	if relaxed {
		return "relaxed"
	}
	return "simple"
}

// signHashByName maps dkim_hash.
func signHashByName(s string) (crypto.Hash, string, bool) {
	switch s {
	case "", "sha256":
		return crypto.SHA256, "sha256", true
	case "sha1":
		return crypto.SHA1, "sha1", true
	case "sha512":
		return crypto.SHA512, "sha512", true
	}
	return 0, "", false
}

// signIsDomain checks a d= or s= value: dot-separated labels of
// letters, digits, '-' and '_' (selectors and some d= use it), none
// empty or over 63 octets, at most 253 in all.
func signIsDomain(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// signIdentityFits reports whether i='s domain is d or a subdomain.
func signIdentityFits(identity, domain string) bool {
	at := strings.LastIndexByte(identity, '@')
	if at < 0 {
		return false
	}
	id := strings.ToLower(identity[at+1:])
	d := strings.ToLower(domain)
	return id == d || strings.HasSuffix(id, "."+d)
}

// signQuoteIdentity encodes i= as dkim-quoted-printable (RFC 6376
// §2.11): anything but the safe characters as =XX, so the tag is 7-bit
// and cannot break the tag list.
func signQuoteIdentity(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c > ' ' && c < 0x7f && c != ';' && c != '=' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	return b.String()
}
