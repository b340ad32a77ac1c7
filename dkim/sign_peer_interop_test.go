//go:build interop

// Interop tests for the signing direction: messages that Sign signed
// are checked by two verifiers that share no code with this package.
//
//   - TestSignPeerEximVerify: a private Exim 4.96 daemon (own
//     configuration, spool and log under a temporary directory) on
//     127.0.0.1 receives each message over SMTP. Its acl_smtp_dkim logs
//     "$dkim_cur_signer $dkim_verify_status $dkim_verify_reason" per
//     signer, and log_selector +dkim_verbose logs one "DKIM: d=... s=..."
//     line per signature. Exim asks the system resolver for the keys;
//     glibc's resolv.conf cannot name a port, so Exim runs in a private
//     mount namespace (unshare -m) whose /etc/resolv.conf is bind-mounted
//     to name a DNS server of this test on 127.0.0.153:53 that serves
//     the test's key records (and NXDOMAIN for everything else). Nothing
//     outside the Exim process sees that resolv.conf.
//   - TestSignPeerDkimpyVerify: dkimpy (Debian python3-dkim) verifies
//     every DKIM-Signature field with dkim.DKIM.verify, its dnsfunc
//     answering from the same key records (offline).
//
// Cases for both: rsa2048 and ed25519, relaxed and simple, Exim's
// default header list and an oversigned one (+From), and two
// signatures (rsa and ed25519, two domains) in one message.
//
// A missing peer (no exim4, not root, no Debian-exim user, no unshare
// or mount namespace, port 53 on 127.0.0.153 taken; no python3-dkim)
// skips the test, or fails it when MAILPOLICY_INTEROP_REQUIRED is set
// (peertest.Unavailable). scripts/interop.sh installs python3-dkim.
//
// Environment: DKIM_PEER_DNS_ADDR (127.0.0.153:53; the port must be 53
// for Exim), DKIMPY_PYTHON (/usr/bin/python3, Debian's python, where
// python3-dkim lives).

package dkim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailpolicy/mailpolicy/internal/peertest"
)

// signPeerCase is one message to sign and have verified.
type signPeerCase struct {
	name    string
	canon   string
	headers string
	keys    []string // "rsa", "ed": one signature each
}

func signPeerCases() []signPeerCase {
	var cs []signPeerCase
	for _, k := range []string{"rsa", "ed"} {
		for _, canon := range []string{"relaxed", "simple"} {
			cs = append(cs,
				signPeerCase{k + "/" + canon, canon, "", []string{k}},
				signPeerCase{k + "/" + canon + "/oversigned", canon, "+From:To:Subject:Date:+Message-ID:Comments", []string{k}})
		}
	}
	for _, canon := range []string{"relaxed", "simple"} {
		cs = append(cs, signPeerCase{"rsa+ed/" + canon, canon, "", []string{"rsa", "ed"}})
	}
	return cs
}

