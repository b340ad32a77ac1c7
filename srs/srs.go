package srs

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Scheme selects the address format.
type Scheme int

const (
	// Guarded is the de-facto SRS0/SRS1 format of Mail::SRS (its
	// "Guarded" class) and postsrsd: HMAC-SHA1, base64 hash, upper-case
	// base32 day stamp. It is the default.
	Guarded Scheme = iota
	// Exim is Exim's native ${srs_encode} / inbound_srs format (SRS0
	// only, HMAC-MD5, 4 hex characters, lower-case day stamp, 10 days).
	Exim
)

func (s Scheme) String() string {
	switch s {
	case Guarded:
		return "guarded"
	case Exim:
		return "exim"
	}
	return fmt.Sprintf("Scheme(%d)", int(s))
}

// Encoding is the alphabet of a Guarded hash on Forward. Reverse accepts
// both.
type Encoding int

const (
	// Base64 uses "+" and "/" (Mail::SRS, postsrsd 1.x). Default.
	Base64 Encoding = iota
	// Base64URL uses "-" and "_" (postsrsd 2.x).
	Base64URL
)

// Defaults.
const (
	DefaultHashLength       = 4
	DefaultMaxAgeDays       = 21 // postsrsd; Mail::SRS uses 49
	EximMaxAgeDays          = 10
	DefaultMaxAddressLength = 512 // postsrsd's limit
	// MaxLocalPartLength is the RFC 5321 limit above which a Rewriter
	// with a Store switches to database mode.
	MaxLocalPartLength = 64
)

