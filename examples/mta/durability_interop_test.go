//go:build interop

// The kill -9 test (issue 15 §4): the MTA binary, run as its own
// process, takes a flood of 20 concurrent sessions, half for a local
// domain (Maildir) and half relayed to a private Postfix smtp-sink
// (../shared/peers/peer-smtp-sink.sh, which writes and closes each
// dump file before it answers 250 and deletes the file of a cut
// transaction). The MTA is killed with SIGKILL at seeded random moments
// and restarted on the same spool and Maildir. At the end every message
// that got a 250 must be in the Maildir or in the sink's dumps; a
// message delivered twice (killed after the delivery, before the spool
// noted it) is counted and reported, not failed. After each restart
// the leftovers of the kill (Maildir tmp/ files, spool files without
// their envelope or message, temporary envelopes) must be gone.
//
// Knobs: MAILPOLICY_DURABILITY_CYCLES (kills, default 10),
// MAILPOLICY_DURABILITY_SESSIONS (default 20), MAILPOLICY_DURABILITY_SEED
// (the seed of the kill moments, logged), MAILPOLICY_DURABILITY_DRAIN
// (bound on the final queue drain, default 60s).

package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/internal/peertest"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/mailpolicy/mailpolicy/smtp"
)

const (
	durLocalDomain = "local.test"
	durRelayDomain = "relay.test"
	durSender      = "flood@sender.test"
)

func TestInteropDurabilityKill9(t *testing.T) {
	cycles := durEnvInt(t, "MAILPOLICY_DURABILITY_CYCLES", 10)
	sessions := durEnvInt(t, "MAILPOLICY_DURABILITY_SESSIONS", 20)
	drain := 60 * time.Second
	if v := os.Getenv("MAILPOLICY_DURABILITY_DRAIN"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("MAILPOLICY_DURABILITY_DRAIN: %v", err)
		}
		drain = d
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("MAILPOLICY_DURABILITY_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("MAILPOLICY_DURABILITY_SEED: %v", err)
		}
		seed = s
	}
	t.Logf("seed %d (MAILPOLICY_DURABILITY_SEED=%d repeats these kill moments), %d cycles, %d sessions", seed, seed, cycles, sessions)
	rng := rand.New(rand.NewPCG(seed, 0x6b696c6c))
	began := time.Now()

	sink := durStartSink(t)
	ns := resolvertest.Start(t, resolvertest.MustParseZone(t,
		durRelayDomain+". 300 IN MX 10 mx."+durRelayDomain+".\n"+
			"mx."+durRelayDomain+". 300 IN A 127.0.0.1\n"))
	bin := durBuild(t)

	dir := t.TempDir()
	m := &durMTA{
		bin: bin, addr: durListenAddr(t),
		maildir: filepath.Join(dir, "Maildir"), spool: filepath.Join(dir, "spool"),
		conf: filepath.Join(dir, "mta.toml"), logPath: filepath.Join(dir, "mta.log"),
	}
	durWriteConfig(t, m, ns.Addr, sink.port)
	m.start(t)
	t.Cleanup(func() { m.stop() })
	m.waitUp(t)

	led := &durLedger{acked: map[string]string{}, doubt: map[string]string{}}
	var stop atomic.Bool
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			durSession(ctx, i, m.addr, led, &stop, seed)
		}()
	}
	stopFlood := func() {
		stop.Store(true)
		wg.Wait()
	}
	defer stopFlood() // a t.Fatal on the way must not leave sessions running

	var cleanedMaildir, cleanedSpool int
	for cycle := 1; cycle <= cycles; cycle++ {
		// Kill only while the flood is under way: a few acknowledged
		// messages in this run first, then a random moment.
		base := led.ackedCount()
		durWaitFor(t, 30*time.Second, fmt.Sprintf("cycle %d: messages acknowledged after the restart", cycle), m,
			func() bool { return led.ackedCount() >= base+sessions/2 })
		delay := time.Duration(100+rng.IntN(1200)) * time.Millisecond
		time.Sleep(delay)
		m.kill(t)
		left := durLeftovers(t, m)
		t.Logf("cycle %d: killed after %v (%d acknowledged so far); left behind: %d Maildir tmp/ files, %d spool files to clean",
			cycle, delay, led.ackedCount(), len(left.maildir), len(left.spool))
		m.start(t)
		m.waitUp(t) // the banner comes after the start-up cleaning
		for _, f := range append(append([]string(nil), left.maildir...), left.spool...) {
			if _, err := os.Stat(f); !os.IsNotExist(err) {
				t.Errorf("cycle %d: leftover of the kill not cleaned at restart: %s (%v)", cycle, f, err)
			}
		}
		cleanedMaildir += len(left.maildir)
		cleanedSpool += len(left.spool)
	}
	time.Sleep(time.Duration(200+rng.IntN(500)) * time.Millisecond)
	stopFlood()

	durWaitFor(t, drain, "the queue to drain (relay deliveries to smtp-sink)", m, func() bool { return len(durQueued(t, m.spool)) == 0 })
	m.stop() // nothing in flight while the destinations are read
	// Drained and stopped: nothing may be left of any message, nor in
	// the Maildir's tmp/ (no session was cut by this stop).
	left := durLeftovers(t, m)
	if stray := append(left.maildir, durQueued(t, m.spool)...); len(stray) > 0 {
		t.Errorf("files left after the drain and a graceful stop: %v", stray)
	}
	if msgs, _ := filepath.Glob(filepath.Join(m.spool, "*.msg")); len(msgs) > 0 {
		t.Errorf("message files left in the spool after the drain: %v", msgs)
	}

	local, lerr := durScan(filepath.Join(m.maildir), true)
	relayed, rerr := durScan(filepath.Join(sink.state, "mail"), false)
	if lerr != nil || rerr != nil {
		t.Fatalf("reading the destinations: %v %v", lerr, rerr)
	}
	var lost []string
	dups := map[string]int{}
	for tok, kind := range led.acked {
		want, other := local, relayed
		if kind == durRelayDomain {
			want, other = relayed, local
		}
		switch n := want[tok]; {
		case n == 0:
			lost = append(lost, tok+" ("+kind+")")
		case n > 1:
			dups[kind] += n - 1
		}
		if other[tok] > 0 {
			t.Errorf("%s (%s) arrived at the wrong destination", tok, kind)
		}
	}
	doubtArrived := 0
	for tok := range led.doubt {
		if local[tok]+relayed[tok] > 0 {
			doubtArrived++
		}
	}
	known := func(tok string) bool { _, a := led.acked[tok]; _, d := led.doubt[tok]; return a || d }
	for _, got := range []map[string]int{local, relayed} {
		for tok := range got {
			if !known(tok) {
				t.Errorf("%s arrived but was never sent", tok)
			}
		}
	}
	nLocal, nRelay := led.kinds()
	t.Logf("acknowledged %d (%d local, %d relayed), lost %d, duplicates %d (%d local, %d relayed); "+
		"in doubt (cut before the reply) %d, of which arrived %d; cycles %d; leftovers cleaned at restart: %d Maildir tmp/, %d spool; %v",
		len(led.acked), nLocal, nRelay, len(lost), dups[durLocalDomain]+dups[durRelayDomain], dups[durLocalDomain], dups[durRelayDomain],
		len(led.doubt), doubtArrived, cycles, cleanedMaildir, cleanedSpool, time.Since(began).Round(time.Millisecond))
	if len(lost) > 0 {
		sort.Strings(lost)
		t.Errorf("%d acknowledged messages lost (seed %d):\n  %s\n%s", len(lost), seed, strings.Join(lost, "\n  "), m.logTail(60))
	}
	if nLocal == 0 || nRelay == 0 {
		t.Errorf("the flood did not get both kinds acknowledged: %d local, %d relayed", nLocal, nRelay)
	}
}

