package dmarc

import (
	"context"
	"errors"
	"strings"
)

// The RFC 9989 DNS tree walk (§4.10) and the two questions it answers:
// which record is the message's policy (§4.10.1) and what a domain's
// organizational domain is (§4.10.2), for alignment. Both walks of one
// evaluation share their DNS answers (evaluator.nodes), so the From
// domain and an identifier below the same organization cost one
// query per name.

// maxWalkQueries is the tree walk's query limit (§4.10).
const maxWalkQueries = 8

// node is what one _dmarc name held, as the walk sees it.
type node struct {
	domain    string
	rec       *Record // the single DMARC record there, even when unusable
	bad       error   // *RecordError: rec cannot give a policy (§4.10.1)
	multiple  bool    // several DMARC records: all discarded (§4.10 step 2)
	authentic bool
}

// node looks up _dmarc.<domain> once per evaluation. An evaluation
// sees a handful of names, so a slice searched in order beats a map.
func (e *evaluator) node(ctx context.Context, domain string) (node, error) {
	for _, n := range e.nodes {
		if n.domain == domain {
			return n, nil
		}
	}
	n := node{domain: domain}
	name := "_dmarc." + domain
	txts, auth, err := e.res.LookupTXT(ctx, name)
	n.authentic = auth
	if err != nil && !isNoRecord(err) {
		return n, &LookupError{Name: name, Err: err}
	}
	var txt string
	count := 0
	for _, t := range txts {
		if isDMARCRecord(t) {
			txt = t
			count++
		}
	}
	switch {
	case count > 1:
		n.multiple = true
	case count == 1:
		n.rec, n.bad = parseRFC9989(txt)
	}
	e.nodes = append(e.nodes, n)
	return n, nil
}

// walkNames lists the names a tree walk from domain queries: domain,
// then (skipping to seven labels when it has eight or more) each
// parent down to the top-level domain, at most eight in all (§4.10
// steps 3, 4 and 7).
func walkNames(domain string) []string {
	names := make([]string, 0, maxWalkQueries)
	names = append(names, domain)
	labels := strings.Count(domain, ".") + 1
	rest := domain
	if labels >= 8 {
		for ; labels > 7; labels-- {
			rest = rest[strings.IndexByte(rest, '.')+1:]
		}
		names = append(names, rest)
	}
	for {
		i := strings.IndexByte(rest, '.')
		if i < 0 {
			return names
		}
		rest = rest[i+1:]
		names = append(names, rest)
	}
}

// walk is the DNS tree walk from domain: the names with a single DMARC
// record, longest first, ending at the first one with psd=y or psd=n
// (§4.10 steps 2 and 6). A DNS failure ends it with a *LookupError.
func (e *evaluator) walk(ctx context.Context, domain string) ([]node, error) {
	var found []node
	for _, name := range walkNames(domain) {
		n, err := e.node(ctx, name)
		if err != nil {
			return nil, err
		}
		if n.rec == nil {
			continue
		}
		found = append(found, n)
		if n.rec.PSD == 'y' || n.rec.PSD == 'n' {
			break
		}
	}
	return found, nil
}

// selectOrg picks the organizational domain of start from its walk
// (§4.10.2): a psd=n record's domain; the domain one label below a
// psd=y record other than start's own; else the record with the fewest
// labels; start itself when the walk found no record.
func selectOrg(start string, found []node) string {
	for _, n := range found {
		switch {
		case n.rec.PSD == 'n':
			return n.domain
		case n.rec.PSD == 'y' && n.domain != start:
			return oneBelow(start, n.domain)
		}
	}
	if len(found) > 0 {
		return found[len(found)-1].domain
	}
	return start
}

// oneBelow is the domain one label below parent on the way to d.
func oneBelow(d, parent string) string {
	head := strings.TrimSuffix(d, "."+parent)
	return head[strings.LastIndexByte(head, '.')+1:] + "." + parent
}

// orgDomain9989 is the organizational domain of d by tree walk, once
// per evaluation.
func (e *evaluator) orgDomain9989(ctx context.Context, d string) (string, error) {
	if org, ok := e.knownOrg(d); ok {
		return org, nil
	}
	found, err := e.walk(ctx, d)
	if err != nil {
		return "", err
	}
	org := selectOrg(d, found)
	e.orgs = append(e.orgs, [2]string{d, org})
	return org, nil
}

// knownOrg is the organizational domain of d if a walk found it.
func (e *evaluator) knownOrg(d string) (string, bool) {
	for _, o := range e.orgs {
		if o[0] == d {
			return o[1], true
		}
	}
	return "", false
}

// discover9989 finds the policy record of the Author Domain from
// (§4.10.1): its own record, else that of its organizational domain,
// else that of the public suffix domain whose psd=y ended the walk.
// The node has no rec when there is none; err is a *LookupError.
func (e *evaluator) discover9989(ctx context.Context, from string) (node, error) {
	own, err := e.node(ctx, from)
	if err != nil || own.rec != nil {
		return own, err
	}
	found, err := e.walk(ctx, from)
	if err != nil {
		return node{domain: from}, err
	}
	org := selectOrg(from, found)
	e.orgs = append(e.orgs, [2]string{from, org})
	for _, n := range found {
		if n.domain == org {
			return n, nil
		}
	}
	if len(found) > 0 { // the organizational domain below a psd=y has no record
		return found[len(found)-1], nil
	}
	if own.multiple {
		return node{domain: from, multiple: true}, nil
	}
	return node{domain: from}, nil
}

// aligned9989 is identifier alignment with tree-walk organizational
// domains (§4.10.2): equal names always align, strict mode needs
// nothing more, relaxed mode compares the two organizational domains.
// The error is a *LookupError that kept the answer from being known.
func (e *evaluator) aligned9989(ctx context.Context, id, from string, mode AlignMode) (bool, error) {
	id, ok := aLabelDomain(id)
	if !ok {
		return false, nil
	}
	if id == from {
		return true, nil
	}
	if mode == Strict {
		return false, nil
	}
	org, err := e.orgDomain9989(ctx, from)
	if err != nil {
		return false, err
	}
	// An identifier's organizational domain is itself or one of its
	// parents: one that is not below org cannot align, and needs no walk.
	if id != org && !strings.HasSuffix(id, "."+org) {
		return false, nil
	}
	idOrg, err := e.orgDomain9989(ctx, id)
	return idOrg == org, err
}

// aLabelDomain lower-cases d, drops a final dot and converts U-labels
// to A-labels (RFC 9989 §5.3.1).
func aLabelDomain(d string) (string, bool) {
	_, ascii, ok := splitDomain(d)
	if !ok {
		return "", false
	}
	return strings.Join(ascii, "."), true
}

// exists9989 reports whether domain exists (§3.2.13: anything but
// NXDOMAIN), for np=.
func (e *evaluator) exists9989(ctx context.Context, domain string) (bool, error) {
	_, _, err := e.res.LookupTXT(ctx, domain)
	switch {
	case err == nil, errors.Is(err, ErrNoData):
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	case isNoRecord(err): // "not found" without saying NXDOMAIN
		return true, nil
	}
	return true, &LookupError{Name: domain, Err: err}
}
