package mta

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/mail"
	"net/netip"
	"os"
	"path/filepath"
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
// entry) and has TLS outcomes recorded for a domain; at the next UTC
// midnight the schedule queues a DMARC aggregate report and a TLS
// report, its queue delivers both over SMTP to a second MTA, where
// they arrive in the report mailbox's Maildir and are parsed into its
// report store, with the content recorded on the first.
func TestReportsEndToEnd(t *testing.T) {
	// The receiving MTA: reports.test on 127.0.0.2.
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
		c.Domains = []string{"reports.test"}
		c.ReportInbox, c.ReceiveReport = "dmarc@reports.test", rcv.Receive
	})
	rcv.Logger = peer.srv.Config().Logger

	// Ours: sender.test publishes DMARC with rua at reports.test, which
	// accepts reports for it; tls.test asks for TLS reports there.
	pub := base64.StdEncoding.EncodeToString(dkimKey.Public().(ed25519.PublicKey))
	zone := []string{
		`sender.test. TXT "v=spf1 ip4:127.0.0.1 -all"`,
		`sel._domainkey.sender.test. TXT "v=DKIM1; k=ed25519; p=` + pub + `"`,
		`_dmarc.sender.test. TXT "v=DMARC1; p=none; rua=mailto:dmarc@reports.test"`,
		`sender.test._report._dmarc.reports.test. TXT "v=DMARC1"`,
		`_smtp._tls.tls.test. TXT "v=TLSRPTv1; rua=mailto:dmarc@reports.test"`,
		`reports.test. MX 10 mx.reports.test.`,
		`mx.reports.test. A 127.0.0.2`,
	}
	history, err := rpt.OpenFileHistory(filepath.Join(t.TempDir(), "history"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { history.Close() })
	o := startOut(t, port, zone, func(c *Config) { c.History = history })
	if code, msg := o.send(t, "alice@sender.test", []string{"bob@example.com"}, signed(t, plainMsg)); code != 250 {
		t.Fatalf("%d %s", code, msg)
	}
	es, err := history.Entries(context.Background(), time.Unix(0, 0), time.Now().Add(time.Hour))
	if err != nil || len(es) != 1 {
		t.Fatalf("history: %d entries, %v", len(es), err)
	}
	received := es[0].Received.UTC() // the day is the entry's, even across a midnight
	today := received.Truncate(24 * time.Hour)
	rec := tlsrpt.NewRecorder(tlsrpt.WithClock(func() time.Time { return received }))
	pol := tlsrpt.Policy{Type: tlsrpt.PolicyTLSA, Domain: "tls.test", Strings: []string{"3 1 1 0011"}}
	rec.Success(pol)
	rec.Success(pol)
	rec.Failure(pol, tlsrpt.Failure{Result: tlsrpt.ResultTLSAInvalid, ReceivingMXHostname: "mx.tls.test", ReceivingIP: netip.MustParseAddr("192.0.2.25")})

	q := o.ts.srv.Queue()
	sch := &rpt.Scheduler{
		Inject: rpt.SpoolInjector(q.Spool, q.Wake), StateFile: filepath.Join(q.Spool.Dir(), "db", "reports"),
		Resolver: o.ts.srv.Config().Resolver, Clock: &setClock{now: today.Add(24*time.Hour + time.Minute)},
		Logger: o.ts.srv.Config().Logger, MaxDelay: -1,
		History: history, Reporter: report.Reporter{OrgName: "Example", Email: "dmarc-reports@example.com"},
		TLS: rec, TLSOrg: tlsrpt.Organization{Name: "Example", Contact: "tlsrpt@example.com"},
	}
	if err := sch.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	stored := func(kind string) []string {
		files, _ := filepath.Glob(filepath.Join(rcv.Dir, kind, "*.json"))
		return files
	}
	// The store is written after the Maildir copy, before the reply.
	waitFor(t, 15*time.Second, "two reports at the peer", func() bool {
		return len(peer.files(t, "")) == 2 && len(stored(rpt.KindTLS)) == 1 && len(stored(rpt.KindDMARC)) == 1
	})

	var dmarcMsg, tlsMsg string
	for _, m := range peer.files(t, "") {
		switch {
		case strings.Contains(m, "TLS-Report-Domain: tls.test"):
			tlsMsg = m
		case strings.Contains(m, "Report Domain: sender.test"):
			dmarcMsg = m
		}
		if !strings.Contains(m, "Envelope-to: dmarc@reports.test") {
			t.Errorf("delivered to someone else:\n%s", m)
		}
	}
	if dmarcMsg == "" || tlsMsg == "" {
		t.Fatalf("missing a report:\n%s", strings.Join(peer.files(t, ""), "\n----\n"))
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
	r := f.Records[0]
	if r.Row.SourceIP != "127.0.0.1" || r.Row.Count != 1 || r.Identifiers.HeaderFrom != "sender.test" ||
		r.Row.PolicyEvaluated.DKIM != "pass" || r.Row.PolicyEvaluated.SPF != "pass" || r.Row.PolicyEvaluated.Disposition != "none" ||
		len(r.AuthResults.DKIM) != 1 || r.AuthResults.DKIM[0].Domain != "sender.test" || r.AuthResults.DKIM[0].Result != "pass" {
		t.Errorf("record %+v", r)
	}

	msg, err := mail.ReadMessage(strings.NewReader(tlsMsg))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(msg.Header.Get("Content-Type"), "multipart/report") {
		t.Errorf("TLS report Content-Type %q", msg.Header.Get("Content-Type"))
	}
	// The peer's report store holds both, parsed.
	tlsFiles, dmarcFiles := stored(rpt.KindTLS), stored(rpt.KindDMARC)
	b, _ := os.ReadFile(tlsFiles[0])
	var file struct {
		Report tlsrpt.Report `json:"report"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	tr := file.Report
	if tr.OrganizationName != "Example" || tr.PolicyDomain() != "tls.test" || len(tr.Policies) != 1 {
		t.Fatalf("stored TLS report %+v", tr)
	}
	p := tr.Policies[0]
	if p.Policy.Type != tlsrpt.PolicyTLSA || p.Summary.TotalSuccessfulSessionCount != 2 || p.Summary.TotalFailureSessionCount != 1 ||
		len(p.FailureDetails) != 1 || p.FailureDetails[0].ResultType != tlsrpt.ResultTLSAInvalid || p.FailureDetails[0].ReceivingIP != "192.0.2.25" {
		t.Errorf("stored TLS policy %+v", p)
	}
	b, _ = os.ReadFile(dmarcFiles[0])
	if !bytes.Contains(b, []byte(`"HeaderFrom": "sender.test"`)) {
		t.Errorf("stored DMARC report:\n%s", b)
	}
	// The queue is done with both; a second run sends nothing more.
	waitFor(t, 10*time.Second, "an empty queue", func() bool { envs, _, _ := q.Spool.List(); return len(envs) == 0 })
	if err := sch.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if envs, _, _ := q.Spool.List(); len(envs) != 0 {
		t.Errorf("%d messages queued by a second run", len(envs))
	}
	if n := len(peer.files(t, "")); n != 2 {
		t.Errorf("%d messages at the peer", n)
	}
}
