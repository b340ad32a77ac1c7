package spf

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
)

// Outcome is everything one SPF evaluation produced, in the shape of
// Exim's $spf_* variables.
type Outcome struct {
	Result     Result
	Guessed    bool   // $spf_result_guessed: the best-guess record decided
	UsedDomain string // $spf_used_domain: sender domain, or HELO for <>
	Identity   string // "mfrom" or "helo" (the RFC 7208 identity checked)

	HeaderComment string // $spf_header_comment
	Received      string // $spf_received: a complete "Received-SPF: ..." line
	SMTPComment   string // $spf_smtp_comment: fail/softfail/neutral only
	Explanation   string // the explanation in SMTPComment: exp= text for fail, else the default
	Mechanism     string // the term that matched, "default" when none did

	Lookups     int  // DNS-querying terms evaluated (RFC 7208 §4.6.4)
	VoidLookups int  // lookups that returned no records
	Authentic   bool // every DNS answer used was DNSSEC-authenticated
	Err         error
}

// Check evaluates SPF for the MAIL FROM identity sender (or, for the
// null sender, postmaster@helo) as Exim does with libspf2, returning the
// result and Exim's variables.
func Check(ctx context.Context, ip netip.Addr, sender, helo string, opts ...Option) *Outcome {
	return check(ctx, ip, sender, helo, false, opts)
}

// CheckGuess is Check followed, when the result is None, by evaluation of
// the best-guess record (WithGuessRecord) for the same domain, as Exim's
// spf_guess condition does. Outcome.Guessed reports when it decided.
func CheckGuess(ctx context.Context, ip netip.Addr, sender, helo string, opts ...Option) *Outcome {
	return check(ctx, ip, sender, helo, true, opts)
}

// Lookup is Exim's ${lookup{address}spf{ip}}: a MAIL FROM check of
// address from ip with no HELO name, returning the bare result. The
// error is non-nil only when the arguments are unusable (an invalid IP
// or one with a zone, an empty or malformed address), the cases where
// Exim's lookup fails.
func Lookup(ctx context.Context, ip netip.Addr, address string, opts ...Option) (Result, error) {
	return lookup(ctx, ip, address, opts)
}

// checkState holds one evaluation: the Outcome handed back and the
// evaluator and configuration behind it, in a single allocation.
type checkState struct {
	o   Outcome
	e   evaluator
	cfg config
}

func check(ctx context.Context, ip netip.Addr, sender, helo string, guess bool, opts []Option) *Outcome {
	st := &checkState{}
	st.cfg.init(opts)
	cfg := &st.cfg
	ip = ip.Unmap()
	o := &st.o
	o.Identity, o.UsedDomain = "mfrom", sender
	full := sender
	if sender == "" {
		o.Identity = "helo"
		full = "postmaster@" + helo
		o.UsedDomain = helo
	}
	local, domain := splitSender(full)
	if sender != "" {
		o.UsedDomain = domain
	}
	// Exim exposes it as $spf_used_domain; remote text must stay one line.
	o.UsedDomain = sanitize(o.UsedDomain)
	e := &st.e
	*e = evaluator{cfg: cfg, ip: ip, sender: full, local: local, senderDomain: domain, helo: helo}
	if len(local)+1+len(domain) != len(full) {
		e.sender = local + "@" + domain // "postmaster" was supplied
	}
	var r hostResult
	switch {
	case !ip.IsValid():
		r = hostResult{result: PermError, err: &EvalError{Code: ErrCodeBadSender, Domain: domain}}
	case cfg.localhostPass && ip.IsLoopback():
		r = hostResult{result: Pass, reason: reasonLocalhost}
	default:
		e.res = cfg.dnsResolver()
		r = e.checkHost(ctx, domain, 0)
		if guess && r.result == None && validDomain(domain) {
			r = e.guess(ctx, domain)
			o.Guessed = true
		}
	}
	o.Result, o.Mechanism, o.Err = r.result, r.mech, r.err
	o.Lookups, o.VoidLookups = e.lookups, e.voids
	o.Authentic = e.dnsUsed && e.authentic
	e.finish(ctx, o, r)
	return o
}

// guess evaluates the best-guess record as if domain had published it,
// with fresh lookup counters (libspf2 runs it as a new query).
func (e *evaluator) guess(ctx context.Context, domain string) hostResult {
	rec, err := parseRecord(e.cfg.guessRecord)
	if err != nil {
		return hostResult{result: PermError, err: &guessSyntaxError{err}}
	}
	e.lookups, e.voids = 0, 0
	return e.evalRecord(ctx, &rec, domain, 0)
}

// guessSyntaxError marks a broken WithGuessRecord value: a configuration
// error, not a verdict about the domain.
type guessSyntaxError struct{ err error }

func (g *guessSyntaxError) Error() string { return "spf: invalid guess record: " + g.err.Error() }
func (g *guessSyntaxError) Unwrap() error { return g.err }

// splitSender splits at the last "@"; a missing or empty local part
// becomes "postmaster" (RFC 7208 §4.3).
func splitSender(s string) (local, domain string) {
	i := strings.LastIndexByte(s, '@')
	if i < 0 {
		return "postmaster", s
	}
	local, domain = s[:i], s[i+1:]
	if local == "" {
		local = "postmaster"
	}
	return local, domain
}

func lookup(ctx context.Context, ip netip.Addr, address string, opts []Option) (Result, error) {
	if !ip.IsValid() || ip.Zone() != "" {
		return None, fmt.Errorf("spf: invalid IP address %q", ip)
	}
	if address == "" || strings.ContainsAny(address, " \t\r\n") {
		return None, fmt.Errorf("spf: invalid envelope from address %q", address)
	}
	if _, dom := splitSender(address); dom == "" {
		return None, fmt.Errorf("spf: invalid envelope from address %q", address)
	}
	return check(ctx, ip, address, "", false, opts).Result, nil
}