// signPeerSetup writes the keys as PEM files under dir and returns the
// key records: s=rsa d=example.com (RSA 2048) and s=ed d=example.net
// (Ed25519).
func signPeerSetup(t *testing.T, dir string) signTestDNS {
	t.Helper()
	k := signTestKeys()
	if err := os.WriteFile(filepath.Join(dir, "rsa.pem"), []byte(signPEM(t, k.rsa2048, false)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ed.pem"), []byte(signPEM(t, k.ed, false)), 0o600); err != nil {
		t.Fatal(err)
	}
	return signTestDNS{}.add(t, "rsa", "example.com", k.rsa2048.Public()).add(t, "ed", "example.net", k.ed.Public())
}

var signPeerDomain = map[string]string{"rsa": "example.com", "ed": "example.net"}

// signPeerSign signs the test message for c (Message-ID and Subject
// carry id) and checks the result with Verify first.
func signPeerSign(t *testing.T, dir string, dnsRecs signTestDNS, c signPeerCase, id string) []byte {
	t.Helper()
	var domains []SignDomain
	for _, k := range c.keys {
		domains = append(domains, SignDomain{Domain: signPeerDomain[k],
			Selectors: []SignSelector{{Selector: k, PrivateKey: filepath.Join(dir, k+".pem")}}})
	}
	s := signMust(t, SignerConfig{Canon: c.canon, SignHeaders: c.headers, Domains: domains})
	msg := bytes.Replace(signTestMessage(signTestBody), []byte("Message-ID: <1@example.com>"),
		[]byte("Message-ID: <"+id+"@example.com>"), 1)
	msg = bytes.Replace(msg, []byte("Subject:  Hello"), []byte("Subject:  Hello "+id), 1)
	signed, _ := signDo(t, s, msg)
	if fields, _ := signLeadingSignatures(signed); len(fields) != len(c.keys) {
		t.Fatalf("%d signatures, want %d", len(fields), len(c.keys))
	}
	if c.headers != "" {
		fields, _ := signLeadingSignatures(signed)
		for _, f := range fields {
			n := 0
			h := strings.ToLower(signTagsOf(f)["h"])
			for _, name := range strings.Split(h, ":") {
				if name == "from" {
					n++
				}
			}
			if n != 2 {
				t.Fatalf("h=%s: want From oversigned (twice)", h)
			}
		}
	}
	signVerifyOurs(t, dnsRecs, signed, len(c.keys))
	return signed
}

// TestSignPeerEximVerify has a private Exim verify our signatures.
func TestSignPeerEximVerify(t *testing.T) {
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
	dir, err := os.MkdirTemp("", "dkimsign-eximverify-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	for _, d := range []string{"spool", "log"} {
		os.Mkdir(filepath.Join(dir, d), 0o750)
		exec.Command("chown", "-R", eu.Uid+":"+eu.Gid, filepath.Join(dir, d)).Run()
	}
	recs := signPeerSetup(t, dir)

	// The DNS server Exim's resolver asks.
	// The lock keeps two test processes (say a -race and a plain run)
	// from wanting the address at once.
	peertest.Lock(t, "dkim-peer-dns")
	dnsAddr := peertest.Env("DKIM_PEER_DNS_ADDR", "127.0.0.153:53")
	dnsHost, _, _ := net.SplitHostPort(dnsAddr)
	signPeerDNS(t, dnsAddr, recs)
	resolv := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver "+dnsHost+"\noptions timeout:2 attempts:2\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// A free port for Exim.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	conf := "primary_hostname = verifier.test\n" +
		"spool_directory = " + dir + "/spool\n" +
		"log_file_path = " + dir + "/log/%slog\n" +
		"log_selector = +dkim_verbose\n" +
		"exim_user = Debian-exim\nexim_group = Debian-exim\nkeep_environment =\n" +
		"local_interfaces = <; 127.0.0.1\n" +
		"daemon_smtp_ports = " + strconv.Itoa(port) + "\n" +
		"host_lookup =\nrfc1413_hosts =\ntls_advertise_hosts =\n" +
		"acl_smtp_rcpt = acl_rcpt\nacl_smtp_dkim = acl_dkim\n" +
		"begin acl\n" +
		"acl_rcpt:\n  accept\n" +
		"acl_dkim:\n  warn logwrite = DKIMPEER $dkim_cur_signer $dkim_verify_status $dkim_verify_reason\n  accept\n" +
		"begin routers\nblackhole:\n  driver = redirect\n  data = :blackhole:\n"
	confPath := filepath.Join(dir, "exim.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// unshare -m execs sh, which bind-mounts the resolv.conf in the new
	// mount namespace and execs Exim in the foreground (-bdf): the
	// process we start is Exim, and only Exim sees the resolv.conf.
	cmd := exec.Command(unshare, "-m", "--propagation", "private", "sh", "-c",
		`mount --bind "$1" /etc/resolv.conf && exec "$2" -C "$3" -bdf`, "sh", resolv, exim, confPath)
	var eximOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &eximOut, &eximOut
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
	for deadline := time.Now().Add(10 * time.Second); !peertest.Listening(addr); {
		select {
		case <-exited:
			peertest.Unavailable(t, "Exim", "private Exim (unshare -m) exited: %s", eximOut.String())
		default:
		}
		if time.Now().After(deadline) {
			peertest.Unavailable(t, "Exim", "private Exim not listening on %s: %s", addr, eximOut.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	mainlog := filepath.Join(dir, "log", "mainlog")
	for i, c := range signPeerCases() {
		t.Run(c.name, func(t *testing.T) {
			id := fmt.Sprintf("exim%d", i)
			signed := signPeerSign(t, dir, recs, c, id)
			before, _ := os.ReadFile(mainlog)
			if err := smtp.SendMail(addr, nil, "alice@example.com", []string{"bob@verifier.test"}, signed); err != nil {
				t.Fatalf("SMTP to Exim: %v", err)
			}
			after, _ := os.ReadFile(mainlog)
			if len(after) < len(before) {
				t.Fatalf("mainlog shrank")
			}
			logged := string(after[len(before):])
			var acl, verbose []string
			for _, l := range strings.Split(logged, "\n") {
				if _, v, ok := strings.Cut(l, "DKIMPEER "); ok {
					acl = append(acl, v)
				}
				if _, v, ok := strings.Cut(l, "DKIM: d="); ok {
					verbose = append(verbose, "d="+v)
				}
			}
			signers := map[string]bool{}
			for _, a := range acl {
				f := strings.Fields(a)
				if len(f) < 2 || f[1] != "pass" {
					t.Errorf("Exim ACL: %q, want pass", a)
					continue
				}
				signers[f[0]] = true
			}
			for _, k := range c.keys {
				if !signers[signPeerDomain[k]] {
					t.Errorf("Exim ACL: no pass for %s; lines %q", signPeerDomain[k], acl)
				}
			}
			if len(verbose) != len(c.keys) {
				t.Errorf("Exim logged %d signature lines, want %d: %q", len(verbose), len(c.keys), verbose)
			}
			for _, v := range verbose {
				if !strings.Contains(v, "[verification succeeded]") {
					t.Errorf("Exim: %s", v)
				}
			}
			if t.Failed() {
				t.Logf("message:\n%s\nmainlog:\n%s", signed, logged)
			} else {
				t.Logf("Exim: %q", acl)
			}
		})
	}
}

// signPeerDNS serves recs (TXT) on addr over UDP and TCP, NXDOMAIN for
// other names, until t's cleanup.
func signPeerDNS(t *testing.T, addr string, recs signTestDNS) []*dns.Server {
	t.Helper()
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		if len(q.Question) == 1 {
			qn := q.Question[0]
			name := strings.TrimSuffix(strings.ToLower(qn.Name), ".")
			if rec, ok := recs[name]; ok {
				if qn.Qtype == dns.TypeTXT {
					var parts []string
					for len(rec) > 255 {
						parts, rec = append(parts, rec[:255]), rec[255:]
					}
					parts = append(parts, rec)
					m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: qn.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: parts})
				}
			} else {
				m.Rcode = dns.RcodeNameError
			}
		}
		w.WriteMsg(m)
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
	servers := []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}}
	for _, s := range servers {
		go s.ActivateAndServe()
		t.Cleanup(func() { s.Shutdown() })
	}
	return servers
}

// signPeerDkimpy verifies every DKIM-Signature field of a message
// read on stdin with dkimpy; argv[1] is a JSON object of key records.
// It prints one "<index> pass|fail <d> <s>" line per field.
const signPeerDkimpy = `
import sys, json, logging, dkim
recs = json.loads(sys.argv[1])
def dnsfunc(name, timeout=5):
    n = name.decode() if isinstance(name, bytes) else name
    r = recs.get(n.rstrip('.').lower())
    return r.encode() if r is not None else None
logging.basicConfig(stream=sys.stderr, level=logging.DEBUG)
msg = sys.stdin.buffer.read()
d = dkim.DKIM(msg, logger=logging.getLogger('dkimpy'))
n = sum(1 for h in d.headers if h[0].lower() == b'dkim-signature')
for i in range(n):
    try:
        ok = d.verify(idx=i, dnsfunc=dnsfunc)
    except dkim.DKIMException as e:
        ok = False
        print('error', e, file=sys.stderr)
    sig = d.signature_fields or {}
    print(i, 'pass' if ok else 'fail', sig.get(b'd', b'').decode(), sig.get(b's', b'').decode())
`

// TestSignPeerDkimpyVerify has dkimpy (python3-dkim) verify our
// signatures.
func TestSignPeerDkimpyVerify(t *testing.T) {
	py := peertest.Env("DKIMPY_PYTHON", "/usr/bin/python3")
	dir := t.TempDir()
	probe := exec.Command(py, "-c", "import dkim, nacl; print(dkim.__file__)")
	probe.Dir = dir // not a directory with a dkim/ in it
	if out, err := probe.CombinedOutput(); err != nil {
		peertest.Unavailable(t, "dkimpy", "%s cannot import dkim (python3-dkim) and nacl: %v %s", py, err, out)
	}
	recs := signPeerSetup(t, dir)
	js, _ := json.Marshal(recs)
	for i, c := range signPeerCases() {
		t.Run(c.name, func(t *testing.T) {
			signed := signPeerSign(t, dir, recs, c, fmt.Sprintf("py%d", i))
			cmd := exec.Command(py, "-c", signPeerDkimpy, string(js))
			cmd.Dir = dir
			cmd.Stdin = bytes.NewReader(signed)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("dkimpy: %v\n%s", err, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != len(c.keys) {
				t.Errorf("dkimpy checked %d signatures, want %d: %q", len(lines), len(c.keys), lines)
			}
			seen := map[string]bool{}
			for _, l := range lines {
				f := strings.Fields(l)
				if len(f) != 4 || f[1] != "pass" {
					t.Errorf("dkimpy: %q, want pass", l)
					continue
				}
				seen[f[3]+"/"+f[2]] = true
			}
			for _, k := range c.keys {
				if !seen[k+"/"+signPeerDomain[k]] {
					t.Errorf("dkimpy: no pass for s=%s d=%s: %q", k, signPeerDomain[k], lines)
				}
			}
			if t.Failed() {
				t.Logf("message:\n%s\ndkimpy log:\n%s", signed, stderr.String())
			} else {
				t.Logf("dkimpy: %q", lines)
			}
		})
	}
}
