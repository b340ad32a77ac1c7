//go:build interop

// The cluster test (issue 15 §5, CLUSTER.md): three MTA processes on
// distinct loopback ports, each with its own spool and Maildir, all
// requiring PROXY v2 from 127.0.0.1 and sharing a private redis-server
// (own REDIS_STATE and REDIS_PORT); a private HAProxy (the binary the
// shared peer script installs, ../shared/peers/peer-haproxy.sh) in
// front, roundrobin with send-proxy-v2 and SMTP health checks.
//
//  1. Load: clients from 12 loopback addresses send 25 messages each
//     through HAProxy, a connection per message, retrying what was not
//     acknowledged as a real client would. One instance is killed with
//     SIGKILL once a third is acknowledged. Every message that got a
//     250 must be in one of the Maildirs; a message delivered twice (the
//     250 lost with the instance, the retry taken by another) is
//     reported, not failed.
//  2. The killed instance restarts on its spool and Maildir and HAProxy
//     takes it back.
//  3. Limit: one more client address sends 100 MAIL commands over ten
//     connections against ratelimit_mail = "40 / 1h". The cluster as a
//     whole accepts 40 plus the leaky slack (what the hour-long average
//     decays in the test's seconds), whichever instances took them, and
//     at least two instances took some.
//  4. The DMARC history of every instance is in Redis: an entry for each
//     acknowledged message, from more than one reporter.
//  5. Redis stopped: MAIL through HAProxy answers 451 4.3.0.
//
// Knob: MAILPOLICY_CLUSTER_MESSAGES (per client address, default 25).

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/redisstore"
	"github.com/mailpolicy/mailpolicy/internal/peertest"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

const (
	clusterDomain    = "cluster.test"
	clusterSender    = "load@sender.test"
	clusterMailLimit = 40 // ratelimit_mail = "40 / 1h"
	clusterPeriod    = time.Hour
	clusterClients   = 12
)

