package resolver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/miekg/dns"
)

func TestQueryAnswerFollowsCNAMEChain(t *testing.T) {
	_, s := serve(t,
		`www.example. CNAME web.example.`,
		`web.example. CNAME host.example.`,
		`host.example. A 192.0.2.1`,
		`host.example. A 192.0.2.2`,
	)
	c := newClient(t, WithNameservers(s.Addr))
	resp, err := c.Query(ctxT(t), "WWW.example", dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Msg.Answer) != 4 || len(resp.Answer) != 2 {
		t.Fatalf("Msg has %d answers, Answer %d: want the 2 A records only", len(resp.Msg.Answer), len(resp.Answer))
	}
	for _, rr := range resp.Answer {
		if rr.Header().Name != "host.example." {
			t.Errorf("unexpected %v", rr)
		}
	}
	if resp.Server != s.Addr {
		t.Errorf("Server = %q, want %q", resp.Server, s.Addr)
	}
	// The query itself is what engines rely on: recursion desired, EDNS0
	// with DO so a validating resolver sets AD.
	q := resp.Msg
	if !q.RecursionDesired {
		t.Error("RD not echoed: query was not recursive")
	}
	if opt := q.IsEdns0(); opt == nil || !opt.Do() {
		t.Error("reply lacks OPT with DO: query did not ask for DNSSEC")
	}
}

func TestQueryNegativeAnswers(t *testing.T) {
	z, s := serve(t, `example.com. A 192.0.2.1`, `alias.example.com. CNAME gone.example.com.`)
	z.AddName("empty.example.com")
	c := newClient(t, WithNameservers(s.Addr))

	tests := []struct {
		name      string
		kind      error
		wantRcode int
	}{
		{"missing.example.com", ErrNotFound, dns.RcodeNameError},
		{"alias.example.com", ErrNotFound, dns.RcodeNameError},
		{"example.com", ErrNoData, dns.RcodeSuccess}, // asked for TXT
		{"empty.example.com", ErrNoData, dns.RcodeSuccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.Query(ctxT(t), tt.name, dns.TypeTXT)
			e := asError(t, err, tt.kind)
			if resp == nil || resp.Msg == nil {
				t.Fatal("negative answers must come with a Response")
			}
			if len(resp.Answer) != 0 || e.Rcode != tt.wantRcode || e.Server != s.Addr {
				t.Errorf("Answer %v, Rcode %d, Server %q", resp.Answer, e.Rcode, e.Server)
			}
			if errors.Is(err, ErrTemporary) || errors.Is(err, ErrPermanent) || e.Temporary() || e.Timeout() {
				t.Errorf("negative answer misclassified: %v", err)
			}
		})
	}
}

// zoneServers starts n servers, each with its own copy of records, so a
// test can tell which ones were asked.
func zoneServers(t *testing.T, n int, setup func(*resolvertest.Zone)) ([]*resolvertest.Zone, []string) {
	t.Helper()
	var zones []*resolvertest.Zone
	var addrs []string
	for range n {
		z := resolvertest.NewZone()
		z.MustAdd(t, `example.com. TXT "hello"`)
		if setup != nil {
			setup(z)
		}
		zones = append(zones, z)
		addrs = append(addrs, resolvertest.Start(t, z).Addr)
	}
	return zones, addrs
}

func queryCounts(zones []*resolvertest.Zone) string {
	var s []string
	for _, z := range zones {
		s = append(s, fmt.Sprint(z.Queries()))
	}
	return strings.Join(s, ",")
}

