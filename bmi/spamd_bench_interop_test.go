//go:build interop

package bmi

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"testing"
)

// BenchmarkSpamdScan and BenchmarkSpamc scan the same clean message with
// the same profile against the peer spamd, once through Spamd.Scan and
// once by running the real spamc -y, so BENCHMARKS.md can give the
// ratio. Most of the time is spamd's own.

func BenchmarkSpamdScan(b *testing.B) {
	addr := ensureSpamd(b)
	_, m := spamdEML(b, "clean.eml")
	m.Recipients = []Recipient{{Address: "bob@example.com", OptIn: []string{"lenient"}}}
	s := &Spamd{Addr: addr, Rules: map[string]int{"GTUBE": 1}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		vs, err := s.Scan(ctx, m)
		if err != nil || len(vs) != 1 || vs[0].Err != "" {
			b.Fatalf("%+v %v", vs, err)
		}
	}
}

func BenchmarkSpamdSpamc(b *testing.B) {
	addr := ensureSpamd(b)
	raw, _ := spamdEML(b, "clean.eml")
	host, port, _ := net.SplitHostPort(addr)
	if _, err := exec.LookPath("spamc"); err != nil {
		spamdSkipOrFail(b, "spamc: %v", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		cmd := exec.Command("spamc", "-d", host, "-p", port, "-u", "lenient", "-y")
		cmd.Stdin = bytes.NewReader(raw)
		if out, err := cmd.Output(); err != nil || !bytes.Contains(out, []byte("NO_RELAYS")) {
			b.Fatalf("spamc: %q %v", out, err)
		}
	}
}
