package dane

import (
	"context"
	"net/netip"
	"strconv"

	"github.com/mailpolicy/mailpolicy/hostlist"
)

// Event data of the dane:fail event (spec §3.5; the TLSRPT result types
// of RFC 8460 §4.3).
const (
	EventDANEFail            = "dane:fail"
	DataDANERequired         = "dane-required"
	DataDNSSECInvalid        = "dnssec-invalid"
	DataValidationFailure    = "validation-failure"
	DataSTARTTLSNotSupported = "starttls-not-supported"
)

// EventFunc receives events, as Exim's transport event_action: name is
// the event ("dane:fail"), data is $event_data.
type EventFunc func(name, data string)

// Policy is the smtp transport's DANE configuration.
type Policy struct {
	// TryHosts is hosts_try_dane. nil means Exim's default "*"; an empty
	// parsed list matches no host.
	TryHosts *hostlist.List
	// RequireHosts is hosts_require_dane (default unset: nil).
	RequireHosts *hostlist.List
	// Event, when set, receives the dane:fail events.
	Event EventFunc
}

// Action is what to do with one host.
type Action int

const (
	// ActionNoDANE: connect without DANE (opportunistic TLS as usual).
	ActionNoDANE Action = iota
	// ActionDANE: connect; TLS is mandatory and verified with DANE only.
	ActionDANE
	// ActionFail: do not connect; the addresses fail for this host.
	ActionFail
	// ActionDefer: do not connect; the addresses are deferred.
	ActionDefer
)

var actionNames = [...]string{"no-dane", "dane", "fail", "defer"}

func (a Action) String() string {
	if a >= 0 && int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// Decision is the DANE decision for one host, before connecting.
type Decision struct {
	Host     string
	Required bool // host matches RequireHosts
	Tried    bool // host matches TryHosts or RequireHosts
	Action   Action
	// Set is the TLSA lookup result, nil when no lookup was made.
	Set *TLSASet
	// Message is Exim's log/error text for a DANE error ("DANE error:
	// ..."), empty otherwise.
	Message string
	// EventData is the dane:fail data emitted, empty if none.
	EventData string
}

func (p *Policy) tries(host string, ip netip.Addr) bool {
	if p.TryHosts == nil {
		return true
	}
	return p.TryHosts.Match(host, ip)
}

func (p *Policy) emit(data string) {
	if p.Event != nil {
		p.Event(EventDANEFail, data)
	}
}

// Check makes the decision for host (the MX target name) at ip and port,
// looking TLSA records up when needed. addrSecure is Exim's
// dnssec_used: every lookup leading to ip was DNSSEC-authenticated (see
// LookupHost).
func (p *Policy) Check(ctx context.Context, host string, ip netip.Addr, port int, addrSecure bool, opts ...Option) *Decision {
	required := p.RequireHosts.Match(host, ip)
	var set *TLSASet
	if addrSecure && (required || p.tries(host, ip)) {
		s, err := LookupTLSA(ctx, host, port, opts...)
		if s == nil {
			s = &TLSASet{Host: host, Port: port, State: StateFailed, Err: err}
		}
		set = s
	}
	return p.Decide(host, ip, addrSecure, set)
}

// Decide is Check with the TLSA lookup already done (set nil when none
// was made). It follows spec §3.2-3.3:
//
//	address not DNSSEC:        required → fail (dane-required); else no DANE
//	host in neither list:      no DANE
//	TLSA secure, usable:       DANE
//	TLSA secure, none usable:  defer ("No usable TLSA records")
//	TLSA insecure / none:      required → fail (dane-required); else no DANE
//	TLSA temporary failure:    defer (dane-required / dnssec-invalid)
//	TLSA bogus / failed:       required → fail (dane-required); else defer (dnssec-invalid)
func (p *Policy) Decide(host string, ip netip.Addr, addrSecure bool, set *TLSASet) *Decision {
	d := &Decision{Host: host, Set: set}
	d.Required = p.RequireHosts.Match(host, ip)
	d.Tried = d.Required || p.tries(host, ip)
	fail := func(a Action, msg, data string) *Decision {
		d.Action, d.Message, d.EventData = a, msg, data
		p.emit(data)
		return d
	}
	reqData := DataDNSSECInvalid
	if d.Required {
		reqData = DataDANERequired
	}
	switch {
	case !addrSecure:
		if d.Required {
			return fail(ActionFail, "DANE error: "+host+" lookup not DNSSEC", DataDANERequired)
		}
		return d
	case !d.Tried:
		return d
	case set == nil:
		return fail(ActionDefer, "DANE error: tlsa lookup DEFER", reqData)
	}
	switch set.State {
	case StateSecure:
		if len(set.Usable()) == 0 {
			d.Action, d.Message = ActionDefer, "DANE error: No usable TLSA records"
			return d
		}
		d.Action = ActionDANE
		return d
	case StateInsecure, StateNone:
		if set.State == StateInsecure {
			d.Message = "DANE error: TLSA lookup for " + host + " not DNSSEC"
		}
		if d.Required {
			if d.Message == "" {
				d.Message = "DANE error: tlsa lookup FAIL"
			}
			return fail(ActionFail, d.Message, DataDANERequired)
		}
		return d
	case StateTempFail:
		return fail(ActionDefer, "DANE error: tlsa lookup DEFER", reqData)
	default: // bogus, failed
		if d.Required {
			return fail(ActionFail, "DANE error: tlsa lookup FAIL", DataDANERequired)
		}
		return fail(ActionDefer, "DANE error: tlsa lookup DEFER", DataDNSSECInvalid)
	}
}
