package dmarc

import (
	"context"

	"github.com/mailpolicy/mailpolicy/dkim"
	"github.com/mailpolicy/mailpolicy/spf"
)

// evalDomain9989 is RFC 9989 §5.3 for one Author Domain: policy
// discovery by tree walk, alignment against tree-walk organizational
// domains, p=/sp=/np= as §4.10.1 chooses them, t=y one step weaker.
func (e *evaluator) evalDomain9989(ctx context.Context, author string) *Outcome {
	o := &Outcome{Mode: ModeRFC9989, FromDomain: author, UsedDomain: author, Sampled: true}
	from, ok := aLabelDomain(author)
	if !ok {
		o.Status = StatusNoFrom
		o.Err = &FromError{Problems: []string{"not an IDNA host name: " + quoteCut(author)}}
		return o
	}
	o.FromDomain, o.UsedDomain = from, from
	n, err := e.discover9989(ctx, from)
	o.UsedDomain, o.Authentic = n.domain, n.authentic
	o.OrgDomain, _ = e.knownOrg(from)
	switch {
	case err != nil:
		o.Status, o.Err = StatusTempError, err
		return o
	case n.rec == nil:
		o.Status = StatusNoRecord
		if n.multiple {
			o.Err = ErrMultipleRecords
		}
		return o
	case n.bad != nil:
		// §4.10.1: no DMARC processing; §9.2 calls it permerror.
		o.Status, o.Err = StatusNoRecord, n.bad
		return o
	}
	rec := n.rec
	o.Record = rec

	policy, existErr := e.policy9989(ctx, from, n)
	o.DomainPolicy = string(policy)

	// §5.3.6: a DNS failure on the way to an answer leaves the message
	// neither passed nor failed; only an aligned pass does not need it.
	var temp error
	if e.in.SPF == spf.Pass {
		o.AlignedSPF, err = e.aligned9989(ctx, e.in.SPFDomain, from, rec.ASPF)
		temp = firstErr(temp, err)
	}
	for _, d := range e.in.DKIM {
		if d.Status != dkim.StatusPass || o.AlignedDKIM {
			continue
		}
		o.AlignedDKIM, err = e.aligned9989(ctx, d.Domain, from, rec.ADKIM)
		temp = firstErr(temp, err)
	}
	o.OrgDomain, _ = e.knownOrg(from)
	o.Forensic = e.forensicAddresses(rec, o)
	if o.AlignedSPF || o.AlignedDKIM {
		o.Status, o.AppliedPolicy = StatusAccept, testing9989(rec, policy)
		return o
	}
	temp = firstErr(temp, existErr)
	idTemp, err := e.tempFailed9989(ctx, from, rec)
	o.OrgDomain, _ = e.knownOrg(from)
	if temp = firstErr(temp, err); temp != nil || idTemp {
		o.Status, o.Err = StatusTempError, temp
		return o
	}
	o.AppliedPolicy = testing9989(rec, policy)
	o.Sampled = o.AppliedPolicy == policy
	o.Status = statusFor(o.AppliedPolicy)
	return o
}

// policy9989 is the Domain Owner Assessment Policy for from (§4.10.1):
// p= for a record of the Author Domain itself; for one of a parent,
// sp= when from exists and np= when it does not (NXDOMAIN), each
// falling back to p= (np= first to sp=, §4.7). The existence query is
// made only when np= could matter; its failure is returned so that a
// failing message can become temperror.
func (e *evaluator) policy9989(ctx context.Context, from string, n node) (Policy, error) {
	rec := n.rec
	if n.domain == from {
		return rec.Policy, nil
	}
	p := rec.Policy
	if rec.SubdomainPolicy != "" {
		p = rec.SubdomainPolicy
	}
	if rec.NPPolicy == "" || rec.NPPolicy == p {
		return p, nil
	}
	exists, err := e.exists9989(ctx, from)
	if !exists {
		return rec.NPPolicy, nil
	}
	return p, err
}

// testing9989 applies t=y (§4.7): the next weaker policy, none staying
// none. pct= no longer samples (Appendix A.6; ParseRecordRFC9989 reads
// pct=0 as t=y).
func testing9989(rec *Record, p Policy) Policy {
	if rec.Testing && p != PolicyNone {
		return weaker(p)
	}
	return p
}

// tempFailed9989 is tempFailed with tree-walk alignment: an aligned
// identifier whose check failed for want of a DNS answer (SPF
// temperror, a DKIM key that could not be fetched), or one whose
// alignment the DNS could not tell (err).
func (e *evaluator) tempFailed9989(ctx context.Context, from string, rec *Record) (bool, error) {
	if e.in.SPF == spf.TempError {
		if ok, err := e.aligned9989(ctx, e.in.SPFDomain, from, rec.ASPF); ok || err != nil {
			return true, err
		}
	}
	for _, d := range e.in.DKIM {
		if d.Status != dkim.StatusInvalid || !d.Temporary {
			continue
		}
		if ok, err := e.aligned9989(ctx, d.Domain, from, rec.ADKIM); ok || err != nil {
			return true, err
		}
	}
	return false, nil
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
