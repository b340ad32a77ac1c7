//go:build interop

// Differential check against Debian's postfix-mta-sts-resolver (the
// MTA-STS policy source Postfix uses): the same DNS zone and the same
// HTTPS policy server are served to its mta-sts-query tool and its
// mta-sts-daemon socketmap server, and to this package; per domain the
// outcome (policy, none, fetch error) and the policy (id, mode,
// max_age, mx) must agree, and per MX host the verdict.
//
// The Python tool uses the system resolver and CA store, so the test
// runs itself again in a private network and mount namespace (unshare,
// as scripts/bench-mta.sh): loopback up, /etc/resolv.conf bind-mounted
// to name a DNS server on 127.0.0.1:53 (a forwarder to a resolvertest
// zone), the policy host on 127.0.0.1:443, SSL_CERT_FILE the test CA.
// It needs root, unshare, ip and the package (scripts/interop.sh
// installs it: apt-get install postfix-mta-sts-resolver).
//
// Known difference, asserted as such: Postfix's "match=.wild.test",
// which the daemon makes of "mx: *.wild.test", matches hosts any number
// of labels below wild.test; RFC 8461 §4.1 (and Policy.Match) only one.

package mtasts

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/internal/peertest"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/miekg/dns"
)

const interopInner = "MAILPOLICY_MTASTS_INTEROP_INNER"

func TestInteropPostfixMTASTSResolver(t *testing.T) {
	if os.Getenv(interopInner) == "" {
		runInNamespace(t)
		return
	}
	interopInside(t)
}

// runInNamespace runs this test again inside a private network and
// mount namespace whose /etc/resolv.conf names 127.0.0.1.
func runInNamespace(t *testing.T) {
	for _, bin := range []string{"unshare", "ip", "mount", "mta-sts-query", "mta-sts-daemon"} {
		if _, err := exec.LookPath(bin); err != nil {
			peertest.Unavailable(t, "postfix-mta-sts-resolver", "%s not found (apt-get install postfix-mta-sts-resolver util-linux iproute2)", bin)
		}
	}
	if os.Geteuid() != 0 {
		peertest.Unavailable(t, "postfix-mta-sts-resolver", "needs root for unshare")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(conf, []byte("nameserver 127.0.0.1\noptions attempts:1 timeout:2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script := `set -e; ip link set lo up; mount --bind "$1" /etc/resolv.conf; shift; exec "$@"`
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "--net", "--mount", "--fork", "sh", "-c", script, "sh", conf,
		self, "-test.run", "^TestInteropPostfixMTASTSResolver$", "-test.v", "-test.count", "1")
	cmd.Env = append(os.Environ(), interopInner+"=1")
	out, err := cmd.CombinedOutput()
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		t.Log(l)
	}
	if err != nil {
		t.Fatalf("the test in the namespace failed: %v", err)
	}
	if !strings.Contains(string(out), "--- PASS: TestInteropPostfixMTASTSResolver") {
		t.Fatal("the test in the namespace did not pass")
	}
}

// interopDomain is one case: the zone lines and the policy host's
// answer, and the MX hosts to judge.
type interopDomain struct {
	name    string
	txt     []string // TXT records at _mta-sts.<name>
	body    string   // the policy ("": none served)
	handler http.HandlerFunc
	cert    string // "bad": a certificate from another CA; "name": for another name
	mxs     []string
}

const (
	polEnforce = "version: STSv1\r\nmode: enforce\r\nmx: mx1.enforce.test\r\nmx: mx2.enforce.test\r\nmax_age: 86400\r\n"
	polTesting = "version: STSv1\nmode: testing\nmx: mx.testing.test\nmax_age: 604800\n"
	polNone    = "version: STSv1\nmode: none\nmax_age: 3600\n"
	polWild    = "version: STSv1\nmode: enforce\nmx: *.wild.test\nmx: exact.wild.test\nmax_age: 1209600\n"
)

var interopDomains = []interopDomain{
	{name: "enforce.test", txt: []string{"v=STSv1; id=e1;"}, body: polEnforce, mxs: []string{"mx1.enforce.test", "MX2.enforce.test.", "mx3.enforce.test"}},
	{name: "testing.test", txt: []string{"v=STSv1; id=t1"}, body: polTesting, mxs: []string{"mx.testing.test", "other.test"}},
	{name: "none.test", txt: []string{"v=STSv1; id=n1;"}, body: polNone, mxs: []string{"mx.none.test"}},
	{name: "wild.test", txt: []string{"v=STSv1; id=w1;"}, body: polWild, mxs: []string{"mx.wild.test", "exact.wild.test", "wild.test", "a.b.wild.test"}},
	{name: "badcert.test", txt: []string{"v=STSv1; id=b1;"}, body: polEnforce, cert: "bad", mxs: []string{"mx1.enforce.test"}},
	{name: "wrongname.test", txt: []string{"v=STSv1; id=b2;"}, body: polEnforce, cert: "name", mxs: []string{"mx1.enforce.test"}},
	{name: "redirect.test", txt: []string{"v=STSv1; id=r1;"}, handler: func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://mta-sts.enforce.test/.well-known/mta-sts.txt", http.StatusMovedPermanently)
	}, mxs: []string{"mx1.enforce.test"}},
	{name: "html.test", txt: []string{"v=STSv1; id=h1;"}, handler: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, polEnforce)
	}, mxs: []string{"mx1.enforce.test"}},
	{name: "notfound.test", txt: []string{"v=STSv1; id=x1;"}, mxs: []string{"mx.notfound.test"}},
	{name: "badage.test", txt: []string{"v=STSv1; id=a1;"}, body: "version: STSv1\nmode: enforce\nmx: mx.badage.test\nmax_age: 31557601\n", mxs: []string{"mx.badage.test"}},
	{name: "missing.test", mxs: []string{"mx.missing.test"}},
	{name: "two.test", txt: []string{"v=STSv1; id=1;", "v=STSv1; id=2;"}, body: polEnforce, mxs: []string{"mx1.enforce.test"}},
	{name: "spf.test", txt: []string{"v=spf1 -all", "v=STSv1; id=s1;"}, body: polTesting, mxs: []string{"mx.testing.test"}},
}

