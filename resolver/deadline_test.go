package resolver

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// budget is long enough that loopback round trips are noise beside it and
// short enough that the tests stay quick. The bounds below only tell one
// budget from three (the old per-attempt meaning with two retries); they
// are no performance measurement.
const budget = 300 * time.Millisecond

func assertWithinBudget(t *testing.T, elapsed time.Duration) {
	t.Helper()
	if elapsed < budget*9/10 || elapsed > budget*16/10 {
		t.Errorf("query took %v, want about %v (the whole query's budget)", elapsed, budget)
	}
}

func TestTimeoutBoundsWholeQuery(t *testing.T) {
	z, s := serve(t, `example.com. TXT "hello"`)
	z.SetTimeout("example.com", 0)
	tests := []struct {
		name    string
		servers []string
		retries int
	}{
		{"one server, default retries", []string{s.Addr}, defaultRetries},
		{"two servers, default retries", []string{s.Addr, silentServer(t)}, defaultRetries},
		{"one server, many retries", []string{s.Addr}, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, WithNameservers(tt.servers...), WithTimeout(budget), WithRetries(tt.retries))
			start := time.Now()
			resp, err := c.Query(ctxT(t), "example.com", dns.TypeTXT)
			elapsed := time.Since(start)
			e := asError(t, err, ErrTemporary)
			if resp != nil || !e.Timeout() {
				t.Errorf("resp %v, Timeout %v: %v", resp, e.Timeout(), err)
			}
			assertWithinBudget(t, elapsed)
		})
	}
}

// TestTimeoutSharedAcrossServers checks the reason for splitting the
// budget instead of giving the first attempt all of it: a resolver that
// has silently gone away must leave time for the next one.
func TestTimeoutSharedAcrossServers(t *testing.T) {
	_, good := serve(t, `example.com. TXT "hello"`)
	c := newClient(t, WithNameservers(silentServer(t), good.Addr), WithTimeout(budget), WithRetries(defaultRetries))
	start := time.Now()
	txt, _, err := c.LookupTXT(ctxT(t), "example.com")
	if err != nil || len(txt) != 1 || txt[0] != "hello" {
		t.Fatalf("got %q, %v", txt, err)
	}
	if d := time.Since(start); d > budget*16/10 {
		t.Errorf("took %v, beyond the budget %v", d, budget)
	}
}

// TestTimeoutBoundsTCPFallback uses a server whose UDP replies are always
// truncated and whose TCP side accepts but never answers: the TCP retry
// belongs to the same budget.
func TestTimeoutBoundsTCPFallback(t *testing.T) {
	addr := truncatingSilentTCPServer(t)
	c := newClient(t, WithNameservers(addr), WithTimeout(budget), WithRetries(defaultRetries))
	start := time.Now()
	_, err := c.Query(ctxT(t), "example.com", dns.TypeTXT)
	elapsed := time.Since(start)
	if e := asError(t, err, ErrTemporary); !e.Timeout() {
		t.Errorf("not a timeout: %v", err)
	}
	assertWithinBudget(t, elapsed)
}

func TestTimeoutCallerContextWins(t *testing.T) {
	z, s := serve(t, `example.com. TXT "hello"`)
	z.SetTimeout("example.com", 0)
	c := newClient(t, WithNameservers(s.Addr), WithTimeout(time.Minute), WithRetries(defaultRetries))

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Query(ctx, "example.com", dns.TypeTXT)
	if e := asError(t, err, ErrTemporary); !errors.Is(err, context.Canceled) || e.Timeout() {
		t.Errorf("got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancellation took %v", d)
	}

	// A caller's deadline shorter than the budget ends the query too.
	ctx, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	_, err = c.Query(ctx, "example.com", dns.TypeTXT)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v", err)
	}
}

// truncatingSilentTCPServer listens on one loopback port for UDP (every
// reply truncated) and TCP (connections held open, never answered).
func truncatingSilentTCPServer(t *testing.T) string {
	t.Helper()
	var (
		ln  net.Listener
		err error
	)
	// The UDP port must match the TCP one; retry if it is taken.
	for range 20 {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		var pc net.PacketConn
		pc, err = net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			ln.Close()
			continue
		}
		startTruncator(t, pc)
		break
	}
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 16)
	done := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-done
		close(conns)
		for c := range conns {
			c.Close()
		}
	})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case conns <- c:
			default:
				c.Close()
			}
		}
	}()
	return ln.Addr().String()
}

func startTruncator(t *testing.T, pc net.PacketConn) {
	fakeServerOn(t, pc, func(query []byte) [][]byte {
		q := new(dns.Msg)
		if q.Unpack(query) != nil {
			return nil
		}
		r := new(dns.Msg)
		r.SetReply(q)
		r.Truncated = true
		out, err := r.Pack()
		if err != nil {
			return nil
		}
		return [][]byte{out}
	})
}

// TestTimeoutBoundsDualStackLookup: the A and AAAA queries of network "ip"
// are two queries, but one unanswered name must not cost twice the budget.
func TestTimeoutBoundsDualStackLookup(t *testing.T) {
	z, s := serve(t, `example.com. A 192.0.2.1`)
	z.SetTimeout("example.com", 0)
	c := newClient(t, WithNameservers(s.Addr), WithTimeout(budget), WithRetries(defaultRetries))
	start := time.Now()
	_, _, err := c.LookupNetIP(ctxT(t), "ip", "example.com")
	elapsed := time.Since(start)
	if e := asError(t, err, ErrTemporary); !e.Timeout() {
		t.Errorf("not a timeout: %v", err)
	}
	assertWithinBudget(t, elapsed)
}

// TestSlowAnswerCountsOnRetry: a resolver slower than one attempt's share
// but within the budget still answers, because retries resend on the same
// socket and an answer to the first transmission is accepted later.
func TestSlowAnswerCountsOnRetry(t *testing.T) {
	addr := fakeServer(t, func(query []byte) [][]byte {
		q := new(dns.Msg)
		if q.Unpack(query) != nil {
			return nil
		}
		time.Sleep(budget / 2) // past the first share of budget/3
		r := new(dns.Msg)
		r.SetReply(q)
		rr, err := dns.NewRR(`example.com. 300 IN TXT "slow"`)
		if err != nil {
			t.Error(err)
			return nil
		}
		r.Answer = append(r.Answer, rr)
		out, err := r.Pack()
		if err != nil {
			t.Error(err)
			return nil
		}
		return [][]byte{out}
	})
	c := newClient(t, WithNameservers(addr), WithTimeout(budget), WithRetries(defaultRetries))
	txt, _, err := c.LookupTXT(ctxT(t), "example.com")
	if err != nil || len(txt) != 1 || txt[0] != "slow" {
		t.Fatalf("got %q, %v", txt, err)
	}
}
