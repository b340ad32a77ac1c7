package tlsrpt

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func benchPolicies(n int) []Policy {
	ps := make([]Policy, n)
	for i := range ps {
		d := fmt.Sprintf("d%04d.example", i)
		ps[i] = Policy{
			Type:    PolicySTS,
			Domain:  d,
			Strings: []string{"version: STSv1", "mode: enforce", "mx: mx." + d, "max_age: 604800"},
			MXHosts: []string{"mx." + d},
		}
	}
	return ps
}

var benchFailure = Failure{
	Result:              ResultCertificateExpired,
	SendingMTAIP:        netip.MustParseAddr("192.0.2.25"),
	ReceivingMXHostname: "mx.d0000.example",
	ReceivingIP:         netip.MustParseAddr("198.51.100.10"),
	FailureReasonCode:   "x509: certificate has expired or is not yet valid",
}

func benchClock() func() time.Time {
	t := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	return func() time.Time { return t }
}

// The parallel benchmarks run GOMAXPROCS goroutines; "1domain" puts
// them all on one policy (one lock), "100domains" spreads them as a
// server delivering to many domains does.
func BenchmarkRecorderSuccessParallel(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("%ddomains", n), func(b *testing.B) {
			r := NewRecorder(WithClock(benchClock()))
			ps := benchPolicies(n)
			var next atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(1))
				for pb.Next() {
					r.Success(ps[i%n])
					i++
				}
			})
		})
	}
}

func BenchmarkRecorderFailureParallel(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("%ddomains", n), func(b *testing.B) {
			r := NewRecorder(WithClock(benchClock()))
			ps := benchPolicies(n)
			var next atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(1))
				for pb.Next() {
					r.Failure(ps[i%n], benchFailure)
					i++
				}
			})
		})
	}
}

// naiveRecorder is the obvious design the Recorder is measured against:
// one lock, the policy joined into a string key.
type naiveRecorder struct {
	mu sync.Mutex
	m  map[string]*[2]int64
}

func (n *naiveRecorder) success(p Policy, now time.Time) {
	key := now.UTC().Format(time.DateOnly) + "\x00" + string(p.Type) + "\x00" + strings.ToLower(p.Domain) +
		"\x00" + strings.Join(p.Strings, "\x00") + "\x01" + strings.Join(p.MXHosts, "\x00")
	n.mu.Lock()
	c := n.m[key]
	if c == nil {
		c = new([2]int64)
		n.m[key] = c
	}
	c[0]++
	n.mu.Unlock()
}

func BenchmarkNaiveSuccessParallel(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("%ddomains", n), func(b *testing.B) {
			r := &naiveRecorder{m: map[string]*[2]int64{}}
			ps := benchPolicies(n)
			now := benchClock()
			var next atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(1))
				for pb.Next() {
					r.success(ps[i%n], now())
					i++
				}
			})
		})
	}
}

// BenchmarkReportsWriteGzip1000 builds the reports of a day with 1000
// policy domains (each 50 successes and 3 distinct failures) and writes
// every one gzipped: the scheduler's daily work.
func BenchmarkReportsWriteGzip1000(b *testing.B) {
	r := NewRecorder(WithClock(benchClock()))
	for _, p := range benchPolicies(1000) {
		for range 50 {
			r.Success(p)
		}
		for k := range 3 {
			f := benchFailure
			f.ReceivingMXHostname = fmt.Sprintf("mx%d.%s", k, p.Domain)
			r.Failure(p, f)
		}
	}
	begin := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	org := Organization{Name: "Bench", Contact: "tlsrpt@sender.example"}
	b.ReportAllocs()
	for b.Loop() {
		reps := r.Reports(begin, begin.AddDate(0, 0, 1), org)
		if len(reps) != 1000 {
			b.Fatal(len(reps))
		}
		for _, rep := range reps {
			if err := rep.WriteGzip(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	}
}
