package resolvertest

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func faultZone(t *testing.T) (*Zone, *Server) {
	t.Helper()
	z := MustParseZone(t, `
$ORIGIN example.com.
$TTL 300
@    SOA ns hostmaster 1 3600 600 86400 60
@    TXT "apex"
www  A   192.0.2.1
www  TXT "www"
`)
	return z, Start(t, z)
}

// ask sends one query and fails the test if no reply comes.
func ask(t *testing.T, network, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	r, err := exchange(t, network, addr, query(name, qtype, 1232, true))
	if err != nil {
		t.Fatalf("%s %s over %s: %v", name, dns.TypeToString[qtype], network, err)
	}
	return r
}

func silent(t *testing.T, network, addr, name string, qtype uint16) bool {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 150 * time.Millisecond}
	_, _, err := c.Exchange(query(name, qtype, 1232, true), addr)
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestSetFault(t *testing.T) {
	tests := []struct {
		name  string
		fault Fault
		rcode int // -1: no reply
	}{
		{"timeout", FaultTimeout, -1},
		{"SERVFAIL", FaultServFail, dns.RcodeServerFailure},
		{"REFUSED", FaultRefused, dns.RcodeRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, s := faultZone(t)
			z.SetFault("WWW.example.com", dns.TypeA, tt.fault) // any case, no dot
			for _, network := range []string{"udp", "tcp"} {
				if tt.rcode < 0 {
					if !silent(t, network, s.Addr, "www.example.com.", dns.TypeA) {
						t.Errorf("%s: the server answered", network)
					}
				} else {
					r := ask(t, network, s.Addr, "www.example.com.", dns.TypeA)
					if r.Rcode != tt.rcode || len(r.Answer) != 0 || len(r.Ns) != 0 {
						t.Errorf("%s: %s with %d answers, %d authority; want an empty %s",
							network, dns.RcodeToString[r.Rcode], len(r.Answer), len(r.Ns), dns.RcodeToString[tt.rcode])
					}
				}
			}
			// Other types of the name and other names are unaffected.
			if r := ask(t, "udp", s.Addr, "www.example.com.", dns.TypeTXT); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
				t.Errorf("TXT of the same name: %v", r)
			}
			if r := ask(t, "udp", s.Addr, "example.com.", dns.TypeA); r.Rcode != dns.RcodeSuccess {
				t.Errorf("another name: %v", r)
			}

			z.SetFault("www.example.com.", dns.TypeA, FaultNone)
			if r := ask(t, "udp", s.Addr, "www.example.com.", dns.TypeA); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
				t.Errorf("after FaultNone: %v", r)
			}
		})
	}
}

func TestSetFaultAnyType(t *testing.T) {
	z, s := faultZone(t)
	z.SetFault("www.example.com", 0, FaultServFail)
	for _, qtype := range []uint16{dns.TypeA, dns.TypeTXT, dns.TypeMX} {
		if r := ask(t, "udp", s.Addr, "www.example.com.", qtype); r.Rcode != dns.RcodeServerFailure {
			t.Errorf("%s: %s", dns.TypeToString[qtype], dns.RcodeToString[r.Rcode])
		}
	}
	// FaultNone for one type leaves the fault for all types alone.
	z.SetFault("www.example.com", dns.TypeA, FaultNone)
	if r := ask(t, "udp", s.Addr, "www.example.com.", dns.TypeA); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("after clearing only A: %s", dns.RcodeToString[r.Rcode])
	}
	z.SetFault("www.example.com", 0, FaultNone)
	if r := ask(t, "udp", s.Addr, "www.example.com.", dns.TypeMX); r.Rcode != dns.RcodeSuccess {
		t.Errorf("after clearing: %s", dns.RcodeToString[r.Rcode])
	}
}

func TestSetFaultTruncate(t *testing.T) {
	z, s := faultZone(t)
	z.SetFault("www.example.com", dns.TypeA, FaultTruncate)
	r := ask(t, "udp", s.Addr, "www.example.com.", dns.TypeA)
	if !r.Truncated || len(r.Answer) != 0 || len(r.Ns) != 0 || r.Rcode != dns.RcodeSuccess {
		t.Errorf("UDP: TC %v, %d answers, %d authority, %s; want TC and nothing else",
			r.Truncated, len(r.Answer), len(r.Ns), dns.RcodeToString[r.Rcode])
	}
	if len(r.Question) != 1 || r.IsEdns0() == nil {
		t.Errorf("UDP: the truncated reply lost its question or OPT: %v", r)
	}
	r = ask(t, "tcp", s.Addr, "www.example.com.", dns.TypeA)
	if r.Truncated || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.1" {
		t.Errorf("TCP: %v", r)
	}
	// Only that question: a small answer for another type is not cut.
	if r := ask(t, "udp", s.Addr, "www.example.com.", dns.TypeTXT); r.Truncated || len(r.Answer) != 1 {
		t.Errorf("TXT: %v", r)
	}
	// Truncation of a denial drops its SOA too.
	z.SetFault("missing.example.com", 0, FaultTruncate)
	if r := ask(t, "udp", s.Addr, "missing.example.com.", dns.TypeA); !r.Truncated || len(r.Ns) != 0 || r.Rcode != dns.RcodeNameError {
		t.Errorf("truncated NXDOMAIN: %v", r)
	}

	// Faults combine, and FaultNone clears them all.
	z.SetFault("www.example.com", dns.TypeA, FaultRefused)
	if r := ask(t, "udp", s.Addr, "www.example.com.", dns.TypeA); r.Rcode != dns.RcodeRefused || !r.Truncated {
		t.Errorf("REFUSED and truncated: %v", r)
	}
	z.SetFault("www.example.com", dns.TypeA, FaultTimeout)
	if !silent(t, "udp", s.Addr, "www.example.com.", dns.TypeA) {
		t.Error("timeout wins over the others: the server answered")
	}
	z.SetFault("www.example.com", dns.TypeA, FaultNone)
	r = ask(t, "udp", s.Addr, "www.example.com.", dns.TypeA)
	if r.Truncated || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Errorf("after FaultNone: %v", r)
	}
}

