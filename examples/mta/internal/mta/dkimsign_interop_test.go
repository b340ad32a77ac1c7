//go:build interop

// Interop test of outbound DKIM signing against Exim 4.96: our MTA
// relays messages From our domains to a private Exim daemon, which
// verifies the signatures and logs what it found.
//
// The shared Exim peer (peer-exim.sh) cannot be used: it asks the
// system resolver, which cannot see our keys. So, as package dkim's
// sign_peer_interop_test.go does, this test runs its own Exim (own
// configuration, spool and log under a temporary directory) in a
// private mount namespace (unshare -m) whose /etc/resolv.conf names a
// DNS server of this test on 127.0.0.153:53 (glibc's resolv.conf cannot
// name a port); that server passes every query on to the resolvertest
// zone our MTA uses, where the selector records are published. Exim's
// acl_smtp_dkim logs "$dkim_cur_signer $dkim_verify_status" per signer,
// log_selector +dkim_verbose one "DKIM: d=... s=..." line per
// signature, and the data ACL logs ${authresults}.
//
// Cases: d=example.com relaxed with an RSA 2048 and an Ed25519
// selector; d=example.org simple, signing for a From of a subdomain
// (lists.example.org), RSA and Ed25519 again.
//
// A missing peer (no exim4, not root, no Debian-exim user, no unshare,
// 127.0.0.153:53 taken) skips the test, or fails it with
// MAILPOLICY_INTEROP_REQUIRED=1. DKIM_PEER_DNS_ADDR changes the DNS
// address (the port must be 53 for Exim); the lock "dkim-peer-dns" is
// shared with package dkim's test, which wants the same address.

package mta

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/signing"
	"github.com/mailpolicy/mailpolicy/hostlist"
	"github.com/mailpolicy/mailpolicy/internal/peertest"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

// dsForwardDNS serves on addr (UDP and TCP) by asking upstream over
// the same transport, until t's cleanup.
func dsForwardDNS(t *testing.T, addr, upstream string) {
	t.Helper()
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		c := &dns.Client{Net: w.LocalAddr().Network(), Timeout: 2 * time.Second}
		if c.Net == "udp" && q.IsEdns0() == nil {
			c.UDPSize = dns.MinMsgSize
		}
		resp, _, err := c.Exchange(q, upstream)
		if err != nil {
			resp = new(dns.Msg)
			resp.SetRcode(q, dns.RcodeServerFailure)
		}
		w.WriteMsg(resp)
	})
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		peertest.Unavailable(t, "Exim", "DNS for Exim on %s: %v", addr, err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		pc.Close()
		peertest.Unavailable(t, "Exim", "DNS for Exim on %s: %v", addr, err)
	}
	for _, s := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}} {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go s.ActivateAndServe()
		<-started
		t.Cleanup(func() { s.Shutdown() })
	}
}

