package reports

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

// fakeClock is a clock the test moves. After hands the wait asked for
// to the test on waits and returns a channel the test fires with fire.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits chan time.Duration
	fire  chan time.Time
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, waits: make(chan time.Duration, 16), fire: make(chan time.Time)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.waits <- d
	return c.fire
}

// sent is one injected message.
type sent struct {
	from string
	to   []string
	msg  []byte
}

// inbox is an Injector that keeps what it is given; fail, when set,
// refuses the recipients it returns true for.
type inbox struct {
	mu   sync.Mutex
	msgs []sent
	fail func(to string) bool
}

func (b *inbox) inject(ctx context.Context, from string, to []string, msg []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil && b.fail(to[0]) {
		return errQueueFull
	}
	b.msgs = append(b.msgs, sent{from, to, bytes.Clone(msg)})
	return nil
}

func (b *inbox) all() []sent {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]sent(nil), b.msgs...)
}

func (b *inbox) to(addr string) []sent {
	var out []sent
	for _, m := range b.all() {
		if strings.EqualFold(m.to[0], addr) {
			out = append(out, m)
		}
	}
	return out
}

type queueFullError struct{}

func (queueFullError) Error() string { return "spool full" }

var errQueueFull error = queueFullError{}

// dnsFor serves the records on loopback and returns a resolver asking
// that server only.
func dnsFor(t *testing.T, records ...string) (*resolver.Resolver, *resolvertest.Zone) {
	t.Helper()
	z := resolvertest.NewZone()
	z.MustAdd(t, records...)
	srv := resolvertest.Start(t, z)
	r, err := resolver.New(resolver.WithNameservers(srv.Addr), resolver.WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return r, z
}

// entry is a history entry for domain received at at, from ip, with
// the rua as the history file holds it.
func entry(domain string, at time.Time, ip string, rua ...string) dmarc.HistoryEntry {
	return dmarc.HistoryEntry{
		Job: "job-" + domain + "-" + at.Format("150405"), Reporter: "mx.example", Received: at,
		IPAddr: netip.MustParseAddr(ip), From: domain, MailFrom: domain, SPF: dmarc.ARESPass,
		DKIM:         []dmarc.HistoryDKIM{{Domain: domain, Selector: "s1", Result: dmarc.ARESPass}},
		PolicyDomain: domain, Policy: dmarc.HistoryPolicyReject, RUA: rua, Pct: 100,
		ADKIM: 'r', ASPF: 'r', P: 'r', SP: 'r',
		AlignDKIM: dmarc.HistoryAlignPass, AlignSPF: dmarc.HistoryAlignPass, Action: dmarc.HistoryActionAccept,
	}
}

// testLog is a logger writing into the test's log.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func testLogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
