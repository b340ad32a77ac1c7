package mta

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/smtpd"
)

// TestMemoryReport measures the issue-11 scenarios in this process (one
// scenario per run, so that the peak RSS is that scenario's). It only
// runs when asked:
//
//	MTA_MEMREPORT=stalled:25    go test -count=1 -run TestMemoryReport -v ./examples/mta/
//	MTA_MEMREPORT=concurrent:40 go test -count=1 -run TestMemoryReport -v ./examples/mta/
//
// stalled:N: N sessions each send 9.5 MB of a message (default
// -max-size 10 MiB) and stop before the final dot. concurrent:N: N
// sessions send a 9 MB message each at the same time. The server runs
// with the defaults but for MaxSessionsPerHost (every client is
// 127.0.0.1); MTA_MEMREPORT_BUDGET=bytes sets MaxDataMemory. The soft
// memory limit is run's (memoryLimit) unless GOMEMLIMIT is set or
// MTA_MEMREPORT_NOLIMIT=1. The clients share one message buffer (about
// 10 MB of the figures).
func TestMemoryReport(t *testing.T) {
	spec := os.Getenv("MTA_MEMREPORT")
	if spec == "" {
		t.Skip("set MTA_MEMREPORT=stalled:N or concurrent:N")
	}
	kind, ns, _ := strings.Cut(spec, ":")
	n, err := strconv.Atoi(ns)
	if err != nil || n <= 0 || kind != "stalled" && kind != "concurrent" {
		t.Fatalf("MTA_MEMREPORT=%q: want stalled:N or concurrent:N", spec)
	}
	budget, _ := strconv.ParseInt(os.Getenv("MTA_MEMREPORT_BUDGET"), 10, 64)
	var limit int64
	ts := start(t, func(c *Config) {
		c.MaxSessions = max(smtpd.DefaultMaxSessions, n+1)
		c.MaxSessionsPerHost = -1
		c.MaxDataMemory = budget
		c.ReadTimeout = time.Minute
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	})
	if os.Getenv("GOMEMLIMIT") == "" && os.Getenv("MTA_MEMREPORT_NOLIMIT") == "" {
		// As run does.
		limit = MemoryLimit(ts.srv.SMTP().Config().MaxDataMemory)
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(limit))
	}
	size := 9_500_000
	if kind == "concurrent" {
		size = 9_000_000
	}
	line := strings.Repeat("0123456789", 7) + "abcdef\r\n" // 78 octets
	body := []byte("From: a@sender.test\r\nSubject: big\r\n\r\n" + strings.Repeat(line, size/len(line)))

	var peakRSS, peakHeap atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peakHeap.Load() {
				peakHeap.Store(ms.HeapInuse)
			}
			if r := procStatus("VmRSS"); r > peakRSS.Load() {
				peakRSS.Store(r)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()

	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	conns := make([]net.Conn, n)
	begin := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Error(err)
				return
			}
			conns[i] = c
			r := bufio.NewReader(c)
			reply := func() string {
				for {
					l, err := r.ReadString('\n')
					if err != nil {
						return "EOF"
					}
					if len(l) > 3 && l[3] == ' ' {
						return l[:3]
					}
				}
			}
			reply()
			for _, cmd := range []string{"EHLO client.test", "MAIL FROM:<a@sender.test>", "RCPT TO:<bob@example.com>", "DATA"} {
				fmt.Fprintf(c, "%s\r\n", cmd)
				reply()
			}
			c.Write(body)
			code := "stalled"
			if kind == "concurrent" {
				c.Write([]byte(".\r\n"))
				code = reply()
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	took := time.Since(begin)
	if kind == "stalled" {
		// The last lines may still be on their way through the socket.
		time.Sleep(2 * time.Second)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	close(stop)
	t.Logf("%s: %v in %v; data memory reserved now %d MiB of %d MiB; soft memory limit %d MiB", spec, codes, took.Round(time.Millisecond),
		ts.srv.SMTP().DataMemoryInUse()>>20, ts.srv.SMTP().Config().MaxDataMemory>>20, limit>>20)
	t.Logf("%s: RSS now %d MiB, peak RSS %d MiB (VmHWM %d MiB); heap in use now %d MiB, peak %d MiB; Sys %d MiB",
		spec, procStatus("VmRSS")>>20, peakRSS.Load()>>20, procStatus("VmHWM")>>20, ms.HeapInuse>>20, peakHeap.Load()>>20, ms.Sys>>20)
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// procStatus reads a "kB" field of /proc/self/status, in bytes.
func procStatus(field string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