// durLedger is what the sessions were told: tokens acknowledged with
// 250 after the data, and tokens whose data was sent but whose reply
// never came (the kill cut it), each with its recipient domain.
type durLedger struct {
	mu    sync.Mutex
	acked map[string]string
	doubt map[string]string
}

func (l *durLedger) note(tok, kind string, acked bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if acked {
		l.acked[tok] = kind
	} else {
		l.doubt[tok] = kind
	}
}

func (l *durLedger) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

func (l *durLedger) kinds() (local, relay int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range l.acked {
		if k == durLocalDomain {
			local++
		} else {
			relay++
		}
	}
	return local, relay
}

// durSession sends messages, several per connection, until stop;
// when the MTA dies under it, it dials again until it is back.
func durSession(ctx context.Context, id int, addr string, led *durLedger, stop *atomic.Bool, seed uint64) {
	r := rand.New(rand.NewPCG(seed, uint64(id)+1))
	seq := 0
	for !stop.Load() {
		dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		c, err := smtp.Dial(dctx, addr)
		cancel()
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		c.LocalName, c.Timeout, c.DataTimeout = "flood.dur.test", 15*time.Second, 30*time.Second
		for n := 0; n < 20 && !stop.Load(); n++ {
			seq++
			tok := fmt.Sprintf("dur-%d-%d", id, seq)
			kind := durLocalDomain
			if (id+seq)%2 == 1 {
				kind = durRelayDomain
			}
			sent, err := durSend(ctx, c, tok, "u"+strconv.Itoa(id)+"@"+kind, r.IntN(200))
			switch {
			case err == nil:
				led.note(tok, kind, true)
			case sent:
				led.note(tok, kind, false)
			}
			if err != nil {
				break
			}
		}
		if c.Err() == nil {
			c.Quit(ctx)
		}
		c.Close()
	}
}

