//go:build interop

// Interop tests against Exim 4.96 (exim4-daemon-heavy) from the shared
// peers:
//
//   - TestInteropEximBounce: Exim relays a message to a small SMTP
//     responder run by the test, which refuses the recipient with 550;
//     the bounce Exim delivers to sender@exim.test's maildir is parsed.
//     Debian's Exim is built without EXPERIMENTAL_DSN_INFO, so only
//     the standard fields are expected.
//   - TestInteropComposedAccepted: a DSN made by Compose is submitted
//     to Exim with the null sender; Exim must take it (250) and deliver
//     it to the maildir intact (it parses back to the same report).
//
// Exim is started with ../../shared/peers/peer-exim.sh when it is not
// running (and stopped again afterwards). The responder listens on
// Exim's relay port (EXIM_RELAY_PORT, default 10025) when it is free;
// otherwise Exim is restarted to relay to the responder's port and
// restored on cleanup.
//
// Environment:
//
//	MAILPOLICY_SHARED            the shared/ directory that holds peers/
//	                             (default <repo>/../shared)
//	MAILPOLICY_INTEROP_REQUIRED  non-empty: fail instead of skipping when
//	                             Exim cannot be reached or started
//	EXIM_STATE, EXIM_PORT        as for peer-exim.sh (/tmp/peers/exim, 2525)

package dsninfo

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/internal/peertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// Responder texts: the banner and EHLO reply Exim would record as
// greeting and HELO response, and the refusal.
const (
	responderBanner = "220 dsn-responder.test ESMTP dsninfo interop responder"
	responderEHLO   = "250-dsn-responder.test greets the dsninfo test\r\n250 HELP"
	refusalText     = "5.1.1 dsninfo interop: no such user"
)

// responder is a minimal SMTP server: it refuses recipients whose
// local part starts with "reject-" and accepts everything else.
type responder struct {
	ln   net.Listener
	mu   sync.Mutex
	rcpt []string
}

func (s *responder) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.session(c)
	}
}

func (s *responder) session(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	r := bufio.NewReader(c)
	say := func(line string) { fmt.Fprintf(c, "%s\r\n", line) }
	say(responderBanner)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			say(responderEHLO)
		case strings.HasPrefix(cmd, "HELO"):
			say("250 dsn-responder.test")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			addr := strings.Trim(strings.TrimSpace(line)[len("RCPT TO:"):], "<> \r\n")
			s.mu.Lock()
			s.rcpt = append(s.rcpt, addr)
			s.mu.Unlock()
			if strings.HasPrefix(strings.ToLower(addr), "reject-") {
				say("550 " + refusalText + " <" + addr + ">")
			} else {
				say("250 OK")
			}
		case cmd == "DATA":
			say("354 go ahead")
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" || l == ".\n" {
					break
				}
			}
			say("250 accepted")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 OK")
		}
	}
}

// startResponder listens on Exim's relay port, or restarts Exim to
// relay to a port of ours.
func startResponder(t *testing.T) *responder {
	t.Helper()
	s := &responder{ln: exim.ListenRelay(t)}
	go s.serve()
	return s
}