// Config configures a Rewriter. Only Domain and Secrets are required.
type Config struct {
	// Domain is the SRS domain put after "@" by Forward.
	Domain string
	// LocalDomains are domains (besides Domain) whose addresses Forward
	// leaves alone, as postsrsd does. Compared case-insensitively.
	LocalDomains []string
	// Secrets: Forward signs with the first; Reverse accepts a hash made
	// with any of them (key rotation). At least one non-empty secret.
	Secrets []string
	// Scheme: Guarded (default) or Exim.
	Scheme Scheme
	// Separator is the initial separator after SRS0/SRS1 on Forward:
	// '=', '+' or '-'. 0 means '='. Reverse accepts all three. Must be
	// 0 or '=' with the Exim scheme.
	Separator byte
	// HashLength is the number of hash characters Forward emits, 0 means
	// 4. Reverse compares at most this many. Fixed at 4 for Exim.
	HashLength int
	// HashMin is the shortest hash Reverse accepts; 0 means HashLength.
	HashMin int
	// MaxAgeDays is how many days a timestamp stays valid; 0 means 21
	// (10 for Exim). Negative is an error.
	MaxAgeDays int
	// HashEncoding is the alphabet of the Forward hash (Guarded only).
	HashEncoding Encoding
	// MaxAddressLength bounds the input of Forward and Reverse; 0 means
	// 512.
	MaxAddressLength int
	// Store, if set, enables database mode (Guarded only): when the
	// local part of a new SRS0 address would exceed 64 octets, Forward
	// stores the original under an opaque key and returns
	// SRS0=HHHH=TT=1=KEY@Domain, which Reverse resolves through Store.
	Store Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Rewriter forwards and reverses addresses. It is immutable and safe for
// concurrent use (as safe as its Store).
type Rewriter struct {
	domain  string
	locals  []string
	secrets [][]byte
	scheme  Scheme
	sep     byte
	hashLen int
	hashMin int
	maxAge  int
	enc     *base64.Encoding
	maxLen  int
	store   Store
	now     func() time.Time
}

// New validates cfg and returns a Rewriter.
func New(cfg Config) (*Rewriter, error) {
	r := &Rewriter{
		domain:  cfg.Domain,
		scheme:  cfg.Scheme,
		sep:     cfg.Separator,
		hashLen: cfg.HashLength,
		hashMin: cfg.HashMin,
		maxAge:  cfg.MaxAgeDays,
		maxLen:  cfg.MaxAddressLength,
		store:   cfg.Store,
		now:     cfg.Now,
	}
	if cfg.Domain == "" || strings.ContainsAny(cfg.Domain, "@ \t\r\n") {
		return nil, fmt.Errorf("srs: invalid Domain %q", cfg.Domain)
	}
	if len(cfg.Secrets) == 0 {
		return nil, errors.New("srs: no secret")
	}
	for i, s := range cfg.Secrets {
		if s == "" {
			return nil, fmt.Errorf("srs: secret %d is empty", i+1)
		}
		r.secrets = append(r.secrets, []byte(s))
	}
	r.locals = append(r.locals, strings.ToLower(cfg.Domain))
	for _, d := range cfg.LocalDomains {
		r.locals = append(r.locals, strings.ToLower(d))
	}
	if r.sep == 0 {
		r.sep = '='
	}
	if r.maxLen == 0 {
		r.maxLen = DefaultMaxAddressLength
	}
	if r.maxLen < 0 {
		return nil, fmt.Errorf("srs: negative MaxAddressLength %d", r.maxLen)
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.maxAge < 0 {
		return nil, fmt.Errorf("srs: negative MaxAgeDays %d", r.maxAge)
	}
	switch cfg.Scheme {
	case Guarded:
		if r.sep != '=' && r.sep != '+' && r.sep != '-' {
			return nil, fmt.Errorf("srs: invalid Separator %q (want '=', '+' or '-')", r.sep)
		}
		if r.hashLen == 0 {
			r.hashLen = DefaultHashLength
		}
		if r.hashLen < 1 || r.hashLen > 27 {
			return nil, fmt.Errorf("srs: HashLength %d out of range 1..27", r.hashLen)
		}
		if r.hashMin == 0 {
			r.hashMin = r.hashLen
		}
		if r.hashMin < 1 || r.hashMin > r.hashLen {
			return nil, fmt.Errorf("srs: HashMin %d out of range 1..HashLength", r.hashMin)
		}
		if r.maxAge == 0 {
			r.maxAge = DefaultMaxAgeDays
		}
		switch cfg.HashEncoding {
		case Base64:
			r.enc = base64.StdEncoding
		case Base64URL:
			r.enc = base64.URLEncoding
		default:
			return nil, fmt.Errorf("srs: invalid HashEncoding %d", cfg.HashEncoding)
		}
	case Exim:
		if r.sep != '=' {
			return nil, fmt.Errorf("srs: the Exim scheme has no separator option (got %q)", r.sep)
		}
		if (r.hashLen != 0 && r.hashLen != 4) || (r.hashMin != 0 && r.hashMin != 4) {
			return nil, errors.New("srs: the Exim scheme's hash length is fixed at 4")
		}
		if cfg.Store != nil {
			return nil, errors.New("srs: the Exim scheme has no database mode")
		}
		r.hashLen, r.hashMin = 4, 4
		if r.maxAge == 0 {
			r.maxAge = EximMaxAgeDays
		}
	default:
		return nil, fmt.Errorf("srs: unknown Scheme %d", cfg.Scheme)
	}
	if r.maxAge > 1023 {
		return nil, fmt.Errorf("srs: MaxAgeDays %d does not fit the 1024-day stamp cycle", r.maxAge)
	}
	return r, nil
}

// Scheme returns the configured scheme.
func (r *Rewriter) Scheme() Scheme { return r.scheme }

const stampAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// day returns the day number (days since the Unix epoch) of t.
func day(t time.Time) int64 {
	u := t.Unix()
	d := u / 86400
	if u < 0 && u%86400 != 0 {
		d--
	}
	return d
}

// Timestamp returns the 2-character upper-case base32 day stamp of t
// used by the Guarded scheme (the Exim scheme uses its lower case).
func Timestamp(t time.Time) string {
	d := day(t) & 1023
	return string([]byte{stampAlphabet[d>>5], stampAlphabet[d&31]})
}

// decodeStamp decodes a 2-character stamp case-insensitively.
func decodeStamp(s string) (int64, bool) {
	if len(s) != 2 {
		return 0, false
	}
	var v int64
	for i := 0; i < 2; i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		n := strings.IndexByte(stampAlphabet, c)
		if n < 0 {
			return 0, false
		}
		v = v<<5 | int64(n)
	}
	return v, true
}

// checkStamp reports whether stamp is within maxAge days of now; a stamp
// from the future is invalid (it looks about 1023 days old).
func (r *Rewriter) checkStamp(stamp string) error {
	then, ok := decodeStamp(stamp)
	if !ok {
		return fmt.Errorf("%w: invalid timestamp %q", ErrFormat, stamp)
	}
	now := day(r.now()) & 1023
	if now < then {
		now += 1024
	}
	if now > then+int64(r.maxAge) {
		return fmt.Errorf("%w: stamp %s is %d days old (max %d)", ErrExpired, stamp, now-then, r.maxAge)
	}
	return nil
}

// splitAddr splits at the last "@".
func splitAddr(addr string) (local, domain string, ok bool) {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return addr, "", false
	}
	return addr[:i], addr[i+1:], true
}