// TestSetFaultClearsOldAPI: SetTimeout and SetRcode set the same
// faults as SetFault, so FaultNone clears what they set.
func TestSetFaultClearsOldAPI(t *testing.T) {
	z, s := faultZone(t)
	z.SetTimeout("www.example.com", dns.TypeA)
	z.SetRcode("www.example.com", dns.TypeTXT, dns.RcodeServerFailure)
	z.SetFault("www.example.com", dns.TypeA, FaultNone)
	z.SetFault("www.example.com", dns.TypeTXT, FaultNone)
	for _, qtype := range []uint16{dns.TypeA, dns.TypeTXT} {
		if r := ask(t, "udp", s.Addr, "www.example.com.", qtype); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			t.Errorf("%s: %v", dns.TypeToString[qtype], r)
		}
	}
}

func soaOwner(r *dns.Msg) string {
	if len(r.Ns) != 1 {
		return ""
	}
	soa, ok := r.Ns[0].(*dns.SOA)
	if !ok {
		return "not an SOA: " + r.Ns[0].String()
	}
	return soa.Hdr.Name
}

func TestDenialsCarrySOA(t *testing.T) {
	z := MustParseZone(t, `
$ORIGIN example.com.
$TTL 300
@         SOA ns hostmaster 1 3600 600 86400 60
@         TXT "apex"
www       A   192.0.2.1
alias     CNAME www
dangling  CNAME gone.example.net.
$ORIGIN sub.example.com.
@         3600 SOA ns.sub.example.com. hostmaster.sub.example.com. 7 3600 600 86400 120
host      A   192.0.2.2
$ORIGIN example.net.
present   A   192.0.2.3
`)
	s := Start(t, z)
	tests := []struct {
		name    string
		qname   string
		qtype   uint16
		rcode   int
		soa     string // owner of the SOA in the authority section
		answers int
	}{
		{"NXDOMAIN", "missing.example.com.", dns.TypeA, dns.RcodeNameError, "example.com.", 0},
		{"NXDOMAIN deep", "a.b.c.example.com.", dns.TypeA, dns.RcodeNameError, "example.com.", 0},
		{"NODATA", "www.example.com.", dns.TypeMX, dns.RcodeSuccess, "example.com.", 0},
		{"NODATA at the apex", "example.com.", dns.TypeA, dns.RcodeSuccess, "example.com.", 0},
		{"NODATA through a CNAME", "alias.example.com.", dns.TypeMX, dns.RcodeSuccess, "example.com.", 1},
		{"nearest SOA: the child zone's", "missing.sub.example.com.", dns.TypeA, dns.RcodeNameError, "sub.example.com.", 0},
		{"child zone NODATA", "host.sub.example.com.", dns.TypeTXT, dns.RcodeSuccess, "sub.example.com.", 0},
		{"parent of every SOA", "com.", dns.TypeA, dns.RcodeNameError, "", 0},
		{"outside every SOA", "missing.example.org.", dns.TypeA, dns.RcodeNameError, "", 0},
		{"zone without SOA, NXDOMAIN", "missing.example.net.", dns.TypeA, dns.RcodeNameError, "", 0},
		{"zone without SOA, NODATA", "present.example.net.", dns.TypeTXT, dns.RcodeSuccess, "", 0},
		{"CNAME to a zone without SOA", "dangling.example.com.", dns.TypeA, dns.RcodeNameError, "", 1},
		{"positive answers have none", "www.example.com.", dns.TypeA, dns.RcodeSuccess, "", 1},
		{"nor do CNAME chains", "alias.example.com.", dns.TypeA, dns.RcodeSuccess, "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, network := range []string{"udp", "tcp"} {
				r := ask(t, network, s.Addr, tt.qname, tt.qtype)
				if r.Rcode != tt.rcode || len(r.Answer) != tt.answers {
					t.Errorf("%s: %s with %d answers, want %s with %d",
						network, dns.RcodeToString[r.Rcode], len(r.Answer), dns.RcodeToString[tt.rcode], tt.answers)
				}
				if got := soaOwner(r); got != tt.soa || (tt.soa == "" && len(r.Ns) != 0) {
					t.Errorf("%s: authority %v, want the SOA of %q", network, r.Ns, tt.soa)
				}
			}
		})
	}

	// The SOA is sent as the zone has it: TTL and MINIMUM give the
	// negative TTL.
	r := ask(t, "udp", s.Addr, "missing.sub.example.com.", dns.TypeA)
	if soa := r.Ns[0].(*dns.SOA); soa.Hdr.Ttl != 3600 || soa.Minttl != 120 || soa.Serial != 7 {
		t.Errorf("SOA %v", soa)
	}
	// A copy: a client changing its reply does not change the zone.
	z.lookup(q("missing.example.com", dns.TypeA)).soa.Header().Ttl = 1
	r = ask(t, "udp", s.Addr, "missing.example.com.", dns.TypeA)
	if r.Ns[0].Header().Ttl != 300 {
		t.Errorf("the zone's SOA was changed through a reply: %v", r.Ns[0])
	}
	// SERVFAIL and REFUSED are not denials.
	z.SetFault("missing.example.com", 0, FaultServFail)
	if r := ask(t, "udp", s.Addr, "missing.example.com.", dns.TypeA); len(r.Ns) != 0 {
		t.Errorf("SERVFAIL with authority %v", r.Ns)
	}
}