func TestQueryRetryPolicy(t *testing.T) {
	rcode := func(rc int) func(*resolvertest.Zone) {
		return func(z *resolvertest.Zone) { z.SetRcode("example.com", 0, rc) }
	}
	tests := []struct {
		name       string
		setup      func(*resolvertest.Zone)
		kind       error
		wantRcode  int
		wantCounts string // queries per server, with 2 servers and 1 retry
	}{
		{"SERVFAIL tries every server every round", rcode(dns.RcodeServerFailure), ErrTemporary, dns.RcodeServerFailure, "2,2"},
		{"REFUSED tries every server once", rcode(dns.RcodeRefused), ErrPermanent, dns.RcodeRefused, "1,1"},
		{"NOTIMP", rcode(dns.RcodeNotImplemented), ErrPermanent, dns.RcodeNotImplemented, "1,1"},
		{"FORMERR", rcode(dns.RcodeFormatError), ErrPermanent, dns.RcodeFormatError, "1,1"},
		{"NXDOMAIN is final", func(z *resolvertest.Zone) { z.SetRcode("example.com", 0, dns.RcodeNameError) }, ErrNotFound, dns.RcodeNameError, "1,0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			zones, addrs := zoneServers(t, 2, tt.setup)
			c := newClient(t, WithNameservers(addrs...), WithRetries(1))
			_, err := c.Query(ctxT(t), "example.com", dns.TypeTXT)
			e := asError(t, err, tt.kind)
			if e.Rcode != tt.wantRcode {
				t.Errorf("Rcode %s, want %s", dns.RcodeToString[e.Rcode], dns.RcodeToString[tt.wantRcode])
			}
			if got := queryCounts(zones); got != tt.wantCounts {
				t.Errorf("queries per server %s, want %s", got, tt.wantCounts)
			}
		})
	}
}

func TestQueryFailover(t *testing.T) {
	_, good := serve(t, `example.com. TXT "hello"`)
	_, refusing := zoneServers(t, 1, func(z *resolvertest.Zone) { z.SetRcode("example.com", 0, dns.RcodeRefused) })
	_, failing := zoneServers(t, 1, func(z *resolvertest.Zone) { z.SetRcode("example.com", 0, dns.RcodeServerFailure) })

	tests := []struct {
		name    string
		servers []string
	}{
		{"dead", []string{deadServer(t), good.Addr}},
		{"silent", []string{silentServer(t), good.Addr}},
		{"refusing", []string{refusing[0], good.Addr}},
		{"servfail", []string{failing[0], good.Addr}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, WithNameservers(tt.servers...), WithTimeout(200*time.Millisecond))
			txt, _, err := c.LookupTXT(ctxT(t), "example.com")
			if err != nil || len(txt) != 1 || txt[0] != "hello" {
				t.Errorf("got %q, %v", txt, err)
			}
		})
	}
}

func TestQueryMixedFailuresReportTemporary(t *testing.T) {
	_, refusing := zoneServers(t, 1, func(z *resolvertest.Zone) { z.SetRcode("example.com", 0, dns.RcodeRefused) })
	_, failing := zoneServers(t, 1, func(z *resolvertest.Zone) { z.SetRcode("example.com", 0, dns.RcodeServerFailure) })
	c := newClient(t, WithNameservers(failing[0], refusing[0]))
	_, err := c.Query(ctxT(t), "example.com", dns.TypeTXT)
	// One server might recover: callers must not treat this as final.
	if e := asError(t, err, ErrTemporary); e.Rcode != dns.RcodeServerFailure {
		t.Errorf("Rcode %d", e.Rcode)
	}
}

func TestQueryTimeout(t *testing.T) {
	z, s := serve(t, `example.com. TXT "hello"`)
	z.SetTimeout("example.com", 0)
	const whole = 100 * time.Millisecond
	c := newClient(t, WithNameservers(s.Addr, silentServer(t)), WithTimeout(whole), WithRetries(1))

	start := time.Now()
	resp, err := c.Query(ctxT(t), "example.com", dns.TypeTXT)
	elapsed := time.Since(start)

	e := asError(t, err, ErrTemporary)
	if resp != nil || !e.Timeout() || !e.Temporary() || e.Rcode != NoRcode {
		t.Errorf("resp %v, Timeout %v, Rcode %d: %v", resp, e.Timeout(), e.Rcode, err)
	}
	// Four attempts sharing 100ms; the bound only catches a runaway, not
	// timing precision (deadline_test.go checks the budget).
	if elapsed > 5*time.Second {
		t.Errorf("took %v", elapsed)
	}
	if z.Queries() != 2 {
		t.Errorf("timing-out server asked %d times, want 2", z.Queries())
	}
}