// outcome is one implementation's view of a domain.
type outcome struct {
	status string // VALID, NONE, FETCH_ERROR, NOT_CHANGED
	id     string
	mode   string
	maxAge int64
	mx     []string // sorted
}

func (o outcome) String() string {
	return fmt.Sprintf("%s id=%s mode=%s max_age=%d mx=%v", o.status, o.id, o.mode, o.maxAge, o.mx)
}

func interopInside(t *testing.T) {
	ca, other := newCA(t, "interop CA"), newCA(t, "untrusted CA")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}

	// DNS: a zone per phase behind a forwarder on 127.0.0.1:53.
	zone := func(idChange string) *resolvertest.Server {
		z := resolvertest.NewZone()
		z.MustAdd(t, "test. SOA ns.test. hostmaster.test. 1 3600 600 86400 60")
		for _, d := range interopDomains {
			z.MustAdd(t, "mta-sts."+d.name+". A 127.0.0.1")
			for _, txt := range d.txt {
				z.MustAdd(t, `_mta-sts.`+d.name+`. TXT "`+txt+`"`)
			}
		}
		z.MustAdd(t, "mta-sts.idchange.test. A 127.0.0.1", `_mta-sts.idchange.test. TXT "v=STSv1; id=`+idChange+`;"`)
		return resolvertest.Start(t, z)
	}
	phase1, phase2 := zone("first"), zone("second")
	var upstream atomic.Pointer[string]
	upstream.Store(&phase1.Addr)
	startForwarder(t, &upstream)

	// HTTPS on 127.0.0.1:443, certificates and answers by host name.
	var idPolicy atomic.Pointer[string]
	idPolicy.Store(ptr(polEnforce))
	mux := map[string]http.HandlerFunc{"mta-sts.idchange.test": func(w http.ResponseWriter, r *http.Request) { textPlain(*idPolicy.Load())(w, r) }}
	certs := map[string]*tls.Certificate{"mta-sts.idchange.test": ptr(ca.issue(t, "mta-sts.idchange.test"))}
	for _, d := range interopDomains {
		host := "mta-sts." + d.name
		switch d.cert {
		case "bad":
			certs[host] = ptr(other.issue(t, host))
		case "name":
			certs[host] = ptr(ca.issue(t, "www."+d.name))
		default:
			certs[host] = ptr(ca.issue(t, host))
		}
		switch {
		case d.handler != nil:
			mux[host] = d.handler
		case d.body != "":
			mux[host] = textPlain(d.body)
		}
	}
	startHTTPS443(t, certs, mux)

	r, err := resolver.New(resolver.WithNameservers("127.0.0.1:53"), resolver.WithTimeout(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	fetcher := &Fetcher{RootCAs: ca.pool} // the system resolver and a plain dialer, as the Python tool
	daemon := startDaemon(t, caFile)

	ctx := context.Background()
	for _, d := range interopDomains {
		ours := ourOutcome(ctx, r, fetcher, d.name)
		theirs := queryOutcome(t, caFile, d.name, "")
		t.Logf("%-15s ours: %v", d.name, ours)
		t.Logf("%-15s mta-sts-query: %v", d.name, theirs)
		if ours.String() != theirs.String() {
			t.Errorf("%s: ours %v, mta-sts-query %v", d.name, ours, theirs)
		}
		answer := daemon.query(t, d.name)
		t.Logf("%-15s mta-sts-daemon: %q", d.name, answer)
		for _, mx := range d.mxs {
			o, p := ourVerdict(ours, mx), postfixVerdict(answer, mx)
			t.Logf("%-15s   %-20s ours %-8s postfix %s", d.name, mx, o, p)
			if d.name == "wild.test" && mx == "a.b.wild.test" {
				if o != "refused" || p != "allowed" {
					t.Errorf("a.b.wild.test: ours %s, postfix %s; want the known difference refused/allowed", o, p)
				}
				continue
			}
			if o != p {
				t.Errorf("%s MX %s: ours %s, postfix %s", d.name, mx, o, p)
			}
		}
	}

	// The id changes: mta-sts-query told the old id fetches the new
	// policy, told the new one says NOT_CHANGED; our Cache refetches;
	// the daemon (cache_grace 0) serves the new policy.
	c := &Cache{Resolver: r, Fetcher: fetcher}
	before := c.Get(ctx, "idchange.test")
	if q := queryOutcome(t, caFile, "idchange.test", ""); before.Policy == nil || before.ID != "first" || q.id != "first" || q.mode != "enforce" {
		t.Fatalf("phase 1: ours %+v, mta-sts-query %v", before, q)
	}
	if a := daemon.query(t, "idchange.test"); !strings.HasPrefix(a, "OK secure match=") {
		t.Fatalf("phase 1: daemon %q", a)
	}
	upstream.Store(&phase2.Addr)
	idPolicy.Store(ptr(polTesting))
	after := c.Get(ctx, "idchange.test")
	q := queryOutcome(t, caFile, "idchange.test", "first")
	same := queryOutcome(t, caFile, "idchange.test", "second")
	a := daemon.query(t, "idchange.test")
	t.Logf("id change: ours %s/%s cached=%v, mta-sts-query %v then %v, daemon %q", after.ID, after.Policy.Mode, after.Cached, q, same, a)
	if after.Cached || after.ID != "second" || after.Policy.Mode != ModeTesting || q.status != "VALID" || q.id != "second" || q.mode != "testing" ||
		same.status != "NOT_CHANGED" || a != "NOTFOUND " {
		t.Errorf("after the id change: ours %+v, mta-sts-query %v / %v, daemon %q", after, q, same, a)
	}
	if again := c.Get(ctx, "idchange.test"); !again.Cached || again.ID != "second" {
		t.Errorf("same id again: %+v", again)
	}
}

func ourOutcome(ctx context.Context, r *resolver.Resolver, f *Fetcher, domain string) outcome {
	rec, err := LookupRecord(ctx, r, domain)
	if err != nil {
		return outcome{status: "NONE"}
	}
	p, err := f.Fetch(ctx, domain)
	if err != nil {
		return outcome{status: "FETCH_ERROR"}
	}
	o := outcome{status: "VALID", id: rec.ID, mode: string(p.Mode), maxAge: int64(p.MaxAge / time.Second), mx: slices.Clone(p.MX)}
	slices.Sort(o.mx)
	return o
}

var (
	reStatus = regexp.MustCompile(`STSFetchResult\.(\w+)`)
	reID     = regexp.MustCompile(`\('([^']*)', \{`)
	reMode   = regexp.MustCompile(`'mode': '([^']*)'`)
	reMaxAge = regexp.MustCompile(`'max_age': (\d+)`)
	reMX     = regexp.MustCompile(`'mx': \[([^\]]*)\]`)
)

// queryOutcome runs mta-sts-query DOMAIN [KNOWN-ID] and reads what it
// prints: (<STSFetchResult.VALID: 1>, ('id', {'mx': [...], ...})).
func queryOutcome(t *testing.T, caFile, domain, known string) outcome {
	t.Helper()
	args := []string{domain}
	if known != "" {
		args = append(args, known)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "mta-sts-query", args...)
	cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+caFile, "PYTHONWARNINGS=ignore")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("mta-sts-query %s: %v", domain, err)
	}
	s := string(out)
	m := reStatus.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("mta-sts-query %s: %q", domain, s)
	}
	o := outcome{status: m[1]}
	if o.status != "VALID" {
		return o
	}
	if m := reID.FindStringSubmatch(s); m != nil {
		o.id = m[1]
	}
	if m := reMode.FindStringSubmatch(s); m != nil {
		o.mode = m[1]
	}
	if m := reMaxAge.FindStringSubmatch(s); m != nil {
		o.maxAge, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := reMX.FindStringSubmatch(s); m != nil && m[1] != "" {
		for _, x := range strings.Split(m[1], ", ") {
			o.mx = append(o.mx, strings.ToLower(strings.Trim(x, "'")))
		}
		slices.Sort(o.mx)
	}
	return o
}