// durSend sends one message with pad lines of padding; sent reports
// that the data went out (so it may have been stored), err is nil only
// for a 250 to the end of the data.
func durSend(ctx context.Context, c *smtp.Client, tok, rcpt string, pad int) (sent bool, err error) {
	if _, err := c.Mail(ctx, durSender, nil); err != nil {
		return false, err
	}
	if _, err := c.Rcpt(ctx, rcpt, nil); err != nil {
		c.Reset(ctx)
		return false, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: <%s>\nTo: <%s>\nSubject: durability %s\nMessage-ID: <%s@dur.test>\nDate: %s\n\ndur-token: %s\n",
		durSender, rcpt, tok, tok, time.Now().Format(time.RFC1123Z), tok)
	for i := range pad {
		fmt.Fprintf(&b, "%05d %s\n", i, strings.Repeat("x", 70))
	}
	fmt.Fprintf(&b, "dur-end: %s\n", tok)
	resp, err := c.Data(ctx, strings.NewReader(b.String()))
	if err != nil {
		// A refused DATA (no response) sent nothing; anything else may
		// have been stored.
		return resp != nil || c.Err() != nil, err
	}
	if resp.Final.Code != smtp.ReplyOK {
		return true, fmt.Errorf("end of data: %d", resp.Final.Code)
	}
	return true, nil
}

// durMTA is the MTA binary run as a process of its own.
type durMTA struct {
	bin, addr, maildir, spool, conf, logPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func (m *durMTA) start(t *testing.T) {
	t.Helper()
	lf, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(lf, "=== start %s\n", time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(m.bin, "-config", m.conf)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		t.Fatalf("starting the MTA: %v", err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		lf.Close()
		close(done)
	}()
	m.mu.Lock()
	m.cmd, m.done = cmd, done
	m.mu.Unlock()
}

func (m *durMTA) running() (*exec.Cmd, chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cmd, m.done
}

// kill is kill -9: no shutdown, no flush, whatever was in flight stays.
func (m *durMTA) kill(t *testing.T) {
	t.Helper()
	cmd, done := m.running()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9: %v", err)
	}
	<-done
}

// stop ends the MTA gracefully (SIGTERM), then by force.
func (m *durMTA) stop() {
	cmd, done := m.running()
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
		cmd.Process.Kill()
		<-done
	}
}

// waitUp waits for the banner, which the server writes only after its
// start-up cleaning.
func (m *durMTA) waitUp(t *testing.T) {
	t.Helper()
	_, done := m.running()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-done:
			t.Fatalf("the MTA exited at start:\n%s", m.logTail(40))
		default:
		}
		if c, err := net.DialTimeout("tcp", m.addr, time.Second); err == nil {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "220") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 220 banner from the MTA on %s within 20s:\n%s", m.addr, m.logTail(40))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (m *durMTA) logTail(n int) string {
	b, _ := os.ReadFile(m.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "MTA log (last lines):\n" + strings.Join(lines, "\n")
}

// durLeftovers lists, while the MTA is dead, what its next start must
// remove: every file in a Maildir tmp/ (all of them ours, none
// committed), and the spool files that are not a whole message (a
// message without its envelope, an envelope without its message, a
// temporary envelope, a lock of a message without envelope).
type durLeft struct{ maildir, spool []string }

func durLeftovers(t *testing.T, m *durMTA) durLeft {
	t.Helper()
	var left durLeft
	tmps, _ := filepath.Glob(filepath.Join(m.maildir, "tmp", "*"))
	folders, _ := filepath.Glob(filepath.Join(m.maildir, ".*", "tmp", "*"))
	left.maildir = append(tmps, folders...)
	entries, err := os.ReadDir(m.spool)
	if err != nil {
		t.Fatalf("spool: %v", err)
	}
	have := map[string]bool{}
	for _, e := range entries {
		have[e.Name()] = true
	}
	for _, e := range entries {
		name := e.Name()
		var gone bool
		switch {
		case strings.HasSuffix(name, ".env.tmp"):
			gone = true
		case strings.HasSuffix(name, ".env"):
			gone = !have[strings.TrimSuffix(name, ".env")+".msg"]
		case strings.HasSuffix(name, ".msg"):
			gone = !have[strings.TrimSuffix(name, ".msg")+".env"]
		case strings.HasSuffix(name, ".lock"):
			gone = !have[strings.TrimSuffix(name, ".lock")+".env"]
		}
		if gone {
			left.spool = append(left.spool, filepath.Join(m.spool, name))
		}
	}
	return left
}

