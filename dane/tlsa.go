package dane

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// TLSA usages, selectors and matching types (RFC 6698, RFC 7218 names).
const (
	UsagePKIXTA = 0 // unusable for SMTP (RFC 7672 §3.1.3)
	UsagePKIXEE = 1 // unusable for SMTP (RFC 7672 §3.1.3)
	UsageDANETA = 2
	UsageDANEEE = 3

	SelectorCert = 0
	SelectorSPKI = 1

	MatchFull   = 0
	MatchSHA256 = 1
	MatchSHA512 = 2
)

// TLSA is one TLSA record's data.
type TLSA struct {
	Usage        uint8
	Selector     uint8
	MatchingType uint8
	Data         []byte // certificate association data
}

// String gives the record in presentation format, "3 1 1 <hex>".
func (r TLSA) String() string {
	return fmt.Sprintf("%d %d %d %x", r.Usage, r.Selector, r.MatchingType, r.Data)
}

// Usable reports whether an SMTP client may use the record, as Exim's
// dane_tlsa_load decides: usage DANE-TA(2) or DANE-EE(3), selector 0 or
// 1, matching type 0, 1 or 2, and non-empty data of the right length for
// the digests.
func (r TLSA) Usable() bool {
	if r.Usage != UsageDANETA && r.Usage != UsageDANEEE {
		return false
	}
	if r.Selector > SelectorSPKI {
		return false
	}
	switch r.MatchingType {
	case MatchFull:
		return len(r.Data) > 0
	case MatchSHA256:
		return len(r.Data) == 32
	case MatchSHA512:
		return len(r.Data) == 64
	}
	return false
}

// ParseTLSA parses the presentation form "usage selector mtype hexdata"
// (the hex may contain spaces).
func ParseTLSA(s string) (TLSA, error) {
	f := strings.Fields(s)
	if len(f) < 4 {
		return TLSA{}, fmt.Errorf("dane: TLSA %q: want usage, selector, matching type and data", s)
	}
	var nums [3]uint8
	for i := range nums {
		n, err := strconv.ParseUint(f[i], 10, 8)
		if err != nil {
			return TLSA{}, fmt.Errorf("dane: TLSA %q: field %d: %w", s, i+1, err)
		}
		nums[i] = uint8(n)
	}
	data, err := hex.DecodeString(strings.Join(f[3:], ""))
	if err != nil {
		return TLSA{}, fmt.Errorf("dane: TLSA %q: data: %w", s, err)
	}
	return TLSA{Usage: nums[0], Selector: nums[1], MatchingType: nums[2], Data: data}, nil
}

// State is the DNSSEC status of a TLSA lookup, the rows of Exim's
// tlsa_lookup table (spec §3.3).
type State int

const (
	// StateNone: no TLSA records (NXDOMAIN or NODATA, whether or not the
	// denial was authenticated; TLSASet.Authentic tells).
	StateNone State = iota
	// StateSecure: records present and the validating resolver set AD.
	StateSecure
	// StateInsecure: records present but not DNSSEC-validated (no AD,
	// or AD from a resolver that is not trusted). Exim logs
	// "TLSA lookup for <host> not DNSSEC" and treats them as absent.
	StateInsecure
	// StateBogus: the resolver answered SERVFAIL. A validating
	// resolver answers SERVFAIL when DNSSEC validation fails (bogus data,
	// RFC 4035 §5.5); a SERVFAIL cannot be told apart from other server
	// failures, so every SERVFAIL counts as bogus. This is Exim's "other
	// failure" row: FAIL when DANE is required, DEFER when only tried.
	StateBogus
	// StateFailed: another permanent DNS failure (REFUSED, FORMERR,
	// NOTIMP, malformed reply): the same row as StateBogus.
	StateFailed
	// StateTempFail: no answer (timeout, network error, cancelled
	// context): Exim's DNS_AGAIN, DEFER whether required or not.
	StateTempFail
)

var stateNames = [...]string{"none", "secure", "insecure", "bogus", "failed", "tempfail"}

func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// TLSASet is the result of LookupTLSA.
type TLSASet struct {
	Host string // host name asked for
	Port int
	// BaseDomain is the TLSA base domain (RFC 7672 §2.2.3): the host
	// name after a DNSSEC-secure CNAME expansion when TLSA records were
	// found there, else Host.
	BaseDomain string
	QName      string // the TLSA query name, "_port._tcp.BaseDomain"
	State      State
	// Authentic reports the AD bit of the deciding answer; for StateNone
	// it says whether the denial of existence was authenticated.
	Authentic bool
	Records   []TLSA
	// Names are the reference identifiers for DANE-TA(2) name checks:
	// BaseDomain and, when it differs, Host (RFC 7672 §3.2.2).
	Names []string
	// Err is the DNS error behind StateBogus, StateFailed and
	// StateTempFail.
	Err error

	// links caches verified signatures for Verify (see linkCache); sets
	// made by LookupTLSA or NewTLSASet have one.
	links *linkCache
}