// ourVerdict is what a sender with our policy does with an MX host:
// allowed (enforce, matching), refused (enforce, not), deliver (no
// policy, testing or none).
func ourVerdict(o outcome, mx string) string {
	if o.status != "VALID" || o.mode != "enforce" {
		return "deliver"
	}
	if (&Policy{MX: o.mx}).Match(mx) {
		return "allowed"
	}
	return "refused"
}

// postfixVerdict is what Postfix does with the daemon's answer: NOTFOUND
// is no policy (testing and none too, strict_testing being off); "OK
// secure match=a:.b" allows the listed hosts, ".b" any host below b.
func postfixVerdict(answer, mx string) string {
	rest, ok := strings.CutPrefix(answer, "OK secure match=")
	if !ok {
		return "deliver"
	}
	list, _, _ := strings.Cut(rest, " ")
	h := strings.ToLower(strings.TrimSuffix(mx, "."))
	for _, m := range strings.Split(list, ":") {
		if m == h || strings.HasPrefix(m, ".") && strings.HasSuffix(h, m) {
			return "allowed"
		}
	}
	return "refused"
}

// startForwarder answers on 127.0.0.1:53 (UDP and TCP) by asking the
// current upstream.
func startForwarder(t *testing.T, upstream *atomic.Pointer[string]) {
	t.Helper()
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		network := "udp"
		if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
			network = "tcp"
		}
		c := &dns.Client{Net: network, Timeout: 2 * time.Second}
		resp, _, err := c.Exchange(req, *upstream.Load())
		if err != nil {
			m := new(dns.Msg)
			m.SetRcode(req, dns.RcodeServerFailure)
			w.WriteMsg(m)
			return
		}
		w.WriteMsg(resp)
	})
	for _, network := range []string{"udp", "tcp"} {
		srv := &dns.Server{Addr: "127.0.0.1:53", Net: network, Handler: h}
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		errc := make(chan error, 1)
		go func() { errc <- srv.ListenAndServe() }()
		select {
		case <-started:
		case err := <-errc:
			t.Fatalf("DNS on 127.0.0.1:53/%s: %v", network, err)
		}
		t.Cleanup(func() { srv.Shutdown() })
	}
}