func isSep(c byte) bool { return c == '=' || c == '+' || c == '-' }

// tag reports whether local starts with tag (case-insensitive) followed by a
// separator.
func hasTag(local, tag string) bool {
	return len(local) > len(tag) && strings.EqualFold(local[:len(tag)], tag) && isSep(local[len(tag)])
}

// IsSRS reports whether addr (or a bare local part) looks like an SRS
// address of r's scheme: SRS0 or SRS1 followed by a separator for
// Guarded, SRS0= for Exim. It does not check the hash or timestamp.
func (r *Rewriter) IsSRS(addr string) bool {
	local, _, _ := splitAddr(addr)
	if r.scheme == Exim {
		local = unquote(local)
		return len(local) > 5 && strings.EqualFold(local[:5], "SRS0=")
	}
	return IsSRS(addr)
}

// IsSRS reports whether addr (or a bare local part) starts with SRS0 or
// SRS1 (any case) followed by '=', '+' or '-', the Guarded test.
func IsSRS(addr string) bool {
	local, _, _ := splitAddr(addr)
	return hasTag(local, "SRS0") || hasTag(local, "SRS1")
}

func (r *Rewriter) isLocal(domain string) bool {
	for _, d := range r.locals {
		if strings.EqualFold(d, domain) {
			return true
		}
	}
	return false
}

// guardedHash computes the full base64 (standard alphabet) HMAC-SHA1 of
// the lower-cased concatenation of parts with secret.
func guardedHash(secret []byte, parts ...string) [28]byte {
	m := hmac.New(sha1.New, secret)
	var buf [64]byte
	for _, p := range parts {
		for len(p) > 0 {
			n := copy(buf[:], p)
			for i, c := range buf[:n] {
				if 'A' <= c && c <= 'Z' {
					buf[i] = c + 'a' - 'A'
				}
			}
			m.Write(buf[:n])
			p = p[n:]
		}
	}
	var sum [20]byte
	m.Sum(sum[:0])
	var out [28]byte
	base64.StdEncoding.Encode(out[:], sum[:])
	return out
}

// lowerBytes is ASCII lower-casing (Perl's lc on bytes, postsrsd's
// tolower); non-ASCII bytes are kept.
func lowerBytes(s string) []byte {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}

func (r *Rewriter) sign(parts ...string) string {
	h := guardedHash(r.secrets[0], parts...)
	if r.enc == base64.URLEncoding {
		for i, c := range h[:r.hashLen] {
			switch c {
			case '+':
				h[i] = '-'
			case '/':
				h[i] = '_'
			}
		}
	}
	return string(h[:r.hashLen])
}

// foldHash maps a hash character to its comparison form: lower case,
// base64url folded onto base64.
func foldHash(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A'
	case c == '-':
		return '+'
	case c == '_':
		return '/'
	}
	return c
}

