//go:build interop

// Interop test of the outbound side against the shared Exim 4.96 peer
// (../../../shared/peers/README.md §1): our MTA relays and forwards to
// Exim on 127.0.0.1:$EXIM_PORT (a resolvertest MX for exim.test points
// there), with PRDR for two recipients and opportunistic STARTTLS;
// Exim's per-recipient data ACL refuses local parts starting with
// prdr-reject, which must come back to us as a DSN.
//
// MAILPOLICY_INTEROP_REQUIRED=1 turns a missing peer into a failure.

package mta

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dsninfo"
	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/internal/peertest"
	"github.com/mailpolicy/mailpolicy/srs"
)

// eximMaildirFiles returns the messages in Exim's maildir that contain
// tag.
func eximMaildirFiles(t *testing.T, tag string) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{"new", "cur"} {
		names, _ := filepath.Glob(filepath.Join(exim.State, "maildir", sub, "*"))
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err == nil && strings.Contains(string(b), tag) {
				out = append(out, string(b))
			}
		}
	}
	return out
}

func TestInteropOutboundToExim(t *testing.T) {
	ex := peertest.EximPeer()
	ex.Use(t)
	_, portS, _ := net.SplitHostPort(ex.Addr)
	port, _ := strconv.Atoi(portS)
	tag := fmt.Sprintf("%d", time.Now().UnixNano())
	rw, err := srs.New(srs.Config{Domain: "example.org", Secrets: []string{"interop-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	zone := []string{"exim.test. MX 10 mx.exim.test.", "mx.exim.test. A 127.0.0.1"}
	o := startOut(t, port, zone, func(c *Config) {
		c.SRS, c.SRSDomain = rw, "example.org"
		c.Forwards = map[string]string{
			"fwd1@example.com": "fwd1-" + tag + "@exim.test",
			"fwd2@example.com": "fwd2-" + tag + "@exim.test",
		}
		c.RetryInterval = time.Hour
		c.SMTPTimeout = 20 * time.Second
	})

	t.Run("forward-srs-prdr", func(t *testing.T) {
		if code, msg := o.send(t, "carol@sender.test", []string{"fwd1@example.com", "fwd2@example.com"}, "Subject: fwd "+tag+"\n\nforwarded\n"); code != 250 {
			t.Fatalf("DATA: %d %s", code, msg)
		}
		var files []string
		waitFor(t, 30*time.Second, "both copies in Exim's maildir", func() bool { files = eximMaildirFiles(t, "fwd "+tag); return len(files) == 2 })
		for _, f := range files {
			rp := headerOf(f, "Return-path")
			if !strings.HasPrefix(rp, "<SRS0=") || !strings.HasSuffix(rp, "=sender.test=carol@example.org>") {
				t.Errorf("Return-path %q is not our SRS0 address", rp)
			}
			t.Logf("exim: Return-path %s, Envelope-to %s", rp, headerOf(f, "Envelope-to"))
		}
		if !strings.Contains(o.ts.logs.String(), "prdr=true") {
			t.Errorf("our delivery did not use PRDR:\n%s", o.ts.logs.String())
		}
		// Exim's reception line: PRDR and TLS (opportunistic, CV=no).
		b, _ := os.ReadFile(filepath.Join(exim.State, "log", "mainlog"))
		found := false
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, " <= SRS0=") && strings.Contains(l, "fwd1-"+tag) {
				found = true
				t.Logf("exim: %s", l)
				if !strings.Contains(l, " PRDR ") || !strings.Contains(l, " X=TLS") {
					t.Errorf("Exim's reception line lacks PRDR or TLS: %s", l)
				}
			}
		}
		if !found {
			t.Errorf("no reception line for %s in Exim's mainlog", tag)
		}
	})

	t.Run("prdr-reject-bounce", func(t *testing.T) {
		ok, bad := "one-"+tag+"@exim.test", "prdr-reject-"+tag+"@exim.test"
		if code, msg := o.send(t, "alice@example.com", []string{ok, bad}, "Subject: relay "+tag+"\n\nrelayed\n"); code != 250 {
			t.Fatalf("DATA: %d %s", code, msg)
		}
		waitFor(t, 30*time.Second, "the accepted copy in Exim's maildir", func() bool { return len(eximMaildirFiles(t, "relay "+tag)) == 1 })
		rep, raw := readBounce(t, o.ts)
		if len(rep.Recipients) != 1 {
			t.Fatalf("bounce recipients: %+v\n%s", rep.Recipients, raw)
		}
		r := rep.Recipients[0]
		if r.FinalRecipient.Value != bad || r.Action != dsninfo.Failed || !strings.HasPrefix(r.Status, "5.") ||
			r.RemoteMTA != "mx.exim.test" || r.RemoteIP.String() != "127.0.0.1" || r.RemotePort != port ||
			!strings.Contains(r.Diagnostic, "PRDR per-recipient rejection") || !strings.Contains(r.DiagnosticCode.Value, "550") ||
			!strings.Contains(r.Greeting, "220") {
			t.Errorf("bounce block: %+v", r)
		}
		t.Logf("bounce: Status %s, Diagnostic-Code %q", r.Status, r.DiagnosticCode.Value)
		var delivered int
		for _, e := range o.rec.all() {
			if e.Name == events.MsgDelivery && e.LocalPart == "one-"+tag {
				delivered++
				if !strings.Contains(e.Data, "250") {
					t.Errorf("msg:delivery data %q", e.Data)
				}
			}
		}
		if delivered != 1 {
			t.Errorf("msg:delivery events for %s: %d", ok, delivered)
		}
	})
}
