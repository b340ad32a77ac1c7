package resolvertest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// Zone is a set of records plus injected failures, safe to change while
// a server is answering from it.
type Zone struct {
	mu        sync.RWMutex
	names     map[string][]dns.RR // by lower-case FQDN; present = name exists
	timeouts  map[override]bool
	rcodes    map[override]int
	truncate  map[override]bool
	authentic bool

	queries atomic.Int64
}

// override keys an injected failure; qtype 0 matches every type.
type override struct {
	name  string
	qtype uint16
}

// NewZone returns an empty zone.
func NewZone() *Zone {
	return &Zone{
		names:    make(map[string][]dns.RR),
		timeouts: make(map[override]bool),
		rcodes:   make(map[override]int),
		truncate: make(map[override]bool),
	}
}

// Add parses zone-file lines such as `example.com. 300 IN TXT "v=spf1 -all"`
// and adds the records. Relative owner names are taken relative to the
// root; a missing TTL defaults to 3600.
func (z *Zone) Add(rrs ...string) error {
	parsed := make([]dns.RR, 0, len(rrs))
	for _, s := range rrs {
		rr, err := dns.NewRR(s)
		if err != nil {
			return fmt.Errorf("resolvertest: parsing %q: %w", s, err)
		}
		if rr == nil {
			return fmt.Errorf("resolvertest: no record in %q", s)
		}
		parsed = append(parsed, rr)
	}
	z.AddRR(parsed...)
	return nil
}

// MustAdd is Add that fails the test on a parse error.
func (z *Zone) MustAdd(tb testing.TB, rrs ...string) {
	tb.Helper()
	if err := z.Add(rrs...); err != nil {
		tb.Fatal(err)
	}
}

// AddRR adds records as they are.
func (z *Zone) AddRR(rrs ...dns.RR) {
	z.mu.Lock()
	defer z.mu.Unlock()
	for _, rr := range rrs {
		if rr == nil {
			continue
		}
		key := dns.CanonicalName(rr.Header().Name)
		z.names[key] = append(z.names[key], rr)
	}
}

// AddName makes name exist without records, so every query for it gets
// NODATA rather than NXDOMAIN; this is how a test declares an empty
// non-terminal, which the zone never infers.
func (z *Zone) AddName(name string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	key := dns.CanonicalName(name)
	if _, ok := z.names[key]; !ok {
		z.names[key] = nil
	}
}

// SetTimeout makes the server ignore queries for name and qtype (0: any
// type), so clients see a timeout.
func (z *Zone) SetTimeout(name string, qtype uint16) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.timeouts[override{dns.CanonicalName(name), qtype}] = true
}

// SetRcode makes queries for name and qtype (0: any type) get an empty
// reply with rcode, e.g. dns.RcodeServerFailure. dns.RcodeSuccess removes
// the override.
func (z *Zone) SetRcode(name string, qtype uint16, rcode int) {
	z.mu.Lock()
	defer z.mu.Unlock()
	key := override{dns.CanonicalName(name), qtype}
	if rcode == dns.RcodeSuccess {
		delete(z.rcodes, key)
		return
	}
	z.rcodes[key] = rcode
}

// SetAuthentic sets or clears the AD bit in every reply, as a validating
// resolver would.
func (z *Zone) SetAuthentic(on bool) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.authentic = on
}

// Queries returns how many queries the zone has been asked, including
// ignored ones, so tests can check caching and retry behaviour.
func (z *Zone) Queries() int64 { return z.queries.Load() }

// maxCNAMEChain bounds in-zone CNAME chasing so a loop in test data
// cannot hang a reply.
const maxCNAMEChain = 8

// answer is what the zone says to one question.
type answer struct {
	drop      bool // say nothing
	rcode     int
	records   []dns.RR
	soa       dns.RR // for denials: the enclosing zone's SOA, if any
	authentic bool
	truncate  bool // over UDP, set TC and send no records
}

func (z *Zone) lookup(q dns.Question) answer {
	z.queries.Add(1)
	z.mu.RLock()
	defer z.mu.RUnlock()

	name := dns.CanonicalName(q.Name)
	if z.timeouts[override{name, q.Qtype}] || z.timeouts[override{name, 0}] {
		return answer{drop: true}
	}
	a := answer{authentic: z.authentic}
	a.truncate = z.truncate[override{name, q.Qtype}] || z.truncate[override{name, 0}]
	if rc, ok := z.rcodes[override{name, q.Qtype}]; ok {
		a.rcode = rc
		return a
	}
	if rc, ok := z.rcodes[override{name, 0}]; ok {
		a.rcode = rc
		return a
	}
	if q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY {
		a.rcode = dns.RcodeRefused
		return a
	}

	follow := q.Qtype != dns.TypeCNAME && q.Qtype != dns.TypeANY
	seen := map[string]bool{}
	for hops := 0; ; hops++ {
		rrs, ok := z.names[name]
		if !ok {
			// NXDOMAIN is about the last name in the chain (RFC 6604), so
			// the CNAMEs leading there stay in the answer.
			a.rcode = dns.RcodeNameError
			a.soa = z.enclosingSOA(name)
			return a
		}
		seen[name] = true
		if cname := findCNAME(rrs); follow && cname != nil {
			if hops == maxCNAMEChain {
				return a
			}
			a.records = append(a.records, dns.Copy(cname))
			name = dns.CanonicalName(cname.Target)
			if seen[name] {
				return a
			}
			continue
		}
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype || q.Qtype == dns.TypeANY {
				a.records = append(a.records, dns.Copy(rr))
			}
		}
		if len(a.records) == 0 || (hops > 0 && len(a.records) == hops) {
			a.soa = z.enclosingSOA(name) // NODATA
		}
		return a
	}
}

// enclosingSOA returns a copy of the SOA record at name or the nearest
// ancestor that has one, for the authority section of a denial (RFC
// 2308: resolvers cache the denial for its TTL).
func (z *Zone) enclosingSOA(name string) dns.RR {
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		for _, rr := range z.names[name[off:]] {
			if soa, ok := rr.(*dns.SOA); ok {
				return dns.Copy(soa)
			}
		}
	}
	return nil
}

func findCNAME(rrs []dns.RR) *dns.CNAME {
	for _, rr := range rrs {
		if c, ok := rr.(*dns.CNAME); ok {
			return c
		}
	}
	return nil
}