// durQueued lists the messages still in the queue (their envelopes).
func durQueued(t *testing.T, spool string) []string {
	t.Helper()
	envs, err := filepath.Glob(filepath.Join(spool, "*.env"))
	if err != nil {
		t.Fatal(err)
	}
	tmps, _ := filepath.Glob(filepath.Join(spool, "*.env.tmp"))
	return append(envs, tmps...)
}

var durTokenRE = regexp.MustCompile(`(?m)^dur-token: (\S+)$`)

// durScan counts the whole messages (their last line is there) per
// token in a Maildir (new/ and cur/ of the inbox and of every folder)
// or in the sink's dump directory.
func durScan(root string, maildir bool) (map[string]int, error) {
	var files []string
	if maildir {
		for _, pat := range []string{"new/*", "cur/*", ".*/new/*", ".*/cur/*"} {
			f, err := filepath.Glob(filepath.Join(root, pat))
			if err != nil {
				return nil, err
			}
			files = append(files, f...)
		}
	} else {
		entries, err := os.ReadDir(root)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.Type().IsRegular() {
				files = append(files, filepath.Join(root, e.Name()))
			}
		}
	}
	got := map[string]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		s := string(b)
		for _, sm := range durTokenRE.FindAllStringSubmatch(s, -1) {
			if strings.Contains(s, "\ndur-end: "+sm[1]+"\n") {
				got[sm[1]]++
			}
		}
	}
	return got, nil
}

// durSinkPeer is a private smtp-sink: its own state dir and port, so
// nothing else's mail is in its dumps.
type durSinkPeer struct {
	state string
	port  int
}

func durStartSink(t *testing.T) durSinkPeer {
	t.Helper()
	script := peertest.SharedScript("peer-smtp-sink.sh")
	if _, err := os.Stat(script); err != nil {
		peertest.Unavailable(t, "smtp-sink", "%v", err)
	}
	// smtp-sink drops to nobody, who must reach the dump directory:
	// not under t.TempDir(), whose parents are private.
	if err := os.MkdirAll("/tmp/peers", 0o755); err != nil {
		t.Fatal(err)
	}
	state, err := os.MkdirTemp("/tmp/peers", "smtp-sink-durability-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(state, 0o755)
	_, portS, _ := net.SplitHostPort(durFreeAddr(t))
	port, _ := strconv.Atoi(portS)
	env := []string{"SINK_STATE=" + state, "SINK_PORT=" + portS}
	t.Cleanup(func() {
		peertest.Run(script, env, "stop")
		os.RemoveAll(state)
	})
	if out, err := peertest.Run(script, env, "start"); err != nil {
		peertest.Unavailable(t, "smtp-sink", "%v", err)
	} else {
		t.Logf("%s", strings.TrimSpace(out))
	}
	if !peertest.Listening(net.JoinHostPort("127.0.0.1", portS)) {
		peertest.Unavailable(t, "smtp-sink", "not listening on port %s", portS)
	}
	return durSinkPeer{state: state, port: port}
}

// durBuild builds the MTA binary (without -race: only the test process
// needs it) from this package's directory.
func durBuild(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mta")
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("building the MTA: %v", err)
	}
	cmd := exec.Command(gobin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func durWriteConfig(t *testing.T, m *durMTA, nameserver string, sinkPort int) {
	t.Helper()
	conf := fmt.Sprintf(`listen = %q
hostname = "mx.dur.test"
domains = [%q]
maildir = %q
spool = %q
relay_from = "127.0.0.1"
nameserver = %q
smtp_port = %d
smtp_timeout = "10s"
retry_interval = "500ms"
dane_try = ""
max_sessions = -1
max_sessions_per_host = -1
shutdown_timeout = "2s"
log_level = "info"
`, m.addr, durLocalDomain, m.maildir, m.spool, nameserver, sinkPort)
	if err := os.WriteFile(m.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
}

// durListenAddr is the MTA's address for all its restarts: a port free
// now, below the kernel's ephemeral range, so that no outgoing
// connection takes it as its source port while the MTA is down.
func durListenAddr(t *testing.T) string {
	t.Helper()
	for range 100 {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(20000+rand.IntN(12000)))
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			return addr
		}
	}
	return durFreeAddr(t)
}

// durFreeAddr is a loopback address with a port free just now.
func durFreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func durWaitFor(t *testing.T, d time.Duration, what string, m *durMTA, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			left := durQueued(t, m.spool)
			if len(left) > 10 {
				left = left[:10]
			}
			t.Fatalf("timed out after %v waiting for %s; queue (first envelopes): %v\n%s", d, what, left, m.logTail(40))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func durEnvInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}