// verify checks a Guarded hash against every secret in constant time
// (with respect to the hash contents and which secret matched).
func (r *Rewriter) verify(given string, parts ...string) error {
	if len(given) < r.hashMin {
		return fmt.Errorf("%w: hash %q shorter than %d characters", ErrHash, given, r.hashMin)
	}
	if len(given) > r.hashLen {
		given = given[:r.hashLen]
	}
	var gb [27]byte
	g := gb[:len(given)]
	for i := 0; i < len(given); i++ {
		g[i] = foldHash(given[i])
	}
	ok := 0
	for _, s := range r.secrets {
		h := guardedHash(s, parts...)
		w := h[:len(g)]
		for i := range w {
			w[i] = foldHash(w[i])
		}
		ok |= subtle.ConstantTimeCompare(g, w)
	}
	if ok != 1 {
		return fmt.Errorf("%w: %q", ErrHash, given)
	}
	return nil
}

// Forward rewrites the envelope sender addr for forwarding by r's
// domain. Addresses in Domain or LocalDomains are returned unchanged
// (postsrsd's "need not rewrite local domain"). With the Guarded
// scheme an SRS0 address becomes SRS1 and an SRS1 address gets a new
// SRS1 hash and domain, keeping the first hop's domain and opaque part.
func (r *Rewriter) Forward(addr string) (string, error) {
	if len(addr) > r.maxLen {
		return "", fmt.Errorf("%w: %d octets (max %d)", ErrTooLong, len(addr), r.maxLen)
	}
	if err := checkSafe(addr); err != nil {
		return "", err
	}
	local, domain, ok := splitAddr(addr)
	if !ok || domain == "" {
		return "", fmt.Errorf("%w: no domain in %q", ErrFormat, addr)
	}
	if local == "" {
		return "", fmt.Errorf("%w: empty local part in %q", ErrFormat, addr)
	}
	if r.isLocal(domain) {
		return addr, nil
	}
	if r.scheme == Exim {
		return r.eximForward(local, domain)
	}
	sep := string(r.sep)
	if hasTag(local, "SRS1") {
		f := strings.SplitN(local[5:], "=", 3)
		if len(f) == 3 && f[1] != "" && f[2] != "" {
			host, rest := f[1], f[2]
			return "SRS1" + sep + r.sign(host, rest) + "=" + host + "=" + rest + "@" + r.domain, nil
		}
	}
	if hasTag(local, "SRS0") {
		rest := local[4:]
		return "SRS1" + sep + r.sign(domain, rest) + "=" + domain + "=" + rest + "@" + r.domain, nil
	}
	ts := Timestamp(r.now())
	out := "SRS0" + sep + r.sign(ts, domain, local) + "=" + ts + "=" + domain + "=" + local
	if r.store != nil && len(out) > MaxLocalPartLength {
		return r.databaseForward(addr, ts)
	}
	return out + "@" + r.domain, nil
}

// dbKey derives the opaque database key for addr: 32 base32 characters
// of an HMAC, so re-forwarding an address reuses (and refreshes) its key.
func (r *Rewriter) dbKey(addr string) string {
	m := hmac.New(sha1.New, r.secrets[0])
	m.Write([]byte("srs-database-key\x00"))
	m.Write([]byte(addr))
	return base32.StdEncoding.EncodeToString(m.Sum(nil))
}

func (r *Rewriter) databaseForward(addr, ts string) (string, error) {
	key := r.dbKey(addr)
	exp := r.now().Add(time.Duration(r.maxAge+1) * 24 * time.Hour)
	if err := r.store.Put(key, addr, exp); err != nil {
		return "", fmt.Errorf("srs: store: %w", err)
	}
	return "SRS0" + string(r.sep) + r.sign(ts, "1", key) + "=" + ts + "=1=" + key + "@" + r.domain, nil
}

