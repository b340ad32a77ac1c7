package report

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/net/idna"

	"github.com/mailpolicy/mailpolicy/resolver"
)

// Resolver is the DNS access the destination check needs: TXT records.
// *resolver.Resolver satisfies it; errors are classified as that
// package's (resolver.IsNoRecord for "no such record").
type Resolver interface {
	LookupTXT(ctx context.Context, name string) (txt []string, authentic bool, err error)
}

// Verification is the outcome of RFC 9990 §4 for one destination.
type Verification struct {
	// External is true when the destination host is outside the policy
	// domain's organizational domain, so the DNS had to authorize it.
	External bool
	// Authorized says whether reports may go to the destination (or to
	// Override): always for a destination that is not External.
	Authorized bool
	// Name is the TXT name asked, <policy domain>._report._dmarc.<host>,
	// when External.
	Name string
	// Override holds the URIs of the authorizing record's own rua= (or
	// ruf=) tag, which replace the destination (RFC 9990 §4 step 9). They
	// all have the destination's host: were one to name another, the
	// destination would not be Authorized at all.
	Override []Destination
}

// VerifyError is a destination check that could not be completed: the
// TXT lookup failed for a reason other than there being no record
// (errors.Is resolver.ErrTemporary for timeouts and SERVFAIL). RFC 9990
// lets the receiver try again later.
type VerifyError struct {
	Name string
	Err  error
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("report: verifying external destination %s: %v", e.Name, e.Err)
}

func (e *VerifyError) Unwrap() error { return e.Err }

// VerifyDestination reports whether aggregate reports for policyDomain
// may be sent to d (RFC 9990 §4): true without a lookup when d's host
// has policyDomain's organizational domain (by the Public Suffix List),
// else true only when a TXT record at
// <policyDomain>._report._dmarc.<host> starts with v=DMARC1. No record,
// a name too long for the DNS, a host that is not a domain name and an
// authorizing record whose rua= names another host all give false
// without an error; a failed lookup gives false and a *VerifyError. See
// CheckDestination for the override the authorizing record may carry.
func VerifyDestination(ctx context.Context, r Resolver, policyDomain string, d Destination) (bool, error) {
	v, err := CheckDestination(ctx, r, policyDomain, d, "rua")
	return v.Authorized, err
}

// CheckDestination is VerifyDestination with the whole outcome; tag is
// the tag of the authorizing record that may override the destination:
// "rua" for aggregate reports, "ruf" for failure reports (RFC 9991 §5).
func CheckDestination(ctx context.Context, r Resolver, policyDomain string, d Destination, tag string) (Verification, error) {
	host := d.Host()
	pd, err := idna.Lookup.ToASCII(strings.TrimSuffix(policyDomain, "."))
	if err != nil || !hostname(pd) || !hostname(host) {
		return Verification{External: true}, nil
	}
	pd = strings.ToLower(pd)
	if host == pd || orgDomain(pd) != "" && orgDomain(pd) == orgDomain(host) {
		return Verification{Authorized: true}, nil
	}
	v := Verification{External: true, Name: pd + "._report._dmarc." + host}
	if len(v.Name) > 253 {
		return v, nil
	}
	txts, _, err := r.LookupTXT(ctx, v.Name)
	if err != nil {
		if resolver.IsNoRecord(err) {
			return v, nil
		}
		return v, &VerifyError{Name: v.Name, Err: err}
	}
	for _, txt := range txts {
		tags, ok := authorizingTags(txt)
		if !ok {
			continue
		}
		if over, ok := tags[tag]; ok {
			dests, _ := ParseDestinations(over)
			for _, o := range dests {
				if o.Host() != host {
					// RFC 9990 §4: neither the original nor the override.
					return v, nil
				}
			}
			v.Override = dests
		}
		v.Authorized = true
		return v, nil
	}
	return v, nil
}

// authorizingTags parses a TXT record as a DMARC tag list (RFC 9989
// §4.7) that starts with v=DMARC1, returning its tags by lower-case
// name; ok is false for anything else.
func authorizingTags(txt string) (map[string]string, bool) {
	tags := map[string]string{}
	for i, part := range strings.Split(txt, ";") {
		part = strings.Trim(part, " \t\r\n")
		if part == "" {
			if i == 0 {
				return nil, false
			}
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		name, value = strings.TrimRight(name, " \t"), strings.TrimLeft(value, " \t")
		if !ok || !tagName(name) {
			return nil, false
		}
		if i == 0 && (name != "v" || value != "DMARC1") {
			return nil, false
		}
		tags[strings.ToLower(name)] = value
	}
	return tags, len(tags) > 0
}

func tagName(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlpha(c) && !(c >= '0' && c <= '9') && c != '_' {
			return false
		}
	}
	return true
}
