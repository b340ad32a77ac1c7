package main

// The mta-sts subcommand: a domain's MTA-STS policy (RFC 8461, package
// mtasts) and what it says of its MX hosts:
//
//	policycheck mta-sts [-cafile FILE] [-connect host:port]
//	                    [-nameserver host:port] [-timeout 2s] [-json] DOMAIN [MX...]
//
// It looks up _mta-sts.DOMAIN TXT, fetches
// https://mta-sts.DOMAIN/.well-known/mta-sts.txt (no cache) and prints
// the record id, mode, max_age and mx patterns, then for each MX host
// (the arguments, or DOMAIN's MX records) whether the policy allows it
// and what a sender does with it: "allowed" (enforce, matching: only
// with a valid certificate), "refused" (enforce, not matching), "report"
// (testing, not matching: delivered, reported), "deliver" (no policy,
// mode none, or testing and matching). -cafile replaces the system
// roots with the PEM certificates of FILE; -connect dials host:port for
// the policy host instead of mta-sts.DOMAIN:443 (tests, staging). Any
// policy result, a failed fetch included, exits 0.

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/mailpolicy/mailpolicy/mtasts"
	"github.com/mailpolicy/mailpolicy/resolver"
)

func init() {
	register(&command{
		name:    "mta-sts",
		summary: "fetch a domain's MTA-STS policy and print its id, mode, max_age, mx patterns and which MX hosts it allows",
		run:     runMTASTS,
	})
}

func runMTASTS(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newFlagSet("mta-sts", "[flags] DOMAIN [MX...]", stdout, stderr)
	var (
		dns     dnsFlags
		cafile  = f.String("cafile", "", "trust only the PEM certificates in `FILE` for the policy host (default: the system roots)")
		connect = f.String("connect", "", "connect to `host:port` for the policy host instead of mta-sts.DOMAIN:443")
		asJSON  = f.Bool("json", false, "print one JSON object instead of name=value lines")
	)
	dns.add(f)
	if code, ok := f.parse(args); !ok {
		return code
	}
	if f.NArg() == 0 {
		return f.usageError("missing DOMAIN, the policy domain")
	}
	domain, mxs := f.Arg(0), f.Args()[1:]
	for _, a := range f.Args() {
		if strings.HasPrefix(a, "-") {
			return f.unexpected(a)
		}
	}
	if code, ok := dns.check(f); !ok {
		return code
	}
	fetcher := &mtasts.Fetcher{Timeout: overallFactor * dns.timeout, UserAgent: "policycheck"}
	if *cafile != "" {
		pem, err := os.ReadFile(*cafile)
		if err != nil {
			return f.usageError("-cafile: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return f.usageError("-cafile: no PEM certificate in %s", *cafile)
		}
		fetcher.RootCAs = pool
	}
	if *connect != "" {
		if _, _, err := net.SplitHostPort(*connect); err != nil {
			return f.usageError("-connect: %v", err)
		}
		addr := *connect
		fetcher.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
	}

	ctx, cancel := dns.context(ctx)
	defer cancel()
	r := &stsRun{domain: domain}
	r.record, r.err = mtasts.LookupRecord(ctx, dns.resolver, domain)
	if r.err == nil {
		r.policy, r.err = fetcher.Fetch(ctx, domain)
	}
	if len(mxs) == 0 {
		mxs, r.mxErr = lookupMX(ctx, dns.resolver, domain)
	}
	r.mxs = mxs
	if err := writeVars(stdout, r.variables(), *asJSON); err != nil {
		fmt.Fprintf(stderr, "policycheck mta-sts: writing output: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// lookupMX is domain's MX hosts in preference order, or the domain
// itself when it has none (RFC 5321 §5.1), as a sender would try them.
func lookupMX(ctx context.Context, r *resolver.Resolver, domain string) ([]string, error) {
	mxs, _, err := r.LookupMX(ctx, domain)
	switch {
	case errors.Is(err, resolver.ErrNoData):
		return []string{strings.TrimSuffix(domain, ".")}, nil
	case err != nil:
		return nil, err
	case resolver.NullMX(mxs):
		return nil, errors.New("null MX: the domain takes no mail")
	}
	hosts := make([]string, 0, len(mxs))
	for _, mx := range mxs {
		if h := strings.TrimSuffix(mx.Host, "."); h != "" {
			hosts = append(hosts, h)
		}
	}
	return hosts, nil
}

// stsRun is what the subcommand found out.
type stsRun struct {
	domain string
	record *mtasts.Record
	policy *mtasts.Policy
	err    error // from the lookup or the fetch
	mxs    []string
	mxErr  error
}

// result is one word for the outcome: policy, no-record, record-error,
// dns-error, fetch-error, policy-invalid, webpki-invalid.
func (r *stsRun) result() string {
	var fe *mtasts.FetchError
	var se *mtasts.SyntaxError
	switch {
	case r.err == nil:
		return "policy"
	case errors.Is(r.err, mtasts.ErrNoRecord):
		return "no-record"
	case errors.As(r.err, &fe) && fe.Reason == mtasts.ReasonTLS:
		return "webpki-invalid"
	case errors.As(r.err, &fe) && fe.Reason == mtasts.ReasonPolicy:
		return "policy-invalid"
	case errors.As(r.err, &fe):
		return "fetch-error"
	case errors.Is(r.err, mtasts.ErrMultipleRecords), errors.As(r.err, &se), errors.Is(r.err, mtasts.ErrInvalidDomain):
		return "record-error"
	}
	return "dns-error"
}

// verdict is what a sender does with MX host mx under the policy.
func (r *stsRun) verdict(match bool) string {
	switch {
	case r.policy == nil || r.policy.Mode == mtasts.ModeNone:
		return "deliver"
	case r.policy.Mode == mtasts.ModeEnforce && match:
		return "allowed"
	case r.policy.Mode == mtasts.ModeEnforce:
		return "refused"
	case match:
		return "deliver"
	}
	return "report"
}

func (r *stsRun) variables() []variable {
	vars := []variable{{"mta_sts_domain", r.domain}, {"mta_sts_result", r.result()}}
	id, mode, maxAge, mx, errText := "", "", "", "", ""
	if r.record != nil {
		id = r.record.ID
	}
	if p := r.policy; p != nil {
		mode, maxAge, mx = string(p.Mode), strconv.FormatInt(int64(p.MaxAge.Seconds()), 10), strings.Join(p.MX, " ")
	}
	if r.err != nil {
		errText = r.err.Error()
	}
	vars = append(vars,
		variable{"mta_sts_id", id}, variable{"mta_sts_mode", mode}, variable{"mta_sts_max_age", maxAge},
		variable{"mta_sts_mx", mx}, variable{"mta_sts_error", errText},
		variable{"mx_count", strconv.Itoa(len(r.mxs))})
	if r.mxErr != nil {
		vars = append(vars, variable{"mx_error", r.mxErr.Error()})
	}
	for i, h := range r.mxs {
		n := "mx_" + strconv.Itoa(i+1)
		match := r.policy.Match(h)
		vars = append(vars, variable{n, h}, variable{n + "_match", yesNo(match)}, variable{n + "_verdict", r.verdict(match)})
	}
	return vars
}
