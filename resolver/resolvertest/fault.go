package resolvertest

import "github.com/miekg/dns"

// Fault is a failure a Zone injects for one name.
type Fault int

const (
	// FaultNone removes the faults set for a name and type.
	FaultNone Fault = iota
	// FaultTimeout: the server stays silent.
	FaultTimeout
	// FaultServFail: an empty SERVFAIL reply (what a validating
	// resolver says for DNSSEC-bogus data).
	FaultServFail
	// FaultRefused: an empty REFUSED reply.
	FaultRefused
	// FaultTruncate: over UDP, the reply has the TC bit and no records,
	// so a client must retry over TCP, where the answer is normal.
	FaultTruncate
)

// SetFault makes queries for name and qtype (0: any type) fail with f;
// FaultNone clears every fault for that name and type.
func (z *Zone) SetFault(name string, qtype uint16, f Fault) {
	key := override{dns.CanonicalName(name), qtype}
	z.mu.Lock()
	defer z.mu.Unlock()
	switch f {
	case FaultNone:
		delete(z.timeouts, key)
		delete(z.rcodes, key)
		delete(z.truncate, key)
	case FaultTimeout:
		z.timeouts[key] = true
	case FaultServFail:
		z.rcodes[key] = dns.RcodeServerFailure
	case FaultRefused:
		z.rcodes[key] = dns.RcodeRefused
	case FaultTruncate:
		z.truncate[key] = true
	}
}
