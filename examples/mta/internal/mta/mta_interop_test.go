//go:build interop

// Interop tests against the shared peers (../../../../../shared/peers):
//
//   - TestInteropEximRelaysWithPRDR: Exim 4.96 relays a two-recipient
//     message to this MTA (Exim is restarted with EXIM_RELAY_PORT set to
//     our port and restored afterwards); both copies must land in the
//     maildir, our log must show that Exim used PRDR, and Exim's mainlog
//     the deliveries.
//   - TestInteropSpamd: the real spamd of scripts/peer-spamd.sh scans
//     GTUBE and the marker message for recipients opted in to the
//     "strict" and "lenient" profiles.
//   - TestInteropSmtpSource: Postfix's smtp-source sends 200 messages
//     over 5 parallel sessions; all 200 land.
//
// MAILPOLICY_INTEROP_REQUIRED=1 turns a missing peer into a failure.

package mta

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/bmi"
	"github.com/mailpolicy/mailpolicy/internal/peertest"
	"github.com/mailpolicy/mailpolicy/prdr"
)

// exim is the shared Exim peer; Use locks it for the test.
var exim = peertest.EximPeer()

// waitFiles polls folder until n messages are there, running fn (if
// any) every few seconds, for at most d.
func waitFiles(t *testing.T, ts *testServer, folder string, n int, d time.Duration, fn func()) []string {
	t.Helper()
	deadline := time.Now().Add(d)
	next := time.Now().Add(3 * time.Second)
	for {
		files := ts.files(t, folder)
		if len(files) >= n {
			return files
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages arrived in %q", len(files), n, folder)
		}
		if fn != nil && time.Now().After(next) {
			fn()
			next = time.Now().Add(3 * time.Second)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestInteropEximRelaysWithPRDR(t *testing.T) {
	exim.Use(t)
	// Exim relays every other domain to this listener (its relay port,
	// or Exim restarted to relay to ours).
	ts := startOn(t, exim.ListenRelay(t), func(c *Config) { c.Domains = []string{"mta.test"} })

	tag := fmt.Sprintf("%d", time.Now().UnixNano())
	to := []string{"one-" + tag + "@mta.test", "two-" + tag + "@mta.test"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := prdr.Send(ctx, exim.Addr, "sender@client.test", to,
		strings.NewReader("From: sender@client.test\nSubject: relay "+tag+"\n\n.dot line\nbody\n"), prdr.WithHelo("client.test"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Recipients {
		if o.Status != prdr.Delivered {
			t.Fatalf("Exim did not take %s: %s", o.Recipient, o.Message)
		}
	}
	flush := func() { exim.Flush() }
	flush()
	files := waitFiles(t, ts, "", 2, 90*time.Second, flush)
	var got []string
	for _, f := range files {
		got = append(got, headerOf(f, "Envelope-to"))
		if !strings.Contains(f, "\n\n.dot line\nbody\n") {
			t.Errorf("body not intact:\n%s", f)
		}
		if r := headerOf(f, "Received"); !strings.Contains(r, "by mx.example with ESMTP") {
			t.Errorf("Received: %q", r)
		}
	}
	for _, r := range to {
		if !strings.Contains(strings.Join(got, " "), r) {
			t.Errorf("%s not delivered (got %q)", r, got)
		}
	}
	if !regexp.MustCompile(`msg=message .*rcpts=2 delivered=2 .*prdr=true`).MatchString(ts.logs.String()) {
		t.Errorf("our log does not show a PRDR transaction with two recipients:\n%s", ts.logs.String())
	}
	logPath := filepath.Join(exim.State, "log", "mainlog")
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(logPath)
		n := 0
		for _, r := range to {
			if m := regexp.MustCompile(`(?m)^.* [=-]> ` + regexp.QuoteMeta(r) + ` .*$`).Find(b); m != nil {
				t.Logf("exim: %s", m)
				if !strings.Contains(string(m), " PRDR") {
					t.Errorf("Exim's delivery line lacks the PRDR flag: %s", m)
				}
				n++
			}
		}
		if n == len(to) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Exim's mainlog does not show both deliveries")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestInteropSpamd(t *testing.T) {
	addr := "127.0.0.1:" + peertest.Env("SPAMD_PORT", "7830")
	peertest.Ensure(t, "spamd", addr, peertest.RepoScript("peer-spamd.sh"))
	ts := start(t, func(c *Config) {
		c.Domains = []string{"mta.test"}
		c.Scanner = &bmi.Spamd{Addr: addr, AltLocation: "Junk"}
		c.OptIn = map[string]string{"strict@mta.test": "strict", "lenient@mta.test": "lenient"}
	})
	send := func(file string) *prdr.SendResult {
		t.Helper()
		f, err := os.Open(filepath.Join("..", "..", "..", "..", "bmi", "testdata", "spamd", file))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		res, err := prdr.Send(ctx, ts.addr, "s@client.test", []string{"strict@mta.test", "lenient@mta.test"}, f, prdr.WithHelo("client.test"))
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range res.Recipients {
			if o.Status != prdr.Delivered {
				t.Errorf("%s: %s %s", file, o.Recipient, o.Message)
			}
		}
		return res
	}
	// GTUBE (1000 points) is spam for both profiles: both to .Junk.
	send("gtube.eml")
	if junk := ts.files(t, ".Junk"); len(junk) != 2 || len(ts.files(t, "")) != 0 {
		t.Fatalf("GTUBE: %d in .Junk, %d in the inbox", len(junk), len(ts.files(t, "")))
	}
	// The marker (3 points) is spam for strict (1.0) only.
	send("marker.eml")
	inbox := ts.files(t, "")
	if len(inbox) != 1 || headerOf(inbox[0], "Envelope-to") != "lenient@mta.test" {
		t.Errorf("marker: inbox %d messages", len(inbox))
	}
	junk := ts.files(t, ".Junk")
	if len(junk) != 3 {
		t.Errorf("marker: %d in .Junk, want 3", len(junk))
	}
}

func TestInteropSmtpSource(t *testing.T) {
	script := peertest.SharedScript("postfix-tools.sh")
	if _, err := os.Stat(script); err != nil {
		peertest.Unavailable(t, "smtp-source", "%v", err)
	}
	ts := start(t, func(c *Config) { c.Domains = []string{"mta.test"} })
	out, err := peertest.Run(script, nil, "smtp-source", "-s", "5", "-m", "200", "-f", "sender@client.test", "-t", "rcpt@mta.test", ts.addr)
	if err != nil {
		t.Fatalf("smtp-source: %v\n%s", err, out)
	}
	files := waitFiles(t, ts, "", 200, 10*time.Second, nil)
	if len(files) != 200 {
		t.Errorf("%d messages, want 200", len(files))
	}
}
