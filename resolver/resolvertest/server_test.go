package resolvertest

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func exchange(t *testing.T, network, addr string, m *dns.Msg) (*dns.Msg, error) {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, addr)
	return r, err
}

func query(name string, qtype uint16, edns uint16, do bool) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if edns > 0 {
		m.SetEdns0(edns, do)
	}
	return m
}

func TestServerAnswersOnBothTransports(t *testing.T) {
	z := NewZone()
	z.MustAdd(t, "example.com. 300 IN A 192.0.2.1")
	s := Start(t, z)
	if !strings.HasPrefix(s.Addr, "127.0.0.1:") || s.Zone != z {
		t.Fatalf("Addr %q, Zone %p", s.Addr, s.Zone)
	}
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			req := query("Example.com.", dns.TypeA, 0, false)
			r, err := exchange(t, network, s.Addr, req)
			if err != nil {
				t.Fatal(err)
			}
			if r.Id != req.Id || !r.Response || !r.Authoritative || r.Rcode != dns.RcodeSuccess {
				t.Errorf("bad header: %+v", r.MsgHdr)
			}
			if len(r.Question) != 1 || r.Question[0] != req.Question[0] {
				t.Errorf("question not echoed: %v", r.Question)
			}
			if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.1" {
				t.Errorf("answer: %v", r.Answer)
			}
			if r.IsEdns0() != nil {
				t.Error("OPT in reply to a query without one")
			}
		})
	}
}

func TestServerEchoesOPT(t *testing.T) {
	z := NewZone()
	z.AddName("example.com")
	s := Start(t, z)
	for _, do := range []bool{false, true} {
		r, err := exchange(t, "udp", s.Addr, query("example.com.", dns.TypeA, 1232, do))
		if err != nil {
			t.Fatal(err)
		}
		opt := r.IsEdns0()
		if opt == nil {
			t.Fatal("no OPT in reply")
		}
		if opt.Do() != do {
			t.Errorf("DO = %v, want %v", opt.Do(), do)
		}
	}
}

func TestServerRcodesAndAD(t *testing.T) {
	z := NewZone()
	z.MustAdd(t, "example.com. TXT hi")
	z.SetRcode("fail.example.com", 0, dns.RcodeServerFailure)
	s := Start(t, z)

	tests := []struct {
		name      string
		authentic bool
		wantRcode int
	}{
		{"example.com.", false, dns.RcodeSuccess},
		{"example.com.", true, dns.RcodeSuccess},
		{"missing.example.com.", true, dns.RcodeNameError},
		{"fail.example.com.", false, dns.RcodeServerFailure},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/ad=%v", tt.name, tt.authentic), func(t *testing.T) {
			z.SetAuthentic(tt.authentic)
			r, err := exchange(t, "udp", s.Addr, query(tt.name, dns.TypeTXT, 1232, true))
			if err != nil {
				t.Fatal(err)
			}
			if r.Rcode != tt.wantRcode || r.AuthenticatedData != tt.authentic {
				t.Errorf("rcode %s AD %v", dns.RcodeToString[r.Rcode], r.AuthenticatedData)
			}
		})
	}
}

func TestServerTruncatesOverUDP(t *testing.T) {
	z := NewZone()
	z.MustAdd(t, "small.example. TXT short")
	chunk := strings.Repeat("x", 200)
	for i := range 10 { // about 2.2 kB: over 1232, under 4096
		z.MustAdd(t, fmt.Sprintf(`big.example. TXT "%d%s"`, i, chunk))
	}
	s := Start(t, z)

	tests := []struct {
		name, network, qname string
		edns                 uint16
		wantTC               bool
		wantAnswers          int
	}{
		{"small without EDNS", "udp", "small.example.", 0, false, 1},
		{"big without EDNS", "udp", "big.example.", 0, true, 0},
		{"big with EDNS 1232", "udp", "big.example.", 1232, true, 0},
		{"big with EDNS 4096", "udp", "big.example.", 4096, false, 10},
		{"EDNS size below 512 means 512", "udp", "big.example.", 100, true, 0},
		{"big over TCP", "tcp", "big.example.", 1232, false, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := exchange(t, tt.network, s.Addr, query(tt.qname, dns.TypeTXT, tt.edns, true))
			if err != nil {
				t.Fatal(err)
			}
			if r.Truncated != tt.wantTC || len(r.Answer) != tt.wantAnswers {
				t.Errorf("TC %v with %d answers, want %v with %d", r.Truncated, len(r.Answer), tt.wantTC, tt.wantAnswers)
			}
			if tt.wantTC && (len(r.Question) != 1 || (tt.edns > 0 && r.IsEdns0() == nil)) {
				t.Errorf("truncated reply lost its question or OPT: %v", r)
			}
		})
	}
}

func TestServerTimeout(t *testing.T) {
	z := NewZone()
	z.MustAdd(t, "example.com. A 192.0.2.1")
	z.SetTimeout("example.com", dns.TypeA)
	s := Start(t, z)
	for _, network := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: network, Timeout: 100 * time.Millisecond}
		_, _, err := c.Exchange(query("example.com.", dns.TypeA, 0, false), s.Addr)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("%s: got %v, want a timeout", network, err)
		}
	}
	if z.Queries() != 2 {
		t.Errorf("Queries() = %d, want 2: ignored queries count too", z.Queries())
	}
}

func TestServerClose(t *testing.T) {
	s, err := NewServer(NewZone())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		c.Close()
		t.Error("TCP still accepting after Close")
	}
	if _, err := NewServer(nil); err == nil {
		t.Error("NewServer(nil) succeeded")
	}
}

func TestManyServers(t *testing.T) {
	// Each needs its UDP port free for TCP as well; many in a row make a
	// collision and the retry path likely enough to be worth running.
	z := NewZone()
	z.MustAdd(t, "example.com. A 192.0.2.1")
	for range 50 {
		s := Start(t, z)
		if _, err := exchange(t, "tcp", s.Addr, query("example.com.", dns.TypeA, 0, false)); err != nil {
			t.Fatal(err)
		}
	}
}
