package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/dmarc/report"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/config"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/reports"
)

func reportArgs(spool, store string) []string {
	return []string{"-hostname", "mx.example", "-domains", "example.com", "-spool", spool,
		"-dmarc-history", filepath.Join(spool, "history"), "-dmarc-report-interval", "6h", "-dmarc-report-email", "dmarc@example.com",
		"-tlsrpt", "-tlsrpt-email", "tlsrpt@example.com", "-tlsrpt-org-name", "Example TLS",
		"-report-inbox", "reports@example.com", "-report-store", store}
}

// The report keys build the Scheduler (history file, interval, the
// org names defaulting to the host name, the TLS recorder kept in the
// spool) and hook the report inbox to a Receiver storing into
// report_store.
func TestReportKeysBuilt(t *testing.T) {
	spool, store := t.TempDir(), filepath.Join(t.TempDir(), "store")
	a := buildFrom(t, reportArgs(spool, store)...)
	sch := a.reports
	if sch == nil {
		t.Fatal("no report scheduler")
	}
	if _, ok := sch.History.(*reports.FileHistory); !ok || sch.Interval != 6*time.Hour || sch.TLS == nil || sch.Claim != nil ||
		sch.Reporter.OrgName != "mx.example" || sch.Reporter.Email != "dmarc@example.com" ||
		sch.TLSOrg.Name != "Example TLS" || sch.TLSOrg.Contact != "tlsrpt@example.com" ||
		sch.StateFile != filepath.Join(spool, "db", "reports") || sch.Reporter.DiscoveryMethod != "psl" {
		t.Fatalf("scheduler %+v", sch)
	}
	if b := buildFrom(t, append(reportArgs(t.TempDir(), filepath.Join(t.TempDir(), "store")), "-dmarc-mode", "rfc9989")...); b.reports.Reporter.DiscoveryMethod != "treewalk" {
		t.Fatalf("RFC 9989 mode reports discovery_method %q", b.reports.Reporter.DiscoveryMethod)
	}
	c := a.srv.Config()
	if c.ReportInbox != "reports@example.com" || c.ReceiveReport == nil || c.TLSReports != sch.TLS {
		t.Fatalf("inbox %q hook %v", c.ReportInbox, c.ReceiveReport != nil)
	}
	es := []dmarc.HistoryEntry{{Job: "1", Received: time.Unix(1772323200, 0), From: "sender.test", PolicyDomain: "sender.test", SPF: -1}}
	var msg bytes.Buffer
	f := report.Aggregate(es, time.Unix(1772323200, 0), time.Unix(1772409600, 0), report.Reporter{OrgName: "r", Email: "r@r.test"})
	if err := f[0].Mail(&msg, report.MailOptions{From: "r@r.test", To: "reports@example.com"}); err != nil {
		t.Fatal(err)
	}
	c.ReceiveReport(context.Background(), &msg)
	if files, _ := filepath.Glob(filepath.Join(store, reports.KindDMARC, "*.json")); len(files) != 1 {
		t.Fatalf("report store: %v", files)
	}
	a.close()
	if _, err := os.Stat(filepath.Join(spool, "db", "tlsrpt")); err != nil {
		t.Fatalf("TLS recorder file: %v", err)
	}
	// Without the keys: nothing.
	if b := buildFrom(t, "-domains", "example.com", "-spool", t.TempDir()); b.reports != nil || b.srv.Config().ReceiveReport != nil {
		t.Fatal("reports without the keys")
	}
}

// serve runs the Scheduler: its first run, at start, records in the
// spool that the intervals before now are done; shutdown stops it. A
// queue command leaves the TLS recorder file to the server.
func TestRunReports(t *testing.T) {
	spool, store := t.TempDir(), filepath.Join(t.TempDir(), "store")
	var out, errb bytes.Buffer
	if code := run(context.Background(), append(reportArgs(spool, store), "-maildir", t.TempDir(), "queue", "list"), nil, &out, &errb); code != exitOK {
		t.Fatalf("queue list: %d %s", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(spool, "db", "tlsrpt")); !os.IsNotExist(err) {
		t.Fatalf("a queue command made the TLS recorder file: %v", err)
	}
	addr := freeAddr(t)
	r := startRun(t, append(reportArgs(spool, store), "-listen", addr, "-maildir", t.TempDir())...)
	c := dialRun(t, addr)
	c.ok("EHLO client.test", 250)
	c.ok("QUIT", 221)
	state := filepath.Join(spool, "db", "reports")
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(state)
		if err == nil && strings.Contains(string(b), "dmarc_done") && strings.Contains(string(b), "tls_done") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no state written: %q %v", b, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.stop()
}

// A report sender no [[dkim]] entry signs for is warned about at start.
func TestReportSenderUnsignedWarned(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	kb, _ := x509.MarshalPKCS8PrivateKey(priv)
	key := filepath.Join(t.TempDir(), "ed.pem")
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	for _, c := range []struct {
		name string
		dkim []string
		want int // warnings
	}{
		{"unsigned", nil, 2},
		{"signed", []string{"-dkim-domain", "example.com", "-dkim-selector", "ed", "-dkim-private-key", key}, 0},
	} {
		fs := flag.NewFlagSet("mta", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		args := append(append(reportArgs(t.TempDir(), filepath.Join(t.TempDir(), "store")), "-maildir", t.TempDir()), c.dkim...)
		s, _, err := config.ParseArgs(fs, args)
		if err == nil {
			err = s.Validate()
		}
		if err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		a, err := build(s, &log)
		if err != nil {
			t.Fatal(err)
		}
		a.close()
		if n := strings.Count(log.String(), "no [[dkim]] entry signs for the report sender"); n != c.want {
			t.Errorf("%s: %d warnings, want %d:\n%s", c.name, n, c.want, log.String())
		}
	}
}
