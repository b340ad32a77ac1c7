package spf

import (
	"context"
	"net/netip"
	"strings"
)

// maxDepth bounds include/redirect nesting independently of the lookup
// limit, which a caller may raise (libspf2 uses the same bound).
const maxDepth = 20

// reason is libspf2's SPF_reason_t as shown in $spf_smtp_comment.
type reason uint8

const (
	reasonNone reason = iota
	reasonLocalhost
	reasonMechanism
	reasonDefault
)

func (r reason) String() string {
	switch r {
	case reasonLocalhost:
		return "localhost"
	case reasonMechanism:
		return "mechanism"
	case reasonDefault:
		return "default"
	}
	return "none"
}

// hostResult is what check_host() returns for one domain.
type hostResult struct {
	result Result
	reason reason
	mech   string
	err    error
	// The exp= of the record that decided a fail, expanded lazily
	// because only the top-level fail needs it.
	expSpec string
	expDom  string
}

// evaluator holds the state of one SPF evaluation (RFC 7208 §4).
type evaluator struct {
	cfg *config
	res Resolver

	ip           netip.Addr
	sender       string
	local        string
	senderDomain string
	helo         string

	lookups   int
	voids     int
	dnsUsed   bool
	authentic bool

	buf, buf2 []byte
	ipDot     string
	ipStr     string
	ptrDone   bool
	ptrNames  []string // validated PTR names, computed once

	// active holds the domains whose records are being evaluated, so
	// that an include or redirect loop is reported as the recursion it
	// is (libspf2's message) rather than as the lookup limit it hits.
	active [maxDepth + 1]string
}

// looping reports whether domain's record is already being evaluated
// at a depth below depth.
func (e *evaluator) looping(domain string, depth int) bool {
	for i := 0; i < depth && i < len(e.active); i++ {
		if strings.EqualFold(e.active[i], domain) {
			return true
		}
	}
	return false
}

func (e *evaluator) note(authentic bool) {
	if !e.dnsUsed {
		e.dnsUsed, e.authentic = true, authentic
		return
	}
	e.authentic = e.authentic && authentic
}

// failed reports whether a step's result ends evaluation (temperror or
// permerror, which always carry their error).
func (r hostResult) failed() bool { return r.err != nil }

func permErr(code ErrCode, domain string) hostResult {
	return hostResult{result: PermError, err: &EvalError{Code: code, Domain: domain}}
}

func tempErr(name string, err error) hostResult {
	return hostResult{result: TempError, err: &DNSError{Name: name, Err: err}}
}

// checkHost is check_host() of RFC 7208 §4 for domain.
func (e *evaluator) checkHost(ctx context.Context, domain string, depth int) hostResult {
	if !validDomain(domain) {
		return hostResult{result: None}
	}
	txt, f := e.fetchRecord(ctx, domain)
	if f.failed() {
		return f
	}
	if txt == "" {
		return hostResult{result: None}
	}
	rec, perr := parseRecord(txt)
	if perr != nil {
		return hostResult{result: PermError, err: perr}
	}
	return e.evalRecord(ctx, &rec, domain, depth)
}

// fetchRecord returns the domain's single SPF record, "" when there is
// none, or the temperror/permerror that ends evaluation.
func (e *evaluator) fetchRecord(ctx context.Context, domain string) (string, hostResult) {
	txts, auth, err := e.res.LookupTXT(ctx, domain)
	switch classify(err) {
	case dnsVoid:
		e.note(auth)
		return "", hostResult{}
	case dnsTemp:
		return "", tempErr(domain, err)
	}
	e.note(auth)
	found := ""
	n := 0
	for _, t := range txts {
		if isSPFRecord(t) {
			found = t
			n++
		}
	}
	if n > 1 {
		return "", permErr(ErrCodeMultipleRecords, domain)
	}
	return found, hostResult{}
}

