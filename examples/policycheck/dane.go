package main

// The dane subcommand: one DANE delivery attempt up to TLS, as Exim's
// smtp transport makes it (see package dane):
//
//	policycheck dane -host NAME [-port 25] [-connect IP] [-helo NAME]
//	                 [-require] [-nameserver host:port] [-timeout 2s] [-json]
//
// It resolves NAME, decides as hosts_try_dane = * (and, with -require,
// hosts_require_dane = *) would, looks up TLSA records, connects, sends
// EHLO and STARTTLS and runs the DANE handshake, then sends QUIT. The
// output is tls_out_dane, tls_out_tlsa_usage, the CV= log word and the
// dane_* detail variables. When NAME's address lookup does not give an
// address (or, with -connect, does not complete), dane_action is defer,
// as the MTA defers such a host, and dane_required still reflects
// -require. A failed or deferred delivery is a policy
// result: the exit status is 0 unless the command line is wrong (2).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/mailpolicy/mailpolicy/dane"
	"github.com/mailpolicy/mailpolicy/hostlist"
	"github.com/mailpolicy/mailpolicy/smtp"
)

func init() {
	register(&command{
		name:    "dane",
		summary: "make a DANE-checked SMTP STARTTLS connection and print $tls_out_dane, $tls_out_tlsa_usage and details",
		run:     runDANE,
	})
}

