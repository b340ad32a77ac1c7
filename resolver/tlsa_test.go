package resolver

import (
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/miekg/dns"
)

const (
	tlsaHash = "8755cdaa8fe24ef16cc0f2c918063185e433faaf1415664911d9e30a924138c4"
	tlsaFull = "0123456789abcdef"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLookupTLSA(t *testing.T) {
	z, s := serve(t,
		`_25._tcp.mx.example. TLSA 3 1 1 `+strings.ToUpper(tlsaHash),
		`_25._tcp.mx.example. TLSA 2 1 0 `+tlsaFull,
		`_25._tcp.alias.example. CNAME _25._tcp.mx.example.`,
		`_25._tcp.dangling.example. CNAME _25._tcp.gone.example.`,
		`_25._tcp.nodata.example. TXT "not a TLSA record"`,
		`example. SOA ns.example. hostmaster.example. 1 3600 600 86400 60`,
	)
	c := newClient(t, WithNameservers(s.Addr))
	want := []TLSA{
		{Usage: 3, Selector: 1, MatchingType: 1, Data: mustHex(t, tlsaHash)},
		{Usage: 2, Selector: 1, MatchingType: 0, Data: mustHex(t, tlsaFull)},
	}

	for _, name := range []string{"_25._tcp.mx.example", "_25._tcp.MX.example.", "_25._tcp.alias.example"} {
		t.Run(name, func(t *testing.T) {
			got, auth, err := c.LookupTLSA(ctxT(t), name)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
			if auth {
				t.Error("authentic without AD")
			}
		})
	}

	denials := []struct {
		name string
		kind error
	}{
		{"_25._tcp.missing.example", ErrNotFound},
		{"_25._tcp.dangling.example", ErrNotFound},
		{"_25._tcp.nodata.example", ErrNoData},
	}
	for _, authentic := range []bool{false, true} {
		z.SetAuthentic(authentic)
		for _, d := range denials {
			got, auth, err := c.LookupTLSA(ctxT(t), d.name)
			e := asError(t, err, d.kind)
			if got != nil || auth != authentic || e.Type != dns.TypeTLSA {
				t.Errorf("%s (AD %v): %v, authentic %v, %v", d.name, authentic, got, auth, err)
			}
		}
	}

	// DANE acts only on authentic answers, so the flag must come through.
	got, auth, err := c.LookupTLSA(ctxT(t), "_25._tcp.alias.example")
	if err != nil || !auth || len(got) != 2 {
		t.Errorf("with AD: %v, authentic %v, %v", got, auth, err)
	}

	z.SetFault("_25._tcp.mx.example", dns.TypeTLSA, resolvertest.FaultServFail)
	got, auth, err = c.LookupTLSA(ctxT(t), "_25._tcp.mx.example")
	asError(t, err, ErrTemporary)
	if got != nil || auth {
		t.Errorf("SERVFAIL: %v, authentic %v", got, auth)
	}

	_, _, err = c.LookupTLSA(ctxT(t), "bad..name")
	asError(t, err, ErrPermanent)
}

// A TLSA record whose data is not hex cannot come off the wire (miekg/dns
// encodes the octets it unpacks, and a server cannot pack such a record),
// so the only way in is a Response built in-process: the cache holds one
// here. The broken record is dropped and the others kept.
func TestLookupTLSADropsBadHex(t *testing.T) {
	_, s := serve(t, `unused.example. A 192.0.2.1`)
	c := newClient(t, WithNameservers(s.Addr), WithCache(10))
	const qname = "_25._tcp.mx.example."
	rec := func(cert string) dns.RR {
		return &dns.TLSA{
			Hdr:   dns.RR_Header{Name: qname, Rrtype: dns.TypeTLSA, Class: dns.ClassINET, Ttl: 300},
			Usage: 3, Selector: 1, MatchingType: 1, Certificate: cert,
		}
	}
	answer := []dns.RR{rec("zz"), rec(tlsaHash), rec("abc"), rec("")}
	m := new(dns.Msg)
	m.SetQuestion(qname, dns.TypeTLSA)
	m.Response, m.AuthenticatedData, m.Answer = true, true, answer
	c.cache.mu.Lock()
	c.cache.store(cacheKey{qname, dns.TypeTLSA}, &Response{Msg: m, Answer: answer, Authentic: true, Server: s.Addr}, nil)
	c.cache.mu.Unlock()

	got, auth, err := c.LookupTLSA(ctxT(t), qname)
	if err != nil || !auth {
		t.Fatalf("%v, authentic %v, %v", got, auth, err)
	}
	want := []TLSA{
		{Usage: 3, Selector: 1, MatchingType: 1, Data: mustHex(t, tlsaHash)},
		{Usage: 3, Selector: 1, MatchingType: 1, Data: []byte{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if s.Zone.Queries() != 0 {
		t.Error("the test's answer did not come from the cache")
	}
}

func TestTLSAString(t *testing.T) {
	tests := []struct {
		rec  TLSA
		want string
	}{
		{TLSA{3, 1, 1, mustHex(t, tlsaHash)}, "3 1 1 " + tlsaHash},
		{TLSA{2, 0, 0, []byte{0x00, 0xAB, 0xff}}, "2 0 0 00abff"},
		{TLSA{255, 255, 255, []byte{1}}, "255 255 255 01"},
	}
	for _, tt := range tests {
		if got := tt.rec.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}

	// The same text as miekg/dns's presentation of the record, after the
	// header, so logs from both read alike.
	rr, err := dns.NewRR("x. 300 IN TLSA 3 1 1 " + tlsaHash)
	if err != nil {
		t.Fatal(err)
	}
	rrText := rr.String()
	fields := strings.Fields(rrText)
	if want := strings.Join(fields[4:], " "); tests[0].rec.String() != want {
		t.Errorf("String() = %q, miekg/dns says %q", tests[0].rec.String(), want)
	}

	// String has a value receiver, so fmt uses it for values and
	// pointers alike.
	if got := fmt.Sprint(tests[1].rec, " ", &tests[1].rec); got != tests[1].want+" "+tests[1].want {
		t.Errorf("fmt.Sprint = %q", got)
	}
}
