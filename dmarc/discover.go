package dmarc

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrMultipleRecords: more than one DMARC record at a name, which ends
// policy discovery with no policy (RFC 7489 §6.6.3 step 5).
var ErrMultipleRecords = errors.New("dmarc: multiple DMARC records")

// LookupError is a DNS failure while looking for a record; the status is
// then temperror (Exim, unlike RFC 7489, would say norecord).
type LookupError struct {
	Name string
	Err  error
}

func (e *LookupError) Error() string { return fmt.Sprintf("dmarc: looking up %s: %v", e.Name, e.Err) }
func (e *LookupError) Unwrap() error { return e.Err }

// found is the result of looking at one _dmarc name.
type found struct {
	rec       *Record
	domain    string // where it was published
	authentic bool
	present   bool  // some DMARC record text was there (even if unusable)
	err       error // RecordError, ErrMultipleRecords or *LookupError
}

func (e *evaluator) lookupRecord(ctx context.Context, domain string) found {
	f := found{domain: domain}
	name := "_dmarc." + domain
	txts, auth, err := e.res.LookupTXT(ctx, name)
	f.authentic = auth
	if err != nil {
		if !isNoRecord(err) {
			f.err = &LookupError{Name: name, Err: err}
		}
		return f
	}
	var recs []string
	for _, t := range txts {
		if isDMARCRecord(t) {
			recs = append(recs, t)
		}
	}
	switch len(recs) {
	case 0:
		return f
	case 1:
	default:
		f.present, f.err = true, ErrMultipleRecords
		return f
	}
	f.present = true
	f.rec, f.err = ParseRecord(recs[0])
	return f
}

// discover finds the policy record for from: RFC 7489 §6.6.3 (the From
// domain, then its organizational domain) or, with WithTreeWalk, the
// DMARCbis tree walk.
func (e *evaluator) discover(ctx context.Context, from, org string) found {
	if e.cfg.treeWalk {
		return e.treeWalk(ctx, from)
	}
	f := e.lookupRecord(ctx, from)
	if f.present || f.err != nil || org == "" || strings.EqualFold(org, from) {
		return f
	}
	return e.lookupRecord(ctx, org)
}

// treeWalk is DMARCbis §4.10: query the From domain, then (skipping to
// at most seven labels) each parent up to the top-level domain, at most
// eight queries; the first usable record wins. Unusable records do not
// stop the walk. A DNS failure does.
func (e *evaluator) treeWalk(ctx context.Context, from string) found {
	labels := strings.Split(from, ".")
	var last found
	for i, q := 0, 0; i < len(labels) && q < 8; q++ {
		d := strings.Join(labels[i:], ".")
		f := e.lookupRecord(ctx, d)
		if f.err != nil && !isUnusable(f.err) {
			return f
		}
		if f.rec != nil {
			return f
		}
		last = f
		if i == 0 && len(labels) > 8 {
			i = len(labels) - 7
		} else {
			i++
		}
	}
	last.err = nil
	last.domain = from
	return last
}

func isUnusable(err error) bool {
	var re *RecordError
	return errors.Is(err, ErrMultipleRecords) || errors.As(err, &re)
}

// nonexistent reports whether domain itself does not exist (NXDOMAIN),
// for DMARCbis np=.
func (e *evaluator) nonexistent(ctx context.Context, domain string) bool {
	_, _, err := e.res.LookupTXT(ctx, domain)
	return errors.Is(err, ErrNotFound)
}
