//go:build interop

// Interop tests against Exim 4.96 (exim4-daemon-heavy) from the shared
// peers, in both directions:
//
//   - TestInteropClientToExim: Send to Exim's PRDR server on
//     127.0.0.1:2525, whose PRDR ACL rejects local parts starting
//     "prdr-reject" (550) and defers "prdr-defer" (450).
//   - TestInteropEximToServer: Exim as PRDR client (hosts_try_prdr = *)
//     relays a two-recipient message to a prdrtest server whose decision
//     refuses one recipient; Exim's mainlog must show the per-recipient
//     550 and the delivery of the other.
//
// Exim is started with ../shared/peers/peer-exim.sh when it is not
// running (and stopped again afterwards). The second test needs Exim to
// relay to the test's port: if the configured relay port
// (EXIM_RELAY_PORT, default 10025) is free the test listens there,
// otherwise it restarts Exim with EXIM_RELAY_PORT set to its own port
// and restores the previous state on cleanup.
//
// Environment:
//
//	MAILPOLICY_SHARED            the shared/ directory that holds peers/
//	                             (default <repo>/../shared)
//	MAILPOLICY_INTEROP_REQUIRED  non-empty: fail instead of skipping when
//	                             Exim cannot be reached or started
//	EXIM_STATE, EXIM_PORT        as for peer-exim.sh (/tmp/peers/exim, 2525)

package prdr_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/internal/peertest"
	"github.com/mailpolicy/mailpolicy/prdr"
	"github.com/mailpolicy/mailpolicy/prdr/prdrtest"
)

// exim is the shared Exim peer; Use locks it for the test.
var (
	exim      = peertest.EximPeer()
	eximState = exim.State
	eximAddr  = exim.Addr
)

func unavailable(t *testing.T, format string, a ...any) {
	t.Helper()
	peertest.Unavailable(t, "Exim", format, a...)
}

func TestInteropClientToExim(t *testing.T) {
	exim.Use(t)
	to := []string{"ok@exim.test", "prdr-reject1@exim.test", "prdr-defer1@exim.test"}
	for _, bdat := range []bool{false, true} {
		t.Run(fmt.Sprintf("bdat=%v", bdat), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			msg := "Subject: prdr interop\n\n.dot line\nbody\n"
			opts := []prdr.Option{prdr.WithHelo("client.test")}
			if bdat {
				opts = append(opts, prdr.WithBDAT(0))
			}
			res, err := prdr.Send(ctx, eximAddr, "sender@client.test", to, strings.NewReader(msg), opts...)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Offered || !res.Requested || res.Data == nil || !res.Data.PRDR {
				t.Fatalf("PRDR not used: %+v", res)
			}
			if bdat != res.Chunking {
				t.Errorf("Chunking = %v", res.Chunking)
			}
			want := []struct {
				code   int
				status prdr.Status
				text   string
			}{
				{250, prdr.Delivered, "250 PRDR R=<ok@exim.test> acceptance"},
				{550, prdr.Failed, "PRDR error after " + res.DataCmd + ": 550 PRDR per-recipient rejection for prdr-reject1@exim.test"},
				{450, prdr.Deferred, "PRDR error after " + res.DataCmd + ": 450 PRDR per-recipient deferral for prdr-defer1@exim.test"},
			}
			for i, o := range res.Recipients {
				t.Logf("%s: %s %q", o.Recipient, o.Status, o.Message)
				if o.Reply.Code != want[i].code || o.Status != want[i].status || !strings.HasPrefix(o.Message, want[i].text) {
					t.Errorf("%s: got %d %s %q, want %d %s %q", o.Recipient, o.Reply.Code, o.Status, o.Message, want[i].code, want[i].status, want[i].text)
				}
			}
			if f := res.Data.Final.String(); !regexp.MustCompile(`^250 id=\S+ message accepted for some recipients$`).MatchString(f) {
				t.Errorf("final reply %q", f)
			}
		})
	}
	t.Run("one recipient", func(t *testing.T) {
		res, err := prdr.Send(context.Background(), eximAddr, "sender@client.test", []string{"prdr-reject9@exim.test"}, strings.NewReader("x\n"))
		if err != nil {
			t.Fatal(err)
		}
		// No PRDR with one recipient: Exim's PRDR ACL does not run.
		if res.Requested || res.Data.PRDR || res.Recipients[0].Status != prdr.Delivered {
			t.Errorf("got %+v %+v", res, res.Recipients[0])
		}
	})
}

func TestInteropEximToServer(t *testing.T) {
	exim.Use(t)

	tag := fmt.Sprintf("%d", time.Now().UnixNano())
	good, bad := "prdrok-"+tag+"@other.test", "prdrno-"+tag+"@other.test"
	cfg := prdrtest.Config{Decide: func(_ int, rcpt string) prdr.Decision {
		if strings.HasPrefix(rcpt, "prdrno-") {
			return prdr.Decision{Verdict: prdr.Permanent, Enhanced: "5.7.1", Text: "refused by the mailpolicy test for " + rcpt}
		}
		return prdr.Decision{}
	}}

	// Listen where Exim relays (its relay port if free, else Exim is
	// restarted to relay to a port of ours).
	ln := exim.ListenRelay(t)
	addr := ln.Addr().String()
	ln.Close()
	srv, err := prdrtest.StartOn(addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	t.Logf("test server %s, Exim relay port %s", srv.Addr, exim.RelayPort())

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := prdr.Send(ctx, eximAddr, "sender@client.test", []string{good, bad}, strings.NewReader("Subject: relay\n\nhello\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Recipients {
		if o.Status != prdr.Delivered {
			t.Fatalf("Exim did not take %s: %s", o.Recipient, o.Message)
		}
	}

	logPath := filepath.Join(eximState, "log", "mainlog")
	reBad := regexp.MustCompile(`(?m)^.* \*\* ` + regexp.QuoteMeta(bad) + ` .*PRDR error after (DATA|BDAT[^:]*): 550 5\.7\.1 refused by the mailpolicy test.*$`)
	reGood := regexp.MustCompile(`(?m)^.* => ` + regexp.QuoteMeta(good) + ` .*$`)
	deadline := time.Now().Add(60 * time.Second)
	flushed := time.Now().Add(5 * time.Second)
	var lastLog []byte
	for {
		lastLog, _ = os.ReadFile(logPath)
		mb, mg := reBad.Find(lastLog), reGood.Find(lastLog)
		if mb != nil && mg != nil {
			t.Logf("exim: %s", mb)
			t.Logf("exim: %s", mg)
			if !bytes.Contains(mg, []byte(" PRDR")) {
				t.Errorf("=> line without the PRDR flag: %s", mg)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Exim's mainlog does not show the per-recipient 550 and the delivery; tail:\n%s", tail(lastLog, 30))
		}
		if time.Now().After(flushed) {
			exim.Flush()
			flushed = time.Now().Add(5 * time.Second)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var got *prdrtest.Message
	for _, m := range srv.Messages() {
		if len(m.Recipients) == 2 && m.Recipients[0] == good {
			got = &m
		}
	}
	if got == nil {
		t.Fatalf("test server did not see the message: %+v", srv.Messages())
	}
	if !got.Params.PRDR || !got.Outcome.PRDR {
		t.Errorf("Exim did not use PRDR: %+v", got.Params)
	}
	t.Logf("Exim used BDAT: %v", got.BDAT)
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