func runDANE(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newFlagSet("dane", "-host NAME [flags]", stdout, stderr)
	var (
		dns     dnsFlags
		host    = f.String("host", "", "SMTP server (MX target) host `NAME` (required)")
		port    = f.Int("port", 25, "TCP `port`; also names the TLSA records (_port._tcp.NAME)")
		connect = f.String("connect", "", "connect to this `IP` instead of NAME's first address (its DNSSEC status is still NAME's)")
		helo    = f.String("helo", "localhost", "EHLO `NAME` to send")
		require = f.Bool("require", false, "DANE is required for the host (hosts_require_dane = *)")
		asJSON  = f.Bool("json", false, "print one JSON object instead of name=value lines")
	)
	dns.add(f)
	if code, ok := f.parse(args); !ok {
		return code
	}
	if code, ok := f.noArgs(); !ok {
		return code
	}
	if code, ok := f.require("host"); !ok {
		return code
	}
	if *port <= 0 || *port > 65535 {
		return f.usageError("-port: must be 1 to 65535, not %d", *port)
	}
	var connectIP netip.Addr
	if *connect != "" {
		ip, err := netip.ParseAddr(*connect)
		if err != nil {
			return f.usageError("-connect: invalid IP address %q", *connect)
		}
		connectIP = ip
	}
	if strings.ContainsAny(*helo, " \r\n") || *helo == "" {
		return f.usageError("-helo: invalid name %q", *helo)
	}
	if code, ok := dns.check(f); !ok {
		return code
	}

	ctx, cancel := dns.context(ctx)
	defer cancel()
	opts := []dane.Option{dane.WithResolver(dns.resolver)}
	r := &daneRun{host: *host, port: *port}
	var events []string
	p := &dane.Policy{Event: func(name, data string) { events = append(events, data) }}
	if *require {
		p.RequireHosts = hostlist.MustParse("*")
	}

	addrs, secure, err := dane.LookupHost(ctx, *host, opts...)
	switch {
	case connectIP.IsValid():
		r.addr = connectIP
	case err == nil:
		r.addr = addrs[0]
	}
	r.addrSecure = err == nil && secure
	if err != nil {
		r.err = fmt.Errorf("address lookup: %w", err)
	}
	// -connect stands in for a missing address (NXDOMAIN, NODATA), but a
	// lookup that did not complete leaves the DNSSEC state unknown:
	// like the MTA, defer rather than let Check fail or skip DANE.
	incomplete := err != nil && !errors.Is(err, dane.ErrNotFound) && !errors.Is(err, dane.ErrNoData)
	if !r.addr.IsValid() || incomplete {
		r.decision = lookupDeferred(p, *host, r.addr)
	} else {
		r.decision = p.Check(ctx, *host, r.addr, *port, r.addrSecure, opts...)
		if a := r.decision.Action; a == dane.ActionDANE || a == dane.ActionNoDANE {
			r.session, r.err = daneConnect(ctx, p, r.decision, net.JoinHostPort(r.addr.String(), strconv.Itoa(*port)), *helo)
		}
	}
	r.events = events
	if err := writeVars(stdout, r.variables(), *asJSON); err != nil {
		fmt.Fprintf(stderr, "policycheck dane: writing output: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// lookupDeferred is the decision for a host whose address lookup gave
// no usable answer. The dane package decides only once an address is
// known, so this takes the MTA's (examples/mta resolve): the host is
// skipped and, with no other host, the delivery is deferred, whether or
// not DANE is required; Required still says what the lists say, since
// a retry that finds the address will be held to it.
func lookupDeferred(p *dane.Policy, host string, ip netip.Addr) *dane.Decision {
	required := p.RequireHosts.Match(host, ip)
	tried := required || p.TryHosts == nil || p.TryHosts.Match(host, ip)
	return &dane.Decision{
		Host: host, Required: required, Tried: tried, Action: dane.ActionDefer,
		Message: "host lookup for " + host + " did not complete",
	}
}

// daneConnect dials addr and runs the dialogue up to TLS, then QUIT.
func daneConnect(ctx context.Context, p *dane.Policy, d *dane.Decision, addr, helo string) (*dane.Session, error) {
	c, err := smtp.Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.LocalName = helo
	s, err := p.Connect(ctx, c, d, nil)
	if err == nil {
		c.Quit(ctx) // the outcome is known: its reply does not matter
	}
	return s, err
}

// daneRun is what the subcommand found out.
type daneRun struct {
	host       string
	port       int
	addr       netip.Addr
	addrSecure bool
	decision   *dane.Decision
	session    *dane.Session
	events     []string
	err        error
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (r *daneRun) variables() []variable {
	var (
		state, base, records, action, message string
		required                              bool
		usage, matchUsage, matchDepth         = "0", "", ""
		verified                              = false
		matchName                             string
	)
	addr := ""
	if r.addr.IsValid() {
		addr = r.addr.String()
	}
	if d := r.decision; d != nil {
		action, message, required = d.Action.String(), d.Message, d.Required
		if s := d.Set; s != nil {
			state, base = s.State.String(), s.BaseDomain
			recs := make([]string, len(s.Records))
			for i, rec := range s.Records {
				recs[i] = rec.String()
			}
			records = strings.Join(recs, ", ")
		}
	}
	if s := r.session; s != nil {
		usage = strconv.Itoa(s.UsageBits())
		if v := s.Verification; v != nil {
			verified = s.TLSOutDane() == "yes"
			matchUsage = strconv.Itoa(v.Usage)
			matchDepth = strconv.Itoa(v.MatchDepth)
			matchName = v.Name
		}
	}
	errText := ""
	if r.err != nil {
		errText = r.err.Error()
		var de *net.OpError
		if errors.As(r.err, &de) && de.Op == "dial" {
			errText = "connect: " + errText
		}
	}
	return []variable{
		{"tls_out_dane", yesNo(verified)},
		{"tls_out_tlsa_usage", usage},
		{"tls_out_cv", r.session.CV()},
		{"dane_host", r.host},
		{"dane_port", strconv.Itoa(r.port)},
		{"dane_address", addr},
		{"dane_address_dnssec", yesNo(r.addrSecure)},
		{"dane_required", yesNo(required)},
		{"dane_tlsa_state", state},
		{"dane_tlsa_base", base},
		{"dane_tlsa_records", records},
		{"dane_action", action},
		{"dane_message", message},
		{"dane_event", strings.Join(r.events, " ")},
		{"dane_verified", yesNo(verified)},
		{"dane_match_usage", matchUsage},
		{"dane_match_depth", matchDepth},
		{"dane_match_name", matchName},
		{"dane_error", errText},
	}
}
