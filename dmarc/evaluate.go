package dmarc

import (
	"context"
	"strings"

	"github.com/mailpolicy/mailpolicy/spf"

	"github.com/mailpolicy/mailpolicy/dkim"
)

// ConfigError reports options that cannot work (an unreadable PSL file,
// a nameserver that does not parse); the status is then temperror.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return "dmarc: configuration: " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

type evaluator struct {
	cfg *config
	res Resolver
	in  *Input
	// ModeRFC9989's answers, shared by the walks of one evaluation.
	nodes []node
	orgs  [][2]string // domain, organizational domain
}

// Evaluate applies DMARC to one message (RFC 7489, Exim's vocabulary):
// it finds the From domain, discovers its policy record, checks SPF and
// DKIM alignment, applies p=/sp= (np= with WithTreeWalk) and pct=, and
// returns Exim's status words and texts. Package authres writes the
// Authentication-Results field (authres.FromDMARC).
//
// With several From domains (several From: fields or addresses), each
// is evaluated and the most severe outcome is returned, so that a
// second From: cannot hide a failing one. Exim evaluates only the first
// address of the last From: field.
func Evaluate(ctx context.Context, in Input, opts ...Option) *Outcome {
	var c config
	c.init(opts)
	o := evaluate(ctx, &in, &c)
	o.StatusText = o.Status.Text()
	return o
}

func evaluate(ctx context.Context, in *Input, c *config) *Outcome {
	if in.Disabled {
		return &Outcome{Status: StatusOff, Sampled: true}
	}
	if c.pslFile != "" && c.psl == nil && c.mode != ModeRFC9989 {
		p, err := LoadPSL(c.pslFile)
		if err != nil {
			return &Outcome{Status: StatusTempError, Err: &ConfigError{Err: err}}
		}
		c.psl = p
	}
	e := &evaluator{cfg: c, res: c.dnsResolver(), in: in}
	domains, ferr := fromDomains(in.HeaderFrom)
	noFrom := &Outcome{Status: StatusNoFrom, Sampled: true, Err: ferr}
	if len(domains) == 0 {
		return noFrom
	}
	var worst *Outcome
	for _, d := range domains {
		var o *Outcome
		if c.mode == ModeRFC9989 {
			o = e.evalDomain9989(ctx, d)
		} else {
			o = e.evalDomain(ctx, d)
		}
		if worst == nil || severity(o.Status) > severity(worst.Status) {
			worst = o
		}
	}
	// A From that could not be read in full is not authenticated by
	// what could be read of it.
	if ferr != nil && severity(worst.Status) < severity(StatusNoFrom) {
		return noFrom
	}
	return worst
}

func severity(s Status) int {
	switch s {
	case StatusReject:
		return 5
	case StatusQuarantine:
		return 4
	case StatusTempError:
		return 3
	case StatusNoFrom:
		return 2
	case StatusNone, StatusNoRecord:
		return 1
	}
	return 0
}

func (e *evaluator) evalDomain(ctx context.Context, from string) *Outcome {
	o := &Outcome{FromDomain: from, UsedDomain: from, Sampled: true}
	o.OrgDomain, _ = e.cfg.orgDomain(from)
	f := e.discover(ctx, from, o.OrgDomain)
	o.UsedDomain, o.Authentic, o.Err = f.domain, f.authentic, f.err
	if _, ok := f.err.(*LookupError); ok {
		o.Status = StatusTempError
		return o
	}
	if f.rec == nil {
		o.Status = StatusNoRecord
		return o
	}
	rec := f.rec
	o.Record = rec
	if e.cfg.treeWalk {
		o.OrgDomain = e.treeOrgDomain(from, f, o.OrgDomain)
	}

	policy := rec.Policy
	if !strings.EqualFold(f.domain, from) {
		if rec.SubdomainPolicy != "" {
			policy = rec.SubdomainPolicy
		}
		if e.cfg.treeWalk && rec.NPPolicy != "" && e.nonexistent(ctx, from) {
			policy = rec.NPPolicy
		}
	}
	o.DomainPolicy = string(policy)

	o.AlignedSPF = e.in.SPF == spf.Pass && e.aligned(e.in.SPFDomain, from, rec.ASPF, o.OrgDomain)
	for _, d := range e.in.DKIM {
		if d.Status == dkim.StatusPass && e.aligned(d.Domain, from, rec.ADKIM, o.OrgDomain) {
			o.AlignedDKIM = true
			break
		}
	}
	o.Forensic = e.forensicAddresses(rec, o)
	if o.AlignedSPF || o.AlignedDKIM {
		o.Status, o.AppliedPolicy = StatusAccept, policy
		return o
	}

	// A temporary failure of a check that could have given an aligned
	// pass makes the verdict temporary too (as mox does, and DMARCbis
	// suggests): rejecting on a DNS hiccup would lose mail.
	if e.tempFailed(from, rec, o.OrgDomain) {
		o.Status = StatusTempError
		return o
	}

	applied := policy
	if policy != PolicyNone {
		// pct= sampling (RFC 7489 §6.6.4) and DMARCbis t=y both apply
		// the next weaker policy to messages left out.
		if rec.Testing || e.cfg.rand() >= rec.Percent {
			o.Sampled = false
			applied = weaker(policy)
		}
	}
	o.AppliedPolicy = applied
	o.Status = statusFor(applied)
	return o
}