// startHTTPS443 serves mux by Host on 127.0.0.1:443 with the
// certificate for the SNI name.
func startHTTPS443(t *testing.T, certs map[string]*tls.Certificate, mux map[string]http.HandlerFunc) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:443")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host, _, err := net.SplitHostPort(r.Host)
			if err != nil {
				host = r.Host
			}
			if h := mux[host]; h != nil {
				h(w, r)
				return
			}
			http.NotFound(w, r)
		}),
		TLSConfig: &tls.Config{GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			return certs[strings.ToLower(hello.ServerName)], nil
		}},
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
}

// daemon is a running mta-sts-daemon, asked over its socketmap port.
type daemon struct{ addr string }

func startDaemon(t *testing.T, caFile string) *daemon {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "mta-sts-daemon.yml")
	// cache_grace 0: every request looks the record up again, so that
	// the id change is seen at once.
	yml := "host: 127.0.0.1\nport: 8461\nreuse_port: true\ncache_grace: 0\ncache:\n  type: internal\n  options:\n    cache_size: 100\ndefault_zone:\n  strict_testing: false\n  timeout: 4\n"
	if err := os.WriteFile(conf, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "mta-sts-daemon", "-c", conf, "-v", "warn")
	cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+caFile, "PYTHONWARNINGS=ignore")
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("mta-sts-daemon stderr:\n%s", stderr.String())
		}
	})
	d := &daemon{addr: "127.0.0.1:8461"}
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", d.addr, time.Second)
		if err == nil {
			c.Close()
			return d
		}
		if i == 100 {
			t.Fatalf("mta-sts-daemon did not listen: %v\n%s", err, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// query asks the daemon for domain as Postfix's socketmap client does:
// the netstring "default <domain>", a netstring back.
func (d *daemon) query(t *testing.T, domain string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", d.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	req := "default " + domain
	fmt.Fprintf(c, "%d:%s,", len(req), req)
	br := bufio.NewReader(c)
	n, err := br.ReadString(':')
	if err != nil {
		t.Fatalf("daemon %s: %v", domain, err)
	}
	size, err := strconv.Atoi(strings.TrimSuffix(n, ":"))
	if err != nil || size > 4096 {
		t.Fatalf("daemon %s: length %q", domain, n)
	}
	buf := make([]byte, size+1)
	if _, err := io.ReadFull(br, buf); err != nil || buf[size] != ',' {
		t.Fatalf("daemon %s: %q %v", domain, buf, err)
	}
	return string(buf[:size])
}
