package iprev

import (
	"context"
	"errors"
	"net/netip"
	"strings"

	"github.com/mailpolicy/mailpolicy/eximvar"
	"github.com/mailpolicy/mailpolicy/resolver"
)

// MaxNames bounds the PTR names whose addresses are looked up. Names
// past it (counting only valid host names, each once) are ignored.
const MaxNames = 10

// Result is the iprev verdict; String gives RFC 8601's word.
type Result int

const (
	// None is the zero value: no check was made. Check never returns
	// it; ARResult is empty for it, as Exim writes no iprev method when
	// no host lookup was done. A forgotten Outcome is never a pass.
	None Result = iota
	Pass
	Fail
	TempError
	PermError
)

var resultWords = [...]string{None: "none", Pass: "pass", Fail: "fail", TempError: "temperror", PermError: "permerror"}

// String returns "none", "pass", "fail", "temperror" or "permerror";
// an undefined value gives "permerror".
func (r Result) String() string {
	if r >= 0 && int(r) < len(resultWords) {
		return resultWords[r]
	}
	return "permerror"
}

// Resolver is the DNS access Check needs; *resolver.Resolver and
// resolver.NetResolver satisfy it. Each method reports whether its
// answer was DNSSEC-authenticated.
//
// Errors are classified with errors.Is: resolver.ErrNotFound and
// resolver.ErrNoData (or a *net.DNSError with IsNotFound) mean no
// records; resolver.ErrPermanent is a permanent failure; anything else,
// including the context's error, is temporary.
type Resolver interface {
	// LookupAddr returns the PTR names of addr.
	LookupAddr(ctx context.Context, addr netip.Addr) (names []string, authentic bool, err error)
	// LookupNetIP looks up A ("ip4") or AAAA ("ip6") records.
	LookupNetIP(ctx context.Context, network, host string) (addrs []netip.Addr, authentic bool, err error)
}

// Option configures Check.
type Option func(*config)

type config struct{ res Resolver }

// WithResolver makes Check use r for every DNS query. Without it Check
// uses resolver.Default(), shared by the whole process; a server should
// pass its own *resolver.Resolver (with its cache and timeout).
func WithResolver(r Resolver) Option { return func(c *config) { c.res = r } }

// Outcome is the result of one Check.
type Outcome struct {
	Result Result
	// IP is the client address checked: IPv4-mapped addresses unmapped,
	// zone dropped.
	IP netip.Addr
	// Name is $sender_host_name: the first name, in PTR answer order,
	// whose addresses include IP; lower case, without trailing dot;
	// empty unless Result is Pass.
	Name string
	// Names are the PTR names considered: valid host names only, lower
	// case, without trailing dot, duplicates dropped, at most MaxNames.
	Names []string
	// LookupFailed is $host_lookup_failed (Fail and PermError);
	// LookupDeferred is $host_lookup_deferred (TempError).
	LookupFailed, LookupDeferred bool
	// Authentic reports that every DNS answer the result rests on (the
	// PTR answer and each forward answer looked at, negative ones
	// included) was DNSSEC-authenticated. Always false for TempError
	// and PermError.
	Authentic bool
	// Err is the DNS failure behind TempError or PermError.
	Err error
}

// Check runs the iprev check for ip: its PTR names, then the A (IPv4
// and IPv4-mapped clients) or AAAA (IPv6) records of each valid name,
// in answer order, until one includes ip. The context bounds the whole
// check.
func Check(ctx context.Context, ip netip.Addr, opts ...Option) *Outcome {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if c.res == nil {
		c.res = resolver.Default()
	}
	ip = ip.Unmap().WithZone("")
	o := &Outcome{IP: ip}
	if !ip.IsValid() {
		return o.fail(PermError, &resolver.Error{Kind: resolver.ErrPermanent, Rcode: resolver.NoRcode,
			Err: errors.New("iprev: invalid IP address")})
	}
	ptrs, auth, err := c.res.LookupAddr(ctx, ip)
	o.Authentic = auth
	if err != nil {
		if resolver.IsNoRecord(err) {
			// NXDOMAIN or NODATA: a definite answer (RFC 8601 §3: no
			// PTR is a fail; Exim sets $host_lookup_failed).
			return o.fail(Fail, nil)
		}
		return o.fail(classify(err), err)
	}
	for _, n := range ptrs {
		n = strings.ToLower(strings.TrimSuffix(n, "."))
		if len(o.Names) < MaxNames && validHostName(n) && !contains(o.Names, n) {
			o.Names = append(o.Names, n)
		}
	}
	network := "ip4"
	if ip.Is6() {
		network = "ip6"
	}
	worst := Fail
	var worstErr error
	for _, n := range o.Names {
		if err := ctx.Err(); err != nil {
			return o.fail(TempError, err)
		}
		addrs, auth, err := c.res.LookupNetIP(ctx, network, n)
		o.Authentic = o.Authentic && auth
		if err != nil {
			if !resolver.IsNoRecord(err) {
				// A temporary failure outranks a permanent one: that name
				// might still confirm later. A permanent answer is never
				// reported as temporary.
				if r := classify(err); worst == Fail || r == TempError && worst != TempError {
					worst, worstErr = r, err
				}
			}
			continue
		}
		for _, a := range addrs {
			if a.Unmap() == ip {
				o.Result, o.Name = Pass, n
				return o
			}
		}
	}
	return o.fail(worst, worstErr)
}