// dsPrivateExim starts Exim 4.96 on a free port of 127.0.0.1, its
// resolver pointed at dnsHost:53, and returns the port and the path of
// its mainlog. It is stopped on cleanup.
func dsPrivateExim(t *testing.T, dnsHost string) (int, string) {
	t.Helper()
	exim, err := exec.LookPath("exim4")
	if err != nil {
		peertest.Unavailable(t, "Exim", "no exim4 in PATH")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		peertest.Unavailable(t, "Exim", "no unshare in PATH (util-linux)")
	}
	eu, err := user.Lookup("Debian-exim")
	if err != nil || os.Geteuid() != 0 {
		peertest.Unavailable(t, "Exim", "needs root and the Debian-exim user")
	}
	// Not t.TempDir: Debian-exim must traverse it.
	dir, err := os.MkdirTemp("", "mta-dkimsign-exim-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	for _, d := range []string{"spool", "log"} {
		os.Mkdir(filepath.Join(dir, d), 0o750)
		if out, err := exec.Command("chown", "-R", eu.Uid+":"+eu.Gid, filepath.Join(dir, d)).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v %s", err, out)
		}
	}
	resolv := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver "+dnsHost+"\noptions timeout:2 attempts:2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	conf := "primary_hostname = verifier.test\n" +
		"spool_directory = " + dir + "/spool\n" +
		"log_file_path = " + dir + "/log/%slog\n" +
		"log_selector = +dkim +dkim_verbose +received_recipients\n" +
		"exim_user = Debian-exim\nexim_group = Debian-exim\nkeep_environment =\n" +
		"local_interfaces = <; 127.0.0.1\n" +
		"daemon_smtp_ports = " + strconv.Itoa(port) + "\n" +
		"host_lookup =\nrfc1413_hosts =\ntls_advertise_hosts =\n" +
		"acl_smtp_rcpt = acl_rcpt\nacl_smtp_dkim = acl_dkim\nacl_smtp_data = acl_data\n" +
		"begin acl\n" +
		"acl_rcpt:\n  accept\n" +
		"acl_dkim:\n  warn logwrite = DKIMPEER $dkim_cur_signer $dkim_verify_status $dkim_verify_reason\n  accept\n" +
		"acl_data:\n  warn logwrite = DKIMAR ${authresults{verifier.test}}\n  accept\n" +
		"begin routers\nblackhole:\n  driver = redirect\n  data = :blackhole:\n"
	confPath := filepath.Join(dir, "exim.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// unshare -m execs sh, which bind-mounts the resolv.conf in the
	// new mount namespace and execs Exim in the foreground (-bdf): the
	// process started here is Exim, and only Exim sees the resolv.conf.
	cmd := exec.Command(unshare, "-m", "--propagation", "private", "sh", "-c",
		`mount --bind "$1" /etc/resolv.conf && exec "$2" -C "$3" -bdf`, "sh", resolv, exim, confPath)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		peertest.Unavailable(t, "Exim", "unshare: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(10 * time.Second); !peertest.Listening(addr); {
		select {
		case <-exited:
			peertest.Unavailable(t, "Exim", "private Exim (unshare -m) exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			peertest.Unavailable(t, "Exim", "private Exim not listening on %s: %s", addr, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return port, filepath.Join(dir, "log", "mainlog")
}

// dsEximLines returns the mainlog lines of the Exim message that was
// received for rcpt, waiting for it for at most d.
func dsEximLines(t *testing.T, mainlog, rcpt string, d time.Duration) []string {
	t.Helper()
	recv := regexp.MustCompile(`^\S+ \S+ (\S+) <= .* for ` + regexp.QuoteMeta(rcpt) + `$`)
	deadline := time.Now().Add(d)
	for {
		b, _ := os.ReadFile(mainlog)
		lines := strings.Split(string(b), "\n")
		for _, l := range lines {
			if m := recv.FindStringSubmatch(l); m != nil {
				var out []string
				for _, l2 := range lines {
					if f := strings.Fields(l2); len(f) > 2 && f[2] == m[1] {
						out = append(out, l2)
					}
				}
				return out
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Exim did not receive the message for %s; mainlog:\n%s", rcpt, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestInteropDKIMSignEximVerifies(t *testing.T) {
	dsKeys()
	peertest.Lock(t, "dkim-peer-dns")
	dnsAddr := peertest.Env("DKIM_PEER_DNS_ADDR", "127.0.0.153:53")
	dnsHost, _, _ := net.SplitHostPort(dnsAddr)

	keyDir := t.TempDir()
	signers, err := signing.New([]signing.Domain{
		{Domain: "example.com", Selectors: []signing.Selector{
			{Selector: "rsa", PrivateKey: dsKeyFile(t, filepath.Join(keyDir, "com-rsa.pem"), dsRSA)},
			{Selector: "ed", PrivateKey: dsKeyFile(t, filepath.Join(keyDir, "com-ed.pem"), dsEd)},
		}},
		{Domain: "example.org", Canon: "simple", Selectors: []signing.Selector{
			{Selector: "rsa2", PrivateKey: dsKeyFile(t, filepath.Join(keyDir, "org-rsa.pem"), dsRSA2)},
			{Selector: "ed2", PrivateKey: dsKeyFile(t, filepath.Join(keyDir, "org-ed.pem"), dsEd)},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	zone := []string{"verifier.test. MX 10 mx.verifier.test.", "mx.verifier.test. A 127.0.0.1"}

	// Exim needs the DNS first; our MTA needs Exim's port. The zone is
	// one: resolvertest serves it to our MTA and, through the
	// forwarder on :53, to Exim.
	z := resolvertest.NewZone()
	z.MustAdd(t, zone...)
	dsPublish(t, z, "rsa", "example.com", dsRSA)
	dsPublish(t, z, "ed", "example.com", dsEd)
	dsPublish(t, z, "rsa2", "example.org", dsRSA2)
	dsPublish(t, z, "ed2", "example.org", dsEd)
	up := resolvertest.Start(t, z)
	dsForwardDNS(t, dnsAddr, up.Addr)
	port, mainlog := dsPrivateExim(t, dnsHost)

	spool := t.TempDir()
	ts := start(t, func(c *Config) {
		c.Resolver = nsResolver(t, up.Addr)
		c.Spool = spool
		c.SMTPPort = port
		c.SMTPTimeout = 20 * time.Second
		c.RetryInterval = time.Hour
		c.RelayFrom = hostlist.MustParse("127.0.0.1")
		c.DKIMSign = signers
	})

	tag := fmt.Sprintf("%d", time.Now().UnixNano())
	for _, c := range []struct {
		name, from, domain string
		selectors          []string // RSA first
		canon              string
	}{
		{"relaxed", "alice@example.com", "example.com", []string{"rsa", "ed"}, "relaxed/relaxed"},
		{"simple-subdomain", "news@lists.example.org", "example.org", []string{"rsa2", "ed2"}, "simple/simple"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rcpt := "dkim-" + c.name + "-" + tag + "@verifier.test"
			msg := "From: Sender <" + c.from + ">\nTo: <" + rcpt + ">\nSubject:   DKIM " + c.name + " " + tag +
				"\nMessage-ID: <" + c.name + "." + tag + "@example.com>\n\nLine with  two spaces \n\ttabbed\t line\n\n\n"
			o := &outEnv{ts: ts}
			if code, text := o.send(t, c.from, []string{rcpt}, msg); code != 250 {
				t.Fatalf("DATA: %d %s", code, text)
			}
			lines := dsEximLines(t, mainlog, rcpt, 30*time.Second)
			var verbose, acl, ar []string
			for _, l := range lines {
				if _, v, ok := strings.Cut(l, "DKIM: d="); ok {
					verbose = append(verbose, "d="+v)
				}
				if _, v, ok := strings.Cut(l, "DKIMPEER "); ok {
					acl = append(acl, v)
				}
				if _, v, ok := strings.Cut(l, "DKIMAR "); ok {
					ar = append(ar, v)
				}
			}
			for _, l := range lines {
				t.Logf("exim: %s", l)
			}
			// One verbose line per signature, each a success with
			// the right algorithm and canonicalization.
			algs := map[string]string{c.selectors[0]: "rsa-sha256", c.selectors[1]: "ed25519-sha256"}
			if len(verbose) != 2 {
				t.Errorf("Exim logged %d signatures, want 2: %q", len(verbose), verbose)
			}
			for _, v := range verbose {
				sel := regexp.MustCompile(` s=(\S+)`).FindStringSubmatch(v)
				if sel == nil || algs[sel[1]] == "" {
					t.Errorf("Exim: unexpected signature %s", v)
					continue
				}
				want := []string{"d=" + c.domain + " ", " c=" + c.canon + " ", " a=" + algs[sel[1]] + " ", "[verification succeeded]"}
				for _, w := range want {
					if !strings.Contains(v, w) {
						t.Errorf("Exim for s=%s: %s (want %q)", sel[1], v, w)
					}
				}
				delete(algs, sel[1])
			}
			if len(algs) != 0 {
				t.Errorf("no Exim line for %v", algs)
			}
			if len(acl) == 0 {
				t.Errorf("acl_smtp_dkim did not run")
			}
			for _, a := range acl {
				if f := strings.Fields(a); len(f) < 2 || f[0] != c.domain || f[1] != "pass" {
					t.Errorf("Exim $dkim_verify_status: %q, want %s pass", a, c.domain)
				}
			}
			joined := strings.Join(ar, " ")
			for _, sel := range c.selectors {
				if !regexp.MustCompile(`dkim=pass\s+header\.d=` + regexp.QuoteMeta(c.domain) + `\s+header\.s=` + sel + `\b`).MatchString(joined) {
					t.Errorf("Authentication-Results lacks dkim=pass for s=%s: %q", sel, joined)
				}
			}
			if !regexp.MustCompile(` <= ` + regexp.QuoteMeta(c.from) + ` .*DKIM=` + regexp.QuoteMeta(c.domain)).MatchString(strings.Join(lines, "\n")) {
				t.Errorf("Exim's reception line lacks DKIM=%s", c.domain)
			}
		})
	}
}
