package reports

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc/report"
)

// historyFile writes n entries over a day, in the file format.
func historyFile(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "history")
	var buf bytes.Buffer
	for i := range n {
		e := entry(fmt.Sprintf("d%d.test", i%500), mar1.Add(time.Duration(i)*time.Second*86400/time.Duration(n)), "192.0.2.1", "mailto:dmarc@a.test")
		buf.Write(e.AppendTo(nil))
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// Reading a day of history (100k messages, 500 domains) and building
// its reports: the work of one daily run before any mail is queued.
func BenchmarkDayOfHistory(b *testing.B) {
	h, err := OpenFileHistory(historyFile(b, 100_000))
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	b.ReportAllocs()
	for b.Loop() {
		es, err := h.Entries(context.Background(), mar1, mar2)
		if err != nil || len(es) != 100_000 {
			b.Fatal(len(es), err)
		}
		if fs := report.Aggregate(es, mar1, mar2, report.Reporter{OrgName: "x", Email: "x@x.test"}); len(fs) != 500 {
			b.Fatal(len(fs))
		}
	}
}

// Reading the day alone.
func BenchmarkDayOfHistoryRead(b *testing.B) {
	h, err := OpenFileHistory(historyFile(b, 100_000))
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	b.ReportAllocs()
	for b.Loop() {
		if es, err := h.Entries(context.Background(), mar1, mar2); err != nil || len(es) != 100_000 {
			b.Fatal(len(es), err)
		}
	}
}

// Storing a received DMARC report mail: parse, JSON, fsynced file.
func BenchmarkReceiveDMARC(b *testing.B) {
	msg := dmarcMail(b, "big.test")
	r, err := NewReceiver(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		st, err := r.Store(context.Background(), bytes.NewReader(msg))
		if err != nil {
			b.Fatal(err)
		}
		os.Remove(st.Path)
	}
}