// Reverse recovers the address an SRS address was made from, after
// checking its hash (against every secret) and timestamp. The domain
// after "@" is not checked. Errors wrap ErrNotSRS, ErrFormat, ErrHash,
// ErrExpired, ErrTooLong, ErrUnsafe or ErrUnknownAlias.
//
// For SRS1 the result is the SRS0 address of the first hop,
// "SRS0<rest>@first-domain" (the tag re-emitted in upper case).
func (r *Rewriter) Reverse(addr string) (string, error) {
	if len(addr) > r.maxLen {
		return "", fmt.Errorf("%w: %d octets (max %d)", ErrTooLong, len(addr), r.maxLen)
	}
	if err := checkSafe(addr); err != nil {
		return "", err
	}
	out, err := r.reverse(addr)
	if err != nil {
		return "", err
	}
	// A Store may be shared with other software: its answer is checked
	// like the input.
	if err := checkSafe(out); err != nil {
		return "", err
	}
	return out, nil
}

// checkSafe refuses control characters. Space (legal in a quoted local
// part) and 8-bit bytes (UTF-8 local parts and domains, RFC 6531) are
// kept: Mail::SRS, postsrsd and Exim sign them too.
func checkSafe(addr string) error {
	for i := 0; i < len(addr); i++ {
		if c := addr[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("%w: byte 0x%02x at offset %d", ErrUnsafe, c, i)
		}
	}
	return nil
}

func (r *Rewriter) reverse(addr string) (string, error) {
	local, _, _ := splitAddr(addr)
	if r.scheme == Exim {
		return r.eximReverse(local)
	}
	switch {
	case hasTag(local, "SRS0"):
		f := strings.SplitN(local[5:], "=", 4)
		if f[0] == "" {
			return "", fmt.Errorf("%w: no hash in SRS0 address", ErrFormat)
		}
		if len(f) < 2 {
			return "", fmt.Errorf("%w: no timestamp in SRS0 address", ErrFormat)
		}
		if len(f) < 3 || f[2] == "" {
			return "", fmt.Errorf("%w: no host in SRS0 address", ErrFormat)
		}
		if len(f) < 4 || f[3] == "" {
			return "", fmt.Errorf("%w: no user in SRS0 address", ErrFormat)
		}
		hash, ts, host, user := f[0], f[1], f[2], f[3]
		if err := r.checkStamp(ts); err != nil {
			return "", err
		}
		if err := r.verify(hash, ts, host, user); err != nil {
			return "", err
		}
		if host == "1" {
			if r.store == nil {
				return "", fmt.Errorf("%w: database alias %s but no Store", ErrUnknownAlias, user)
			}
			orig, ok, err := r.store.Get(strings.ToUpper(user), r.now())
			if err != nil {
				return "", fmt.Errorf("srs: store: %w", err)
			}
			if !ok {
				return "", fmt.Errorf("%w: %s", ErrUnknownAlias, user)
			}
			return orig, nil
		}
		return user + "@" + host, nil
	case hasTag(local, "SRS1"):
		f := strings.SplitN(local[5:], "=", 3)
		if f[0] == "" {
			return "", fmt.Errorf("%w: no hash in SRS1 address", ErrFormat)
		}
		if len(f) < 2 || f[1] == "" {
			return "", fmt.Errorf("%w: no host in SRS1 address", ErrFormat)
		}
		if len(f) < 3 || f[2] == "" {
			return "", fmt.Errorf("%w: no opaque part in SRS1 address", ErrFormat)
		}
		hash, host, rest := f[0], f[1], f[2]
		if err := r.verify(hash, host, rest); err != nil {
			return "", err
		}
		return "SRS0" + rest + "@" + host, nil
	}
	return "", fmt.Errorf("%w: %q", ErrNotSRS, addr)
}

// eximHash is Exim's hash: the first 4 lower-case hex digits of
// HMAC-MD5(secret, msg).
func eximHash(secret []byte, msg string) [4]byte {
	m := hmac.New(md5.New, secret)
	m.Write([]byte(msg))
	var sum [16]byte
	m.Sum(sum[:0])
	var out [4]byte
	hex.Encode(out[:], sum[:2])
	return out
}
