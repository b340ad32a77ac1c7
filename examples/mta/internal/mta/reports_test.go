package mta

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc/report"
	rpt "github.com/mailpolicy/mailpolicy/examples/mta/internal/reports"
	"github.com/mailpolicy/mailpolicy/tlsrpt"
)

// setClock is a clock the test sets; the schedule is driven by RunOnce.
type setClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *setClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *setClock) After(time.Duration) <-chan time.Time { return nil }

// End to end: our MTA receives a DMARC-checked message (a history
// entry), and its courier records the TLS outcome of deliveries to
// tls.test (a peer with STARTTLS) and plain.test (one without). At the
// next UTC midnight the schedule queues a DMARC aggregate report and a
// TLS report per domain; the queue delivers them over SMTP to a second
// MTA, where they arrive in the report mailbox's Maildir and are parsed
// into its report store, with what the first recorded.
func TestReportsEndToEnd(t *testing.T) {
	// The receiving MTA: reports.test and tls.test on 127.0.0.2.
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	rcv, err := rpt.NewReceiver(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	peer := startOn(t, ln, func(c *Config) {
		c.Domains = []string{"reports.test", "tls.test"}
		c.InboundTLS = inboundTLS(t)
		c.ReportInbox, c.ReceiveReport = "dmarc@reports.test", rcv.Receive
	})
	rcv.Logger = peer.srv.Config().Logger
	plain := startFake(t, &fakeSMTP{port: port}, "127.0.0.3") // no STARTTLS

	// Ours: sender.test publishes DMARC with rua at reports.test, which
	// accepts reports for it; tls.test and plain.test ask for TLS
	// reports there.
	pub := base64.StdEncoding.EncodeToString(dkimKey.Public().(ed25519.PublicKey))
	zone := []string{
		`sender.test. TXT "v=spf1 ip4:127.0.0.1 -all"`,
		`sel._domainkey.sender.test. TXT "v=DKIM1; k=ed25519; p=` + pub + `"`,
		`_dmarc.sender.test. TXT "v=DMARC1; p=none; rua=mailto:dmarc@reports.test"`,
		`sender.test._report._dmarc.reports.test. TXT "v=DMARC1"`,
		`_smtp._tls.tls.test. TXT "v=TLSRPTv1; rua=mailto:dmarc@reports.test"`,
		`_smtp._tls.plain.test. TXT "v=TLSRPTv1; rua=mailto:dmarc@reports.test"`,
		`reports.test. MX 10 mx.reports.test.`,
		`tls.test. MX 10 mx.reports.test.`,
		`mx.reports.test. A 127.0.0.2`,
		`plain.test. MX 10 mx.plain.test.`,
		`mx.plain.test. A 127.0.0.3`,
	}
	history, err := rpt.OpenFileHistory(filepath.Join(t.TempDir(), "history"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { history.Close() })
	rec := tlsrpt.NewRecorder(tlsrpt.WithInstanceID("e2e"))
	o := startOut(t, port, zone, func(c *Config) { c.History, c.TLSReports = history, rec })
	if code, msg := o.send(t, "alice@sender.test", []string{"bob@example.com"}, signed(t, plainMsg)); code != 250 {
		t.Fatalf("%d %s", code, msg)
	}
	// Relayed, without From: (no DMARC record, no history entry).
	o.send(t, "alice@sender.test", []string{"carol@tls.test"}, "Subject: over TLS\n\nx\n")
	o.send(t, "alice@sender.test", []string{"dave@plain.test"}, "Subject: in clear\n\nx\n")
	q := o.ts.srv.Queue()
	waitFor(t, 15*time.Second, "both relayed", func() bool {
		envs, _, _ := q.Spool.List()
		return len(envs) == 0 && len(plain.messages()) == 1 && len(peer.files(t, "")) == 1
	})
	es, err := history.Entries(context.Background(), time.Unix(0, 0), time.Now().Add(time.Hour))
	if err != nil || len(es) != 1 {
		t.Fatalf("history: %d entries, %v", len(es), err)
	}
	today := es[0].Received.UTC().Truncate(24 * time.Hour)
	org := tlsrpt.Organization{Name: "Example", Contact: "tlsrpt@example.com"}
	recorded := map[string]*tlsrpt.Report{}
	for _, r := range rec.Reports(today, today.Add(24*time.Hour), org) {
		recorded[r.PolicyDomain()] = r
	}
	if len(recorded) != 2 || recorded["plain.test"] == nil || recorded["tls.test"] == nil {
		t.Fatalf("the courier recorded %v", recorded)
	}

	sch := &rpt.Scheduler{
		Inject: rpt.SpoolInjector(q.Spool, q.Wake), StateFile: filepath.Join(q.Spool.Dir(), "db", "reports"),
		Resolver: o.ts.srv.Config().Resolver, Clock: &setClock{now: today.Add(24*time.Hour + time.Minute)},
		Logger: o.ts.srv.Config().Logger, MaxDelay: -1,
		History: history, Reporter: report.Reporter{OrgName: "Example", Email: "dmarc-reports@example.com"},
		TLS: rec, TLSOrg: org,
	}
	if err := sch.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	stored := func(kind string) []string {
		files, _ := filepath.Glob(filepath.Join(rcv.Dir, kind, "*.json"))
		return files
	}
	// The store is written after the Maildir copy, before the reply.
	waitFor(t, 15*time.Second, "three reports at the peer", func() bool {
		return len(peer.files(t, "")) == 4 && len(stored(rpt.KindTLS)) == 2 && len(stored(rpt.KindDMARC)) == 1
	})

	// The DMARC report as it arrived in the Maildir.
	var dmarcMsg string
	var tlsDomains []string
	for _, m := range peer.files(t, "") {
		switch {
		case strings.Contains(m, "TLS-Report-Domain: "):
			tlsDomains = append(tlsDomains, headerOf(m, "TLS-Report-Domain"))
		case strings.Contains(m, "Report Domain: sender.test"):
			dmarcMsg = m
		default:
			continue
		}
		if !strings.Contains(m, "Envelope-to: dmarc@reports.test") {
			t.Errorf("delivered to someone else:\n%s", m)
		}
	}
	if slices.Sort(tlsDomains); !slices.Equal(tlsDomains, []string{"plain.test", "tls.test"}) || dmarcMsg == "" {
		t.Fatalf("reports in the Maildir: dmarc %v, tls %v", dmarcMsg != "", tlsDomains)
	}
	f, err := report.ParseMessage(strings.NewReader(dmarcMsg))
	if err != nil {
		t.Fatal(err)
	}
	if md := f.Metadata; md.OrgName != "Example" || md.DateRange.Begin != today.Unix() || md.DateRange.End != today.Unix()+86399 {
		t.Errorf("metadata %+v", md)
	}
	if p := f.Policy; p.Domain != "sender.test" || p.P != "none" {
		t.Errorf("policy_published %+v", p)
	}
	if len(f.Records) != 1 {
		t.Fatalf("records %+v", f.Records)
	}
	e, r := es[0], f.Records[0]
	if r.Row.SourceIP != e.IPAddr.String() || r.Row.Count != 1 || r.Identifiers.HeaderFrom != e.From ||
		r.Row.PolicyEvaluated.DKIM != "pass" || r.Row.PolicyEvaluated.SPF != "pass" || r.Row.PolicyEvaluated.Disposition != "none" ||
		len(r.AuthResults.DKIM) != 1 || r.AuthResults.DKIM[0].Domain != "sender.test" || r.AuthResults.DKIM[0].Result != "pass" {
		t.Errorf("record %+v for entry %+v", r, e)
	}
	if b, _ := os.ReadFile(stored(rpt.KindDMARC)[0]); !bytes.Contains(b, []byte(`"HeaderFrom": "sender.test"`)) {
		t.Errorf("stored DMARC report:\n%s", b)
	}

	// The TLS reports as the peer parsed them: what the courier recorded.
	for _, path := range stored(rpt.KindTLS) {
		b, _ := os.ReadFile(path)
		var file struct {
			Report tlsrpt.Report `json:"report"`
		}
		if err := json.Unmarshal(b, &file); err != nil {
			t.Fatal(err)
		}
		got := file.Report
		want := recorded[got.PolicyDomain()]
		if want == nil || got.ReportID != want.ReportID || got.OrganizationName != "Example" || len(got.Policies) != 1 || len(want.Policies) != 1 {
			t.Fatalf("stored TLS report %+v, recorded %+v", got, want)
		}
		gp, wp := got.Policies[0], want.Policies[0]
		if gp.Policy.Type != tlsrpt.PolicyNone || gp.Summary != wp.Summary || len(gp.FailureDetails) != len(wp.FailureDetails) {
			t.Errorf("%s: %+v, recorded %+v", got.PolicyDomain(), gp, wp)
		}
		switch got.PolicyDomain() {
		case "tls.test":
			if gp.Summary.TotalSuccessfulSessionCount < 1 || gp.Summary.TotalFailureSessionCount != 0 {
				t.Errorf("tls.test summary %+v", gp.Summary)
			}
		case "plain.test":
			if gp.Summary.TotalFailureSessionCount < 1 || len(gp.FailureDetails) != 1 ||
				gp.FailureDetails[0].ResultType != tlsrpt.ResultSTARTTLSNotSupported || gp.FailureDetails[0].ReceivingIP != "127.0.0.3" ||
				gp.FailureDetails[0].ReceivingMXHostname != "mx.plain.test" {
				t.Errorf("plain.test %+v", gp)
			}
		}
	}

	// The queue is done with them; a second run sends nothing more.
	waitFor(t, 10*time.Second, "an empty queue", func() bool { envs, _, _ := q.Spool.List(); return len(envs) == 0 })
	if err := sch.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if envs, _, _ := q.Spool.List(); len(envs) != 0 {
		t.Errorf("%d messages queued by a second run", len(envs))
	}
	if n := len(peer.files(t, "")); n != 4 {
		t.Errorf("%d messages at the peer", n)
	}
}
