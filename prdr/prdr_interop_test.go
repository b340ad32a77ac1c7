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
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/internal/peertest"
	"github.com/mailpolicy/mailpolicy/prdr"
	"github.com/mailpolicy/mailpolicy/prdr/prdrtest"
)

var (
	eximScript = peertest.SharedScript("peer-exim.sh")
	eximState  = peertest.Env("EXIM_STATE", "/tmp/peers/exim")
	eximAddr   = net.JoinHostPort("127.0.0.1", peertest.Env("EXIM_PORT", "2525"))
	// eximMu serialises the tests that may restart Exim.
	eximMu sync.Mutex
)

func unavailable(t *testing.T, format string, a ...any) {
	t.Helper()
	peertest.Unavailable(t, "Exim", format, a...)
}

// peerExim runs peer-exim.sh with the arguments and extra environment.
func peerExim(env []string, args ...string) error {
	_, err := peertest.Run(eximScript, env, args...)
	return err
}

// needExim makes sure Exim listens, starting it if need be (and
// stopping it on cleanup when the test started it).
func needExim(t *testing.T) {
	t.Helper()
	peertest.Ensure(t, "Exim", eximAddr, eximScript)
}

func TestInteropClientToExim(t *testing.T) {
	eximMu.Lock()
	defer eximMu.Unlock()
	needExim(t)
	to := []string{"ok@exim.test", "prdr-reject1@exim.test", "prdr-defer1@exim.test"}
	for _, bdat := range []bool{false, true} {
		t.Run(fmt.Sprintf("bdat=%v", bdat), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			msg := "Subject: prdr interop\n\n.dot line\nbody\n"
			res, err := prdr.Send(ctx, eximAddr, "sender@client.test", to, strings.NewReader(msg), &prdr.Options{Helo: "client.test", BDAT: bdat})
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
		res, err := prdr.Send(context.Background(), eximAddr, "sender@client.test", []string{"prdr-reject9@exim.test"}, strings.NewReader("x\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		// No PRDR with one recipient: Exim's PRDR ACL does not run.
		if res.Requested || res.Data.PRDR || res.Recipients[0].Status != prdr.Delivered {
			t.Errorf("got %+v %+v", res, res.Recipients[0])
		}
	})
}

// relayPort returns the port of the running Exim's relay_smtp transport.
func relayPort(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join(eximState, "exim.conf"))
	if err != nil {
		return ""
	}
	m := regexp.MustCompile(`(?m)^relay_smtp:\n(?:.*\n)*?\s*port = (\d+)`).FindSubmatch(b)
	if m == nil {
		return ""
	}
	return string(m[1])
}

func eximBin() string {
	if p, err := exec.LookPath("exim4"); err == nil {
		return p
	}
	return "/usr/sbin/exim4"
}

func TestInteropEximToServer(t *testing.T) {
	eximMu.Lock()
	defer eximMu.Unlock()
	needExim(t)

	tag := fmt.Sprintf("%d", time.Now().UnixNano())
	good, bad := "prdrok-"+tag+"@other.test", "prdrno-"+tag+"@other.test"
	cfg := prdrtest.Config{Decide: func(_ int, rcpt string) prdr.Decision {
		if strings.HasPrefix(rcpt, "prdrno-") {
			return prdr.Decision{Verdict: prdr.Permanent, Enhanced: "5.7.1", Text: "refused by the mailpolicy test for " + rcpt}
		}
		return prdr.Decision{}
	}}

	// Listen on Exim's relay port if it is free, else restart Exim
	// pointing at a port of ours.
	var srv *prdrtest.Server
	if p := relayPort(t); p != "" {
		srv, _ = prdrtest.StartOn(net.JoinHostPort("127.0.0.1", p), cfg)
	}
	if srv == nil {
		var err error
		if srv, err = prdrtest.Start(cfg); err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(srv.Addr)
		if err := peerExim(nil, "stop"); err != nil {
			t.Fatal(err)
		}
		if err := peerExim([]string{"EXIM_RELAY_PORT=" + port}, "start"); err != nil {
			unavailable(t, "%v", err)
		}
		t.Cleanup(func() {
			// Back to the default relay port; needExim's cleanup (which
			// runs after this one) stops it if the test started it.
			peerExim(nil, "stop")
			peerExim(nil, "start")
		})
	}
	defer srv.Close()
	t.Logf("test server %s, Exim relay port %s", srv.Addr, relayPort(t))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := prdr.Send(ctx, eximAddr, "sender@client.test", []string{good, bad}, strings.NewReader("Subject: relay\n\nhello\n"), nil)
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
			exec.Command(eximBin(), "-C", filepath.Join(eximState, "exim.conf"), "-qff").Run()
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