func contains(names []string, n string) bool {
	for _, s := range names {
		if s == n {
			return true
		}
	}
	return false
}

func (o *Outcome) fail(r Result, err error) *Outcome {
	o.Result, o.Err = r, err
	switch r {
	case TempError:
		o.LookupDeferred, o.Authentic = true, false
	case PermError:
		o.LookupFailed, o.Authentic = true, false
	default:
		o.LookupFailed = true
	}
	return o
}

func classify(err error) Result {
	if errors.Is(err, resolver.ErrPermanent) {
		return PermError
	}
	return TempError
}

// validHostName accepts what may stand in $sender_host_name and an
// Authentication-Results comment: LDH host names (RFC 1123 §2.1), that
// is labels of 1-63 letters, digits and hyphens, not starting or ending
// with a hyphen, separated by single dots, 253 octets at most, given in
// lower case and without the trailing dot. Anything else a PTR zone may
// publish (escaped octets, spaces, parentheses, semicolons, controls,
// UTF-8, underscores) is refused.
func validHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	label := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if label == 0 || s[i-1] == '-' {
				return false
			}
			label = 0
			continue
		case c == '-':
			if label == 0 {
				return false
			}
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		default:
			return false
		}
		label++
		if label > 63 {
			return false
		}
	}
	return label > 0 && s[len(s)-1] != '-'
}

// Variables returns Exim's host-lookup variables in a fixed order:
// sender_host_name, host_lookup_failed ("0" or "1"),
// host_lookup_deferred ("0" or "1").
func (o *Outcome) Variables() []eximvar.Variable {
	return []eximvar.Variable{
		{Name: "sender_host_name", Value: o.Name},
		{Name: "host_lookup_failed", Value: zeroOne(o.LookupFailed)},
		{Name: "host_lookup_deferred", Value: zeroOne(o.LookupDeferred)},
	}
}

func zeroOne(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// ARResult is the iprev method as Exim's ${authresults} writes it,
// without the separating ";": "iprev=pass (mail.example.com)
// smtp.remote-ip=192.0.2.1", "iprev=fail smtp.remote-ip=192.0.2.1",
// "iprev=temperror …" or "iprev=permerror …" (Exim, having no
// permerror, writes fail there). Empty for None. The name comment is
// written only when Name is a valid host name, so nothing a PTR zone
// (or a hand-built Outcome) holds can add text to the header; the
// output is always 7-bit.
func (o *Outcome) ARResult() string { return o.arResult("smtp.remote-ip=", true) }

// ARResultRFC is the same method with RFC 8601 §2.7.3's registered
// property instead of Exim's smtp.remote-ip, the name after it:
// "iprev=pass policy.iprev=192.0.2.1 (mail.example.com)". Empty for
// None.
func (o *Outcome) ARResultRFC() string { return o.arResult("policy.iprev=", false) }

func (o *Outcome) arResult(prop string, commentFirst bool) string {
	if o == nil || o.Result == None {
		return ""
	}
	comment := ""
	if o.Result == Pass && validHostName(o.Name) {
		comment = " (" + o.Name + ")"
	}
	var b strings.Builder
	b.WriteString("iprev=")
	b.WriteString(o.Result.String())
	if commentFirst {
		b.WriteString(comment)
	}
	if ip := o.IP.Unmap().WithZone(""); ip.IsValid() {
		b.WriteByte(' ')
		b.WriteString(prop)
		b.WriteString(ip.String())
	}
	if !commentFirst {
		b.WriteString(comment)
	}
	return b.String()
}
