package srs

import (
	"crypto/subtle"
	"fmt"
	"strings"
)

// unquote removes every double quote from a local part, as Exim's
// srs_encode does with a quoted local part.
func unquote(local string) string {
	if strings.IndexByte(local, '"') < 0 {
		return local
	}
	return strings.ReplaceAll(local, `"`, "")
}

// needsQuote is Exim's inbound_srs quoting test: a character that is not
// alphanumeric and not one of .!#$%&'*+-/=?^_`{|}~ (non-ASCII counts).
func needsQuote(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte(".!#$%&'*+-/=?^_`{|}~", c) >= 0:
		default:
			return true
		}
	}
	return false
}

// eximCanonical is the string both sides hash: lower-cased
// local@domain, the local part quoted when it needs quoting.
func eximCanonical(local, domain string) string {
	if needsQuote(local) {
		local = `"` + local + `"`
	}
	return string(lowerBytes(local + "@" + domain))
}

func (r *Rewriter) eximForward(local, domain string) (string, error) {
	plain := unquote(local)
	if plain == "" {
		return "", fmt.Errorf("%w: empty local part", ErrFormat)
	}
	h := eximHash(r.secrets[0], eximCanonical(plain, domain))
	ts := strings.ToLower(Timestamp(r.now()))
	out := "SRS0=" + string(h[:]) + "=" + ts + "=" + domain + "=" + plain
	if needsQuote(plain) {
		out = `"` + out + `"`
	}
	return out + "@" + r.domain, nil
}

func (r *Rewriter) eximReverse(local string) (string, error) {
	l := unquote(local)
	if len(l) < 5 || !strings.EqualFold(l[:5], "SRS0=") {
		return "", fmt.Errorf("%w: %q", ErrNotSRS, local)
	}
	// ^SRS0=([^=]+)=([A-Z2-7]{2})=([^=]*)=(.*)$, case-insensitive.
	f := strings.SplitN(l[5:], "=", 4)
	if len(f) < 4 || f[0] == "" {
		return "", fmt.Errorf("%w: %q does not match SRS0=HASH=TT=DOMAIN=LOCAL", ErrFormat, local)
	}
	hash, ts, domain, user := f[0], f[1], f[2], f[3]
	if domain == "" || user == "" {
		return "", fmt.Errorf("%w: empty domain or local part", ErrFormat)
	}
	if err := r.checkStamp(ts); err != nil {
		return "", err
	}
	if len(hash) != 4 {
		return "", fmt.Errorf("%w: %q is not 4 characters", ErrHash, hash)
	}
	canon := eximCanonical(user, domain)
	g := lowerBytes(hash)
	ok := 0
	for _, s := range r.secrets {
		w := eximHash(s, canon)
		ok |= subtle.ConstantTimeCompare(g, w[:])
	}
	if ok != 1 {
		return "", fmt.Errorf("%w: %q", ErrHash, hash)
	}
	return canon, nil
}