func TestInteropCluster(t *testing.T) {
	perClient := 25
	if v := os.Getenv("MAILPOLICY_CLUSTER_MESSAGES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n >= clusterMailLimit {
			t.Fatalf("MAILPOLICY_CLUSTER_MESSAGES=%q: want 1 to %d", v, clusterMailLimit-1)
		}
		perClient = n
	}
	began := time.Now()
	haproxy := clusterHAProxyBin(t)
	redisSrv := clusterStartRedis(t)
	ns := resolvertest.Start(t, resolvertest.MustParseZone(t,
		"sender.test. 300 IN TXT \"v=spf1 ip4:127.0.0.0/8 -all\"\n"+
			"_dmarc.sender.test. 300 IN TXT \"v=DMARC1; p=none; rua=mailto:agg@sender.test\"\n"))
	bin := clusterBuild(t)
	dir := t.TempDir()
	var nodes []*clusterNode
	for i := 1; i <= 3; i++ {
		n := &clusterNode{bin: bin, name: fmt.Sprintf("mx%d.%s", i, clusterDomain), addr: clusterFreeAddr(t),
			dir: filepath.Join(dir, fmt.Sprintf("node%d", i))}
		n.writeConfig(t, ns.Addr, redisSrv.addr)
		n.start(t)
		t.Cleanup(n.stop)
		nodes = append(nodes, n)
	}
	for _, n := range nodes {
		n.waitUp(t)
	}
	front := clusterStartHAProxy(t, haproxy, dir, nodes)
	clusterWaitBackends(t, front, nodes, 3)

	// 1. Load, with one instance killed once a third is acknowledged.
	led := &clusterLedger{acked: map[string][]string{}}
	total := clusterClients * perClient
	victim := nodes[1]
	var killedAt atomic.Int64 // acknowledgements before the kill
	var wg sync.WaitGroup
	for w := range clusterClients {
		wg.Go(func() {
			src := fmt.Sprintf("127.0.0.%d", 10+w)
			for m := range perClient {
				tok := fmt.Sprintf("cl-%d-%d", w, m)
				for attempt := 0; attempt < 6; attempt++ {
					host, code, err := clusterSend(src, front, tok)
					if err == nil && code == 250 {
						led.ack(tok, host)
						break
					}
					led.retry()
					time.Sleep(time.Duration(50*(attempt+1)) * time.Millisecond)
				}
			}
		})
	}
	loadDone, killDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(killDone)
		for led.count() < total/3 {
			select {
			case <-loadDone:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
		killedAt.Store(int64(led.count()))
		victim.kill()
	}()
	wg.Wait()
	close(loadDone)
	<-killDone
	if killedAt.Load() == 0 {
		t.Fatal("the load ended before the kill")
	}
	acked := led.snapshot()
	t.Logf("load: %d of %d messages acknowledged, %d retries; %s killed after %d", len(acked), total, led.retries.Load(), victim.name, killedAt.Load())
	if len(acked) != total {
		t.Errorf("%d of %d messages were never acknowledged (6 attempts each)", total-len(acked), total)
	}
	byNode := map[string]int{}
	for _, hosts := range acked {
		for _, h := range hosts {
			byNode[h]++
		}
	}
	t.Logf("acknowledged by instance: %v", byNode)
	for _, n := range nodes {
		if byNode[n.name] == 0 {
			t.Errorf("%s acknowledged nothing: the balancer did not spread the load", n.name)
		}
	}
	stored := map[string]int{}
	for _, n := range nodes {
		if err := clusterScan(filepath.Join(n.dir, "Maildir"), stored); err != nil {
			t.Fatal(err)
		}
	}
	var lost, dups []string
	for tok, hosts := range acked {
		switch c := stored[tok]; {
		case c == 0:
			lost = append(lost, tok+" (acked by "+strings.Join(hosts, ",")+")")
		case c > 1:
			dups = append(dups, fmt.Sprintf("%s×%d", tok, c))
		}
	}
	sort.Strings(lost)
	sort.Strings(dups)
	if len(lost) > 0 {
		t.Errorf("%d acknowledged messages in no Maildir: %v", len(lost), lost)
	}
	t.Logf("%d messages stored, %d delivered more than once (reported, not failed): %v", len(stored), len(dups), dups)

	// The balancer's health checks (SMTP, through PROXY v2) saw it go.
	clusterWaitLog(t, filepath.Join(dir, "haproxy.log"), "mta/mx2 is DOWN")

	// 2. The killed instance comes back on its own spool and Maildir.
	victim.start(t)
	victim.waitUp(t)
	clusterWaitLog(t, filepath.Join(dir, "haproxy.log"), "mta/mx2 is UP")
	clusterWaitBackends(t, front, nodes, 3)

	// 3. One client address against the limit, across the instances.
	limitStart := time.Now()
	var passed atomic.Int64
	passedBy := map[string]int{}
	var mu sync.Mutex
	var wg2 sync.WaitGroup
	for range 10 {
		wg2.Go(func() {
			c, host, err := clusterDial("127.0.0.200", front)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			if _, _, err := c.cmd("EHLO limit.test", 250); err != nil {
				t.Error(err)
				return
			}
			for range 10 {
				code, msg, err := c.cmd("MAIL FROM:<"+clusterSender+">", 0)
				switch {
				case err != nil:
					t.Error(err)
					return
				case code == 250:
					passed.Add(1)
					mu.Lock()
					passedBy[host]++
					mu.Unlock()
					c.cmd("RSET", 250)
				case code == 451 && msg == fmt.Sprintf("4.7.1 Sender rate exceeds %d messages per 1h", clusterMailLimit):
				default:
					t.Errorf("MAIL: %d %s", code, msg)
				}
			}
		})
	}
	wg2.Wait()
	// The leaky slack: what the average decays while the test runs.
	slack := int(math.Ceil(clusterMailLimit*time.Since(limitStart).Seconds()/clusterPeriod.Seconds())) + 1
	t.Logf("limit: %d of 100 MAIL commands accepted (limit %d, slack %d), by instance %v", passed.Load(), clusterMailLimit, slack, passedBy)
	if p := int(passed.Load()); p > clusterMailLimit+slack || p < clusterMailLimit-1 {
		t.Errorf("the cluster accepted %d MAIL commands from one address, want %d (+%d)", p, clusterMailLimit, slack)
	}
	if len(passedBy) < 2 {
		t.Errorf("only %v took the limited client's mail", passedBy)
	}

	// 4. One DMARC history for the cluster.
	rc, err := redisstore.Open(redisSrv.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := redisstore.NewHistory(rc, redisstore.DefaultPrefix, time.Second).Entries(context.Background(), began.Add(-time.Minute), time.Now().Add(time.Minute))
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	reporters := map[string]int{}
	for _, e := range entries {
		reporters[e.Reporter]++
	}
	t.Logf("DMARC history: %d entries, by reporter %v", len(entries), reporters)
	if len(entries) < len(acked) || len(reporters) < 2 {
		t.Errorf("DMARC history: %d entries from %v for %d acknowledged messages", len(entries), reporters, len(acked))
	}

	// 5. Redis down: the check that needs it defers.
	redisSrv.stop(t)
	c, host, err := clusterDial("127.0.0.201", front)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.cmd("EHLO down.test", 250)
	code, msg, err := c.cmd("MAIL FROM:<"+clusterSender+">", 0)
	if err != nil || code != 451 || !strings.HasPrefix(msg, "4.3.0 ") {
		t.Errorf("MAIL at %s with Redis down: %d %q %v", host, code, msg, err)
	}
	t.Logf("Redis down: MAIL at %s: %d %s", host, code, msg)
	if t.Failed() {
		for _, n := range nodes {
			t.Logf("%s log tail:\n%s", n.name, n.logTail(30))
		}
		b, _ := os.ReadFile(filepath.Join(dir, "haproxy.log"))
		t.Logf("haproxy log:\n%s", b)
	}
}

// clusterLedger records which instance acknowledged each token.
type clusterLedger struct {
	mu      sync.Mutex
	acked   map[string][]string
	retries atomic.Int64
}

func (l *clusterLedger) ack(tok, host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acked[tok] = append(l.acked[tok], host)
}

func (l *clusterLedger) retry() { l.retries.Add(1) }

func (l *clusterLedger) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

func (l *clusterLedger) snapshot() map[string][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string][]string, len(l.acked))
	for k, v := range l.acked {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// clusterConn is a line-by-line SMTP client.
type clusterConn struct {
	c  net.Conn
	tp *textproto.Conn
}

func (c *clusterConn) Close() error { return c.c.Close() }

// cmd sends a line and reads the reply; want 0 takes any code.
func (c *clusterConn) cmd(line string, want int) (int, string, error) {
	if err := c.tp.PrintfLine("%s", line); err != nil {
		return 0, "", err
	}
	code, msg, err := c.tp.ReadResponse(want)
	if want == 0 {
		if _, ok := err.(*textproto.Error); ok {
			err = nil
		}
	}
	return code, msg, err
}

// clusterDial connects to addr from the loopback address src and reads
// the banner; host is the instance's name from it.
func clusterDial(src, addr string) (*clusterConn, string, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	c := &clusterConn{c: nc, tp: textproto.NewConn(nc)}
	_, msg, err := c.tp.ReadResponse(220)
	if err != nil {
		nc.Close()
		return nil, "", fmt.Errorf("banner: %w", err)
	}
	host, _, _ := strings.Cut(msg, " ")
	return c, host, nil
}

// clusterSend sends one message carrying tok and returns the instance
// and the final reply code (0 with an error when the session broke).
func clusterSend(src, addr, tok string) (string, int, error) {
	c, host, err := clusterDial(src, addr)
	if err != nil {
		return "", 0, err
	}
	defer c.Close()
	for _, l := range []struct {
		line string
		want int
	}{{"EHLO " + strings.ReplaceAll(src, ".", "-") + ".client.test", 250}, {"MAIL FROM:<" + clusterSender + ">", 250},
		{"RCPT TO:<user" + tok[len(tok)-1:] + "@" + clusterDomain + ">", 250}, {"DATA", 354}} {
		if code, _, err := c.cmd(l.line, l.want); err != nil {
			return host, code, err
		}
	}
	body := fmt.Sprintf("From: Load <%s>\r\nTo: user@%s\r\nSubject: %s\r\nMessage-ID: <%s@sender.test>\r\nX-Cluster-Token: %s\r\n\r\n%s\r\n",
		clusterSender, clusterDomain, tok, tok, tok, strings.Repeat("cluster load line\r\n", 20))
	w := c.tp.DotWriter()
	io.WriteString(w, body)
	if err := w.Close(); err != nil {
		return host, 0, err
	}
	code, _, err := c.tp.ReadResponse(0)
	if _, ok := err.(*textproto.Error); ok {
		err = nil
	}
	if err == nil {
		c.cmd("QUIT", 0)
	}
	return host, code, err
}

// clusterScan counts the tokens of the messages in a Maildir (new/ and
// cur/ of the inbox and every folder) into seen.
func clusterScan(root string, seen map[string]int) error {
	return filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.IsDir() || !(filepath.Base(filepath.Dir(p)) == "new" || filepath.Base(filepath.Dir(p)) == "cur") {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			l := sc.Text()
			if l == "" {
				break
			}
			if v, ok := strings.CutPrefix(l, "X-Cluster-Token: "); ok {
				seen[v]++
				break
			}
		}
		return sc.Err()
	})
}