func (e *evaluator) evalRecord(ctx context.Context, rec *record, domain string, depth int) hostResult {
	if depth < len(e.active) {
		e.active[depth] = domain
	}
	for rest := rec.text; ; {
		t, tail, more := nextDirective(rest)
		if !more {
			break
		}
		rest = tail
		ok, fail := e.evalTerm(ctx, &t, domain, depth)
		if fail.failed() {
			return fail
		}
		if ok {
			r := hostResult{result: t.qual, reason: reasonMechanism, mech: t.text}
			if t.qual == Fail && rec.hasExp {
				r.expSpec, r.expDom = rec.exp, domain
			}
			return r
		}
	}
	if rec.hasRedir {
		if fail := e.countLookup(domain); fail.failed() {
			return fail
		}
		if depth >= maxDepth {
			return permErr(ErrCodeRecursion, domain)
		}
		target, err := e.targetName(ctx, rec.redirect, domain)
		if err != nil {
			return hostResult{result: PermError, err: err}
		}
		if e.looping(target, depth+1) {
			return permErr(ErrCodeRecursion, target)
		}
		r := e.checkHost(ctx, target, depth+1)
		if r.result == None {
			return permErr(ErrCodeRedirectNone, target)
		}
		return r
	}
	return hostResult{result: Neutral, reason: reasonDefault, mech: "default"}
}

func (e *evaluator) countLookup(domain string) hostResult {
	e.lookups++
	if e.lookups > e.cfg.maxTerms {
		return permErr(ErrCodeTooManyLookups, domain)
	}
	return hostResult{}
}

func (e *evaluator) countVoid(domain string) hostResult {
	e.voids++
	if e.voids > e.cfg.maxVoids {
		return permErr(ErrCodeTooManyVoids, domain)
	}
	return hostResult{}
}

// evalTerm reports whether mechanism t matches; a non-nil result ends
// evaluation with temperror or permerror.
func (e *evaluator) evalTerm(ctx context.Context, t *term, domain string, depth int) (bool, hostResult) {
	switch t.kind {
	case mechAll:
		return true, hostResult{}
	case mechIP4, mechIP6:
		return t.prefix.Contains(e.ip), hostResult{}
	}
	if fail := e.countLookup(domain); fail.failed() {
		return false, fail
	}
	if err := ctx.Err(); err != nil {
		return false, tempErr(domain, err)
	}
	target := domain
	if t.domain != "" {
		var err error
		if target, err = e.targetName(ctx, t.domain, domain); err != nil {
			return false, hostResult{result: PermError, err: err}
		}
	}
	switch t.kind {
	case mechInclude:
		if depth >= maxDepth || e.looping(target, depth+1) {
			return false, permErr(ErrCodeRecursion, target)
		}
		r := e.checkHost(ctx, target, depth+1)
		switch r.result {
		case Pass:
			return true, hostResult{}
		case Fail, SoftFail, Neutral:
			return false, hostResult{}
		case None:
			return false, permErr(ErrCodeIncludeNone, target)
		}
		return false, r // temperror or permerror
	case mechA:
		return e.matchHost(ctx, target, t, true)
	case mechMX:
		return e.matchMX(ctx, target, t)
	case mechPTR:
		return e.matchPTR(ctx, target), hostResult{}
	case mechExists:
		if !validDomain(target) {
			return false, e.countVoid(target)
		}
		addrs, auth, err := e.res.LookupNetIP(ctx, "ip4", target)
		switch classify(err) {
		case dnsTemp:
			return false, tempErr(target, err)
		case dnsVoid:
			e.note(auth)
			return false, e.countVoid(target)
		}
		e.note(auth)
		if len(addrs) == 0 {
			return false, e.countVoid(target)
		}
		return true, hostResult{}
	}
	return false, hostResult{}
}

// matchHost is the "a" mechanism (and one MX exchange when void is
// false): does host have an address of the client's family within the
// term's CIDR?
func (e *evaluator) matchHost(ctx context.Context, host string, t *term, void bool) (bool, hostResult) {
	if !validDomain(host) {
		if void {
			return false, e.countVoid(host)
		}
		return false, hostResult{}
	}
	network, bits := "ip6", int(t.cidr6)
	if e.ip.Is4() {
		network, bits = "ip4", int(t.cidr4)
	}
	if bits < 0 {
		bits = e.ip.BitLen()
	}
	addrs, auth, err := e.res.LookupNetIP(ctx, network, host)
	switch classify(err) {
	case dnsTemp:
		return false, tempErr(host, err)
	case dnsVoid:
		e.note(auth)
		if void {
			return false, e.countVoid(host)
		}
		return false, hostResult{}
	}
	e.note(auth)
	if len(addrs) == 0 && void {
		return false, e.countVoid(host)
	}
	for _, a := range addrs {
		a = a.Unmap()
		if a.BitLen() != e.ip.BitLen() {
			continue
		}
		if p, err := a.Prefix(bits); err == nil && p.Contains(e.ip) {
			return true, hostResult{}
		}
	}
	return false, hostResult{}
}