// NewTLSASet returns a secure set for host and port with the given
// records, for callers that got the records elsewhere (and vouch for
// their DNSSEC status). Base domain and reference name are host.
func NewTLSASet(host string, port int, records ...TLSA) *TLSASet {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	return &TLSASet{
		Host: host, Port: port, BaseDomain: host,
		QName: "_" + strconv.Itoa(port) + "._tcp." + host,
		State: StateSecure, Authentic: true, Records: records,
		Names: []string{host}, links: newLinkCache(),
	}
}

// Usable returns the records an SMTP client uses (see TLSA.Usable).
func (s *TLSASet) Usable() []TLSA {
	if s == nil {
		return nil
	}
	var out []TLSA
	for _, r := range s.Records {
		if r.Usable() {
			out = append(out, r)
		}
	}
	return out
}

// UsageBits is Exim's $tls_out_tlsa_usage for the set: bit 1<<usage for
// each loaded record. Only usable records (usages 2 and 3) are loaded,
// so the value is 0, 4, 8 or 12. It is 0 unless the set is secure.
func (s *TLSASet) UsageBits() int {
	if s == nil || s.State != StateSecure {
		return 0
	}
	bits := 0
	for _, r := range s.Usable() {
		bits |= 1 << r.Usage
	}
	return bits
}

// LookupTLSA looks up the TLSA records of the SMTP server host on port
// ("_port._tcp.host"), following RFC 7672 §2.2.2-2.2.3: when host is a
// DNSSEC-secure CNAME alias, the expanded name is tried first and the
// original name only when the expanded one securely has no TLSA records.
//
// DNS outcomes are reported in the set's State, not as errors; the error
// is non-nil for unusable arguments and, together with the set, for
// StateBogus, StateFailed and StateTempFail. Only AD bits from a trusted
// resolver count (see WithResolver).
func LookupTLSA(ctx context.Context, host string, port int, opts ...Option) (*TLSASet, error) {
	c := newConfig(opts)
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" || len(host) > 253 {
		return nil, fmt.Errorf("dane: invalid host name %q", host)
	}
	if port <= 0 || port > 65535 {
		return nil, fmt.Errorf("dane: invalid port %d", port)
	}
	r := c.dnsResolver()
	if canon, secure, err := r.LookupCNAME(ctx, host); err == nil && secure {
		canon = strings.TrimSuffix(strings.ToLower(canon), ".")
		if canon != "" && canon != host {
			set := lookupAt(ctx, r, host, canon, port)
			if !(set.State == StateNone && set.Authentic) {
				return set, set.Err
			}
		}
	}
	set := lookupAt(ctx, r, host, host, port)
	return set, set.Err
}

func lookupAt(ctx context.Context, r Resolver, host, base string, port int) *TLSASet {
	set := &TLSASet{Host: host, Port: port, BaseDomain: base, QName: "_" + strconv.Itoa(port) + "._tcp." + base, links: newLinkCache()}
	set.Names = []string{base}
	if base != host {
		set.Names = append(set.Names, host)
	}
	rrs, auth, err := r.LookupTLSA(ctx, set.QName)
	err = markBogus(err)
	set.Authentic = auth
	switch {
	case err == nil && len(rrs) > 0:
		set.Records = make([]TLSA, len(rrs))
		for i, rr := range rrs {
			set.Records[i] = TLSA(rr)
		}
		if auth {
			set.State = StateSecure
		} else {
			set.State = StateInsecure
		}
	case err == nil, errors.Is(err, ErrNotFound), errors.Is(err, ErrNoData):
		set.State = StateNone
	case errors.Is(err, ErrBogus):
		set.State, set.Err = StateBogus, err
	case errors.Is(err, ErrPermanent):
		set.State, set.Err = StateFailed, err
	default:
		set.State, set.Err = StateTempFail, err
	}
	return set
}

// tlsaFromRR converts a DNS TLSA record.
func tlsaFromRR(rr *dns.TLSA) (TLSA, bool) {
	data, err := hex.DecodeString(rr.Certificate)
	if err != nil {
		return TLSA{}, false
	}
	return TLSA{Usage: rr.Usage, Selector: rr.Selector, MatchingType: rr.MatchingType, Data: data}, true
}