// clusterNode is one MTA process.
type clusterNode struct {
	bin, name, addr, dir string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func (n *clusterNode) conf() string    { return filepath.Join(n.dir, "mta.toml") }
func (n *clusterNode) logPath() string { return filepath.Join(n.dir, "mta.log") }

func (n *clusterNode) writeConfig(t *testing.T, nameserver, redisAddr string) {
	t.Helper()
	if err := os.MkdirAll(n.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`listen = %q
hostname = %q
domains = [%q]
maildir = %q
spool = %q
nameserver = %q
proxy_required = "127.0.0.1"
redis = "redis://%s/0"
redis_timeout = "1s"
ratelimit_mail = "%d / 1h"
dmarc_history_redis = true
dane_try = ""
max_sessions = -1
max_sessions_per_host = -1
shutdown_timeout = "2s"
log_level = "info"
`, n.addr, n.name, clusterDomain, filepath.Join(n.dir, "Maildir"), filepath.Join(n.dir, "spool"), nameserver, redisAddr, clusterMailLimit)
	if err := os.WriteFile(n.conf(), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (n *clusterNode) start(t *testing.T) {
	t.Helper()
	logf, err := os.OpenFile(n.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(n.bin, "-config", n.conf())
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(done)
	}()
	n.mu.Lock()
	n.cmd, n.done = cmd, done
	n.mu.Unlock()
}

// kill is kill -9: no shutdown, nothing flushed.
func (n *clusterNode) kill() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

func (n *clusterNode) stop() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
	}
}

// waitUp waits for the listener. A bare connection is no session (the
// instance wants a PROXY header first), so connecting is the test.
func (n *clusterNode) waitUp(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", n.addr, time.Second); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listening on %s:\n%s", n.name, n.addr, n.logTail(20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (n *clusterNode) logTail(lines int) string {
	b, _ := os.ReadFile(n.logPath())
	ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}

// clusterBuild builds the MTA binary (without -race: only the test
// process needs it).
func clusterBuild(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mta")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// clusterFreeAddr is a loopback address with a port free just now.
func clusterFreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// clusterHAProxyBin finds haproxy, letting the shared peer script
// install it when it is missing (and stopping the shared instance that
// started, if this test started it).
func clusterHAProxyBin(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"haproxy", "/usr/sbin/haproxy"} {
		if bin, err := exec.LookPath(p); err == nil {
			return bin
		}
	}
	peertest.Ensure(t, "HAProxy", "127.0.0.1:"+peertest.Env("HAPROXY_V1_PORT", "2526"), peertest.SharedScript("peer-haproxy.sh"))
	bin, err := exec.LookPath("/usr/sbin/haproxy")
	if err != nil {
		peertest.Unavailable(t, "HAProxy", "no haproxy binary after peer-haproxy.sh start: %v", err)
	}
	return bin
}

// clusterStartHAProxy runs a private HAProxy in front of the nodes: the
// stanza CLUSTER.md shows, on a port of its own, in the foreground
// (-db) as a child of the test.
func clusterStartHAProxy(t *testing.T, bin, dir string, nodes []*clusterNode) string {
	t.Helper()
	front := clusterFreeAddr(t)
	var servers strings.Builder
	for i, n := range nodes {
		fmt.Fprintf(&servers, "  server mx%d %s send-proxy-v2 check\n", i+1, n.addr)
	}
	cfg := fmt.Sprintf(`global
  log stdout format raw local0 info
defaults
  mode tcp
  log global
  option tcplog
  timeout connect 2s
  timeout client 1m
  timeout server 1m
  retries 2
  option redispatch
frontend smtp
  bind %s
  default_backend mta
backend mta
  balance roundrobin
  option smtpchk EHLO haproxy.%s
  default-server inter 300ms fall 1 rise 2
%s`, front, clusterDomain, servers.String())
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", "-q", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	logf, err := os.Create(filepath.Join(dir, "haproxy.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(done)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	for deadline := time.Now().Add(10 * time.Second); !peertest.Listening(front); {
		if time.Now().After(deadline) {
			t.Fatalf("haproxy not listening on %s", front)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return front
}

// clusterWaitBackends waits until sessions through the balancer have
// reached want distinct instances in a row of connections.
func clusterWaitBackends(t *testing.T, front string, nodes []*clusterNode, want int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; {
		seen := map[string]bool{}
		for range 2 * len(nodes) {
			if c, host, err := clusterDial("127.0.0.1", front); err == nil {
				seen[host] = true
				c.cmd("QUIT", 0)
				c.Close()
			}
		}
		if len(seen) >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %v behind the balancer after 20s", seen)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// clusterWaitLog waits for a line containing what in a log file.
func clusterWaitLog(t *testing.T, path, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		b, _ := os.ReadFile(path)
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, what) {
				t.Logf("haproxy: %s", l)
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in %s:\n%s", what, path, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// clusterRedis is the cluster's private redis-server.
type clusterRedis struct {
	addr string
	env  []string
}

func clusterStartRedis(t *testing.T) *clusterRedis {
	t.Helper()
	_, port, _ := net.SplitHostPort(clusterFreeAddr(t))
	state, err := os.MkdirTemp("", "redis-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	r := &clusterRedis{addr: "127.0.0.1:" + port, env: []string{"REDIS_STATE=" + state, "REDIS_PORT=" + port}}
	t.Cleanup(func() {
		r.stop(t)
		os.RemoveAll(state)
	})
	if out, err := peertest.Run(peertest.SharedScript("peer-redis.sh"), r.env, "start"); err != nil {
		peertest.Unavailable(t, "redis (private)", "%v: %s", err, out)
	}
	return r
}

func (r *clusterRedis) stop(t *testing.T) {
	peertest.Run(peertest.SharedScript("peer-redis.sh"), r.env, "stop")
	for deadline := time.Now().Add(10 * time.Second); peertest.Listening(r.addr); {
		if time.Now().After(deadline) {
			t.Errorf("private Redis on %s still listening after stop", r.addr)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