func (e *evaluator) matchMX(ctx context.Context, target string, t *term) (bool, hostResult) {
	if !validDomain(target) {
		return false, e.countVoid(target)
	}
	mxs, auth, err := e.res.LookupMX(ctx, target)
	switch classify(err) {
	case dnsTemp:
		return false, tempErr(target, err)
	case dnsVoid:
		e.note(auth)
		return false, e.countVoid(target)
	}
	e.note(auth)
	if len(mxs) == 0 {
		return false, e.countVoid(target)
	}
	if len(mxs) > 10 {
		return false, permErr(ErrCodeTooManyMX, target)
	}
	for _, mx := range mxs {
		host := strings.TrimSuffix(mx.Host, ".")
		if host == "" {
			continue // null MX (RFC 7505)
		}
		matched, fail := e.matchHost(ctx, host, t, false)
		if fail.failed() || matched {
			return matched, fail
		}
	}
	return false, hostResult{}
}

// validatedNames returns the client's validated PTR names (RFC 7208
// §5.5): at most 10 PTR names, each kept when one of its addresses is
// the client's. DNS errors only drop names; ptr never errs.
func (e *evaluator) validatedNames(ctx context.Context) []string {
	if e.ptrDone {
		return e.ptrNames
	}
	e.ptrDone = true
	names, auth, err := e.res.LookupAddr(ctx, e.ip)
	if err != nil {
		return nil
	}
	e.note(auth)
	if len(names) > 10 {
		names = names[:10]
	}
	network := "ip6"
	if e.ip.Is4() {
		network = "ip4"
	}
	for _, n := range names {
		n = strings.TrimSuffix(n, ".")
		if !validDomain(n) {
			continue
		}
		addrs, auth, err := e.res.LookupNetIP(ctx, network, n)
		if err != nil {
			continue
		}
		e.note(auth)
		for _, a := range addrs {
			if a.Unmap() == e.ip {
				e.ptrNames = append(e.ptrNames, n)
				break
			}
		}
	}
	return e.ptrNames
}

func (e *evaluator) matchPTR(ctx context.Context, target string) bool {
	for _, n := range e.validatedNames(ctx) {
		if isSubdomain(n, target) {
			return true
		}
	}
	return false
}

// validatedName is the %{p} macro: a validated name equal to domain, else
// one under it, else any, else "unknown".
func (e *evaluator) validatedName(ctx context.Context, domain string) string {
	names := e.validatedNames(ctx)
	best := ""
	for _, n := range names {
		switch {
		case strings.EqualFold(n, domain):
			return n
		case best == "" && isSubdomain(n, domain):
			best = n
		}
	}
	if best == "" && len(names) > 0 {
		best = names[0]
	}
	if best == "" {
		return "unknown"
	}
	return best
}

// isSubdomain reports whether name is domain or below it, caselessly.
func isSubdomain(name, domain string) bool {
	domain = strings.TrimSuffix(domain, ".")
	if len(name) < len(domain) {
		return false
	}
	if len(name) == len(domain) {
		return strings.EqualFold(name, domain)
	}
	return name[len(name)-len(domain)-1] == '.' && strings.EqualFold(name[len(name)-len(domain):], domain)
}

// targetName expands a domain-spec into a query name (RFC 7208 §4.8,
// §7.3): trailing dot dropped, left labels removed beyond 253 bytes.
func (e *evaluator) targetName(ctx context.Context, spec, domain string) (string, error) {
	name, err := e.expand(ctx, spec, domain, false)
	if err != nil {
		return "", &SyntaxError{Code: ErrCodeInvalidMacro, Term: spec}
	}
	name = strings.TrimSuffix(name, ".")
	for len(name) > 253 {
		i := strings.IndexByte(name, '.')
		if i < 0 {
			break
		}
		name = name[i+1:]
	}
	return name, nil
}

// validDomain is the RFC 7208 §4.3 check: a multi-label name with no
// empty label and no label over 63 bytes, at most 253 bytes in all.
func validDomain(d string) bool {
	d = strings.TrimSuffix(d, ".")
	if d == "" || len(d) > 253 || strings.IndexByte(d, '.') < 0 {
		return false
	}
	start := 0
	for i := 0; i <= len(d); i++ {
		if i == len(d) || d[i] == '.' {
			if n := i - start; n == 0 || n > 63 {
				return false
			}
			start = i + 1
			continue
		}
		if c := d[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}
