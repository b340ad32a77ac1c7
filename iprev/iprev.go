package iprev

import (
	"context"
	"errors"
	"net/netip"
	"strings"

	"github.com/mailpolicy/mailpolicy/eximvar"
	"github.com/mailpolicy/mailpolicy/resolver"
)

// MaxNames bounds the PTR names whose addresses are looked up.
const MaxNames = 10

// Result is the iprev verdict; String gives RFC 8601's word.
type Result int

const (
	Pass Result = iota
	Fail
	TempError
	PermError
)

var resultWords = [...]string{Pass: "pass", Fail: "fail", TempError: "temperror", PermError: "permerror"}

func (r Result) String() string {
	if r >= 0 && int(r) < len(resultWords) {
		return resultWords[r]
	}
	return "permerror"
}

// Resolver is the DNS access Check needs. Errors are classified with
// errors.Is against resolver.ErrNotFound and resolver.ErrNoData (no
// records) and resolver.ErrPermanent; anything else is temporary.
type Resolver interface {
	LookupAddr(ctx context.Context, addr netip.Addr) (names []string, authentic bool, err error)
	LookupNetIP(ctx context.Context, network, host string) (addrs []netip.Addr, authentic bool, err error)
}

// Option configures Check.
type Option func(*config)

type config struct{ res Resolver }

// WithResolver makes Check use r; without it, resolver.Default().
func WithResolver(r Resolver) Option { return func(c *config) { c.res = r } }

// Outcome is the result of one Check.
type Outcome struct {
	Result Result
	IP     netip.Addr // the client address checked (unmapped)
	// Name is $sender_host_name: the confirmed name, lower case, without
	// trailing dot; empty unless Result is Pass.
	Name string
	// Names are the usable PTR names found (at most MaxNames), lower case.
	Names []string
	// LookupFailed is $host_lookup_failed, LookupDeferred is
	// $host_lookup_deferred.
	LookupFailed, LookupDeferred bool
	// Authentic reports that every answer used was DNSSEC-authenticated.
	Authentic bool
	// Err is the DNS failure behind TempError or PermError.
	Err error
}

// Check runs the iprev check for ip.
func Check(ctx context.Context, ip netip.Addr, opts ...Option) *Outcome {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if c.res == nil {
		c.res = resolver.Default()
	}
	ip = ip.Unmap().WithZone("")
	o := &Outcome{IP: ip, Authentic: true}
	if !ip.IsValid() {
		return o.fail(PermError, errors.New("iprev: invalid IP address"))
	}
	ptrs, auth, err := c.res.LookupAddr(ctx, ip)
	o.Authentic = auth
	if err != nil {
		if isNoRecord(err) {
			return o.fail(Fail, nil)
		}
		return o.fail(classify(err), err)
	}
	for _, n := range ptrs {
		n = strings.ToLower(strings.TrimSuffix(n, "."))
		if validHostName(n) && len(o.Names) < MaxNames {
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
		addrs, auth, err := c.res.LookupNetIP(ctx, network, n)
		o.Authentic = o.Authentic && auth
		if err != nil {
			if !isNoRecord(err) {
				// A temporary failure outranks a permanent one: the name
				// might still confirm later.
				if r := classify(err); worst == Fail || r == TempError {
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

func (o *Outcome) fail(r Result, err error) *Outcome {
	o.Result, o.Err = r, err
	if r == TempError {
		o.LookupDeferred = true
	} else {
		o.LookupFailed = true
	}
	if r != Pass {
		o.Authentic = false
	}
	return o
}

func isNoRecord(err error) bool {
	return errors.Is(err, resolver.ErrNotFound) || errors.Is(err, resolver.ErrNoData)
}

func classify(err error) Result {
	if errors.Is(err, resolver.ErrPermanent) {
		return PermError
	}
	return TempError
}

// validHostName accepts LDH labels of 1-63 octets, 253 octets in all:
// what may stand in $sender_host_name and an Authentication-Results
// comment.
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
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
		default:
			return false
		}
		label++
		if label > 63 {
			return false
		}
	}
	return s[len(s)-1] != '-'
}

// Variables returns Exim's host-lookup variables in a fixed order:
// sender_host_name, host_lookup_failed, host_lookup_deferred.
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

// ARResult is the method as Exim's ${authresults} writes it, without
// the separating ";": "iprev=pass (mail.example.com)
// smtp.remote-ip=192.0.2.1". Names are checked host names, so nothing
// from the PTR zone can add text beyond them.
func (o *Outcome) ARResult() string {
	var b strings.Builder
	b.WriteString("iprev=")
	b.WriteString(o.Result.String())
	if o.Result == Pass && o.Name != "" {
		b.WriteString(" (")
		b.WriteString(o.Name)
		b.WriteByte(')')
	}
	if o.IP.IsValid() {
		b.WriteString(" smtp.remote-ip=")
		b.WriteString(o.IP.String())
	}
	return b.String()
}