// submit sends msg to Exim without TLS and returns the error of the
// first refused step.
func submit(from, to string, msg []byte) error {
	c, err := smtp.Dial(eximAddr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		return err
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil { // the reply to the final dot: 250 or an error
		return err
	}
	return c.Quit()
}

// waitMaildir returns the first file of the maildir holding all of
// the strings, flushing Exim's queue now and then.
func waitMaildir(t *testing.T, want ...string) []byte {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	flush := time.Now().Add(5 * time.Second)
	for {
		for _, sub := range []string{"new", "cur"} {
			files, _ := filepath.Glob(filepath.Join(eximState, "maildir", sub, "*"))
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					continue
				}
				all := true
				for _, w := range want {
					if !bytes.Contains(b, []byte(w)) {
						all = false
						break
					}
				}
				if all {
					t.Logf("found %s", f)
					return b
				}
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(eximState, "log", "mainlog"))
			lines := strings.Split(strings.TrimRight(string(log), "\n"), "\n")
			if len(lines) > 30 {
				lines = lines[len(lines)-30:]
			}
			t.Fatalf("no maildir file with %q; mainlog tail:\n%s", want, strings.Join(lines, "\n"))
		}
		if time.Now().After(flush) {
			exim.Flush()
			flush = time.Now().Add(5 * time.Second)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestInteropEximBounce(t *testing.T) {
	exim.Use(t)
	srv := startResponder(t)

	token := fmt.Sprintf("dsn%d", time.Now().UnixNano())
	rcpt := "reject-" + token + "@remote.test"
	msg := "From: sender@exim.test\r\nTo: " + rcpt + "\r\nSubject: dsninfo interop " + token +
		"\r\nMessage-ID: <" + token + "@client.test>\r\n\r\nThis message must bounce.\r\n"
	require.NoError(t, submit("sender@exim.test", rcpt, []byte(msg)))

	raw := waitMaildir(t, "report-type=delivery-status", "Subject: dsninfo interop "+token)
	t.Logf("bounce:\n%s", raw)
	r, err := Parse(bytes.NewReader(raw))
	require.NoError(t, err)
	require.Len(t, r.Recipients, 1)
	rc := r.Recipients[0]
	assert.Equal(t, Failed, rc.Action)
	assert.Regexp(t, `^5\.\d{1,3}\.\d{1,3}$`, rc.Status)
	assert.Equal(t, Rfc822(rcpt), rc.FinalRecipient)
	assert.Equal(t, "127.0.0.1", rc.RemoteMTA)
	assert.Equal(t, "smtp", rc.DiagnosticCode.Type)
	assert.Contains(t, rc.DiagnosticCode.Value, "550 "+refusalText+" <"+rcpt+">")
	assert.Equal(t, "dns", r.ReportingMTAType)
	assert.Equal(t, "exim.test", r.ReportingMTA)
	assert.Contains(t, strings.ToLower(r.From), "mailer-daemon@exim.test")
	assert.Equal(t, "sender@exim.test", r.To)
	assert.Equal(t, ReturnFull, r.Return)
	assert.Contains(t, string(r.Original), "Message-ID: <"+token+"@client.test>")
	assert.Contains(t, r.HumanText, rcpt)
	// No EXPERIMENTAL_DSN_INFO in Debian's build.
	assert.False(t, rc.RemoteIP.IsValid())
	assert.Empty(t, rc.Greeting)
	assert.Empty(t, rc.Diagnostic)
	srv.mu.Lock()
	assert.Contains(t, srv.rcpt, rcpt)
	srv.mu.Unlock()
}

func TestInteropComposedAccepted(t *testing.T) {
	exim.Use(t)

	token := fmt.Sprintf("dsnc%d", time.Now().UnixNano())
	r := fullReport()
	r.Date = time.Now().Truncate(time.Second)
	r.MessageID = "<" + token + "@mx.example.org>"
	r.To = "postmaster-" + token + "@exim.test"
	r.Subject = "Mail delivery failed: " + token
	msg, err := Compose(r)
	require.NoError(t, err)
	require.NoError(t, submit("", r.To, msg), "Exim refused the composed DSN")

	raw := waitMaildir(t, "Message-ID: "+r.MessageID)
	assert.Contains(t, string(raw), "Return-path: <>")
	got, err := Parse(bytes.NewReader(raw))
	require.NoError(t, err)
	want, g := sameTimes(t, expectParsed(r), *got)
	assert.Equal(t, want, g)
	// Delivered intact: the maildir file ends with the composed
	// message, line for line (LF line ends in the maildir).
	assert.True(t, bytes.HasSuffix(raw, []byte(lf(msg))), "the message changed in transit")
}