func TestQueryContext(t *testing.T) {
	z, s := serve(t, `example.com. TXT "hello"`)
	z.SetTimeout("example.com", 0)
	// A long query budget: only the context can end these quickly.
	c := newClient(t, WithNameservers(s.Addr), WithTimeout(time.Minute), WithRetries(3))

	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		_, err := c.Query(ctx, "example.com", dns.TypeTXT)
		e := asError(t, err, ErrTemporary)
		if !errors.Is(err, context.Canceled) || e.Timeout() {
			t.Errorf("got %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("cancellation took %v", d)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Query(ctx, "example.com", dns.TypeTXT)
		e := asError(t, err, ErrTemporary)
		if !errors.Is(err, context.DeadlineExceeded) || !e.Timeout() {
			t.Errorf("got %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("deadline took %v", d)
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		before := z.Queries()
		_, err := c.Query(ctx, "example.com", dns.TypeTXT)
		if e := asError(t, err, ErrTemporary); !errors.Is(err, context.Canceled) || e.Server != "" {
			t.Errorf("got %v", err)
		}
		if z.Queries() != before {
			t.Error("query sent despite a cancelled context")
		}
	})
}

func TestQueryTruncationFallsBackToTCP(t *testing.T) {
	z := resolvertest.NewZone()
	var want []string
	for i := range 12 { // well over 1232 octets together
		s := fmt.Sprintf("%02d%s", i, strings.Repeat("y", 150))
		want = append(want, s)
		z.MustAdd(t, fmt.Sprintf(`big.example. TXT "%s"`, s))
	}
	s := resolvertest.Start(t, z)

	tests := []struct {
		name        string
		opts        []Option
		wantQueries int64
	}{
		{"default size", nil, 2},                           // UDP, TC, then TCP
		{"large UDP size", []Option{WithUDPSize(4096)}, 1}, // fits in one datagram
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := z.Queries()
			c := newClient(t, append([]Option{WithNameservers(s.Addr)}, tt.opts...)...)
			got, _, err := c.LookupTXT(ctxT(t), "big.example")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("got %d strings, want %d", len(got), len(want))
			}
			if n := z.Queries() - before; n != tt.wantQueries {
				t.Errorf("%d queries, want %d", n, tt.wantQueries)
			}
		})
	}
}

func TestQueryAuthentic(t *testing.T) {
	z, s := serve(t, `example.com. TXT "hello"`)
	c := newClient(t, WithNameservers(s.Addr))

	for _, ad := range []bool{false, true} {
		z.SetAuthentic(ad)
		for _, name := range []string{"example.com", "missing.example.com"} {
			t.Run(fmt.Sprintf("%s/ad=%v", name, ad), func(t *testing.T) {
				resp, err := c.Query(ctxT(t), name, dns.TypeTXT)
				if resp == nil {
					t.Fatal(err)
				}
				if resp.Authentic != ad {
					t.Errorf("Authentic = %v from loopback with AD=%v", resp.Authentic, ad)
				}
				_, auth, _ := c.LookupTXT(ctxT(t), name)
				if auth != ad {
					t.Errorf("LookupTXT authentic = %v", auth)
				}
			})
		}
	}
}

func TestQueryInvalidNames(t *testing.T) {
	z, s := serve(t, `example.com. A 192.0.2.1`)
	c := newClient(t, WithNameservers(s.Addr))
	for _, name := range []string{
		"",
		"a..example.com",
		".example.com",
		strings.Repeat("a", 64) + ".example.com",
		strings.Repeat("abcdefghi.", 25) + "abcd", // 254 characters
	} {
		_, err := c.Query(ctxT(t), name, dns.TypeA)
		if e := asError(t, err, ErrPermanent); e.Server != "" || e.Rcode != NoRcode || e.Name != name {
			t.Errorf("%q: %+v", name, e)
		}
	}
	if z.Queries() != 0 {
		t.Errorf("%d invalid queries were sent", z.Queries())
	}
}

func TestErrorDetails(t *testing.T) {
	z, s := serve(t, `example.com. A 192.0.2.1`)
	z.SetRcode("fail.example.com", 0, dns.RcodeServerFailure)
	c := newClient(t, WithNameservers(s.Addr))

	_, err := c.Query(ctxT(t), "Fail.Example.com.", dns.TypeMX)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%T", err)
	}
	want := Error{Name: "Fail.Example.com", Type: dns.TypeMX, Kind: ErrTemporary, Rcode: dns.RcodeServerFailure, Server: s.Addr}
	if *e != want {
		t.Errorf("got  %+v\nwant %+v", *e, want)
	}
	msg := err.Error()
	for _, part := range []string{"Fail.Example.com", "MX", s.Addr, "SERVFAIL", ErrTemporary.Error()} {
		if !strings.Contains(msg, part) {
			t.Errorf("%q lacks %q", msg, part)
		}
	}
}