// statusFor is the status of a failed message under policy p.
func statusFor(p Policy) Status {
	switch p {
	case PolicyReject:
		return StatusReject
	case PolicyQuarantine:
		return StatusQuarantine
	}
	return StatusNone
}

func weaker(p Policy) Policy {
	if p == PolicyReject {
		return PolicyQuarantine
	}
	return PolicyNone
}

// aligned compares an authenticated domain with the From domain:
// strict is equality, relaxed equal organizational domains (RFC 7489
// §3.1). Both ignore case, unlike Exim's strict mode.
func (e *evaluator) aligned(authDomain, from string, mode AlignMode, fromOrg string) bool {
	authDomain = strings.TrimSuffix(strings.ToLower(authDomain), ".")
	if authDomain == "" {
		return false
	}
	if authDomain == from {
		return true
	}
	if mode == Strict || fromOrg == "" {
		return false
	}
	org, ok := e.cfg.orgDomain(authDomain)
	return ok && org == fromOrg
}

// treeOrgDomain is the DMARCbis organizational domain: the domain where
// the record was found, or the one below it towards the From domain when
// that record says psd=y; the PSL's answer when no record said.
func (e *evaluator) treeOrgDomain(from string, f found, pslOrg string) string {
	switch f.rec.PSD {
	case 'n':
		return f.domain
	case 'y':
		if strings.EqualFold(f.domain, from) {
			return from
		}
		rest := strings.TrimSuffix(from, "."+f.domain)
		i := strings.LastIndexByte(rest, '.')
		return rest[i+1:] + "." + f.domain
	}
	return pslOrg
}

// forensicAddresses applies fo= (RFC 7489 §6.3) to decide which ruf
// mailto: addresses get a failure report: fo=0 when no mechanism gave
// an aligned pass, fo=1 when any did not, fo=d when a DKIM signature
// failed to verify, fo=s when SPF failed. Exim ignores fo= and never
// reports p=none failures; this follows the RFC.
func (e *evaluator) forensicAddresses(rec *Record, o *Outcome) []string {
	if len(rec.RUF) == 0 {
		return nil
	}
	report := false
	for _, fo := range rec.FailureOptions {
		switch fo {
		case "0":
			report = report || (!o.AlignedSPF && !o.AlignedDKIM)
		case "1":
			report = report || !o.AlignedSPF || !o.AlignedDKIM
		case "d":
			for _, d := range e.in.DKIM {
				report = report || d.Status == dkim.StatusFail
			}
		case "s":
			report = report || e.in.SPF == spf.Fail
		}
	}
	if !report {
		return nil
	}
	var out []string
	for _, u := range rec.RUF {
		if mb := u.Mailbox(); mb != "" {
			out = append(out, mb)
		}
	}
	return out
}

// tempFailed reports whether an identifier aligned with the From domain
// failed only for want of a DNS answer: SPF temperror, or a DKIM key
// lookup that was Temporary. Permanent failures do not count (SPF
// permerror, a DKIM key that does not exist): anyone can forge a
// signature naming a selector without a key, and that must not turn
// p=reject into a retry.
func (e *evaluator) tempFailed(from string, rec *Record, org string) bool {
	if e.in.SPF == spf.TempError && e.aligned(e.in.SPFDomain, from, rec.ASPF, org) {
		return true
	}
	for _, d := range e.in.DKIM {
		if d.Status == dkim.StatusInvalid && d.Temporary && e.aligned(d.Domain, from, rec.ADKIM, org) {
			return true
		}
	}
	return false
}
