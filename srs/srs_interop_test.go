//go:build interop

package srs

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/internal/peertest"
)

// Interop with postsrsd 1.10 (tcp_table on 127.0.0.1:10001/10002) and
// Mail::SRS 0.31 (srs-perl.sh, and the same settings in one batch perl
// process for speed). See ../shared/peers/README.md §3.

var (
	fwdAddr = "127.0.0.1:" + peertest.Env("SRS_FORWARD_PORT", "10001")
	revAddr = "127.0.0.1:" + peertest.Env("SRS_REVERSE_PORT", "10002")
)

func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	peertest.Unavailable(t, "SRS", format, args...)
}

// ensurePostsrsd starts postsrsd through peer-postsrsd.sh when it is not
// listening, and stops it on cleanup if it was started here.
func ensurePostsrsd(t testing.TB) {
	t.Helper()
	peertest.Ensure(t, "postsrsd", fwdAddr, peertest.SharedScript("peer-postsrsd.sh"))
}

// tcpEncode escapes an address for Postfix tcp_table: %XX for '%',
// space, controls and non-ASCII bytes.
func tcpEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == '%' || c >= 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func tcpDecode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// postsrsd does one tcp_table query; it returns the decoded address for
// "200", or "" and the reply otherwise.
func postsrsd(t testing.TB, hostport, addr string) (string, string) {
	c, err := net.DialTimeout("tcp", hostport, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "get %s\n", tcpEncode(addr))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("postsrsd %s %q: %v", hostport, addr, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if rest, ok := strings.CutPrefix(line, "200 "); ok {
		return tcpDecode(rest), line
	}
	return "", line
}

// perlBatch runs Mail::SRS with srs-perl.sh's settings over many
// "op\taddr" lines in one process; each answer is the result or ERROR.
func perlBatch(t testing.TB, secret, domain string, ops [][2]string) []string {
	const prog = `use Mail::SRS; $| = 1;
my $srs = Mail::SRS->new(Secret => $ENV{SRS_SECRET}, HashLength => 4, MaxAge => 49, AlwaysRewrite => 1);
while (my $l = <STDIN>) { chomp $l; my ($op, $a) = split /\t/, $l, 2;
  my $r = eval { $op eq "forward" ? $srs->forward($a, $ENV{SRS_DOMAIN}) : $srs->reverse($a) };
  print defined $r ? "$r\n" : "ERROR\n"; }`
	var in strings.Builder
	for _, o := range ops {
		in.WriteString(o[0] + "\t" + o[1] + "\n")
	}
	cmd := exec.Command("perl", "-e", prog)
	cmd.Env = append(os.Environ(), "SRS_SECRET="+secret, "SRS_DOMAIN="+domain)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("perl Mail::SRS: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(ops) {
		t.Fatalf("perl: %d answers for %d questions", len(lines), len(ops))
	}
	return lines
}

func ensurePerl(t testing.TB) {
	if exec.Command("perl", "-MMail::SRS", "-e1").Run() == nil {
		return
	}
	// srs-perl.sh installs libmail-srs-perl when it is missing.
	script := peertest.SharedScript("srs-perl.sh")
	exec.Command(script, "forward", "a@b.example").Run()
	if err := exec.Command("perl", "-MMail::SRS", "-e1").Run(); err != nil {
		skipOrFail(t, "Mail::SRS not installed: %v", err)
	}
}

// interopAddrs generates the test senders: odd local parts, quoted,
// plus-addressing, IDN (UTF-8 and A-label), upper case.
func interopAddrs() []string {
	locals := []string{
		"alice", "Bob.Smith", "user+tag", "UPPER.CASE", "o'brien", "a=b=c",
		"x-y_z", `"john doe"`, `"a@b"`, "user%relay", "ümlaut", "1234",
		"first.last+folder", "{curly}|pipe", "tilde~hash#", "MiXeD+TaG",
	}
	domains := []string{
		"example.com", "Example.ORG", "bücher.example", "xn--bcher-kva.example",
		"sub.domain.example", "MAIL.EXAMPLE.NET", "a.b.c.d.example", "例え.jp",
	}
	var out []string
	for i, l := range locals {
		for j, d := range domains {
			out = append(out, l+"@"+d)
			if (i+j)%3 == 0 {
				out = append(out, fmt.Sprintf("%s%d@%s", l, i*10+j, d))
			}
		}
	}
	return out
}

func TestInteropPostsrsdAndMailSRS(t *testing.T) {
	ensurePostsrsd(t)
	ensurePerl(t)
	secret := peertest.Env("SRS_SECRET", "peers-test-secret")
	domain := peertest.Env("SRS_DOMAIN", "srs.test")
	r, err := New(Config{Domain: domain, Secrets: []string{secret}})
	if err != nil {
		t.Fatal(err)
	}
	addrs := interopAddrs()
	// Second-hop inputs: SRS0 addresses made by another forwarder.
	hop1, _ := New(Config{Domain: "hop1.example", Secrets: []string{"other"}})
	for _, a := range addrs[:60] {
		s, err := hop1.Forward(a)
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, s)
	}
	if len(addrs) < 200 {
		t.Fatalf("only %d addresses", len(addrs))
	}
	day := Timestamp(time.Now())

	ours := make([]string, len(addrs))
	var ops [][2]string
	for i, a := range addrs {
		if ours[i], err = r.Forward(a); err != nil {
			t.Fatalf("Forward(%q): %v", a, err)
		}
		ops = append(ops, [2]string{"forward", a}, [2]string{"reverse", ours[i]})
	}
	perl := perlBatch(t, secret, domain, ops)
	if Timestamp(time.Now()) != day {
		t.Skip("the day changed during the run; stamps differ")
	}

	var mismatches int
	report := func(format string, args ...any) {
		mismatches++
		if mismatches <= 40 {
			t.Errorf(format, args...)
		}
	}
	atInLocal := 0
	for i, a := range addrs {
		if l, _, _ := splitAddr(a); strings.Contains(l, "@") {
			// Known difference: postsrsd 1.10 splits at the first "@"
			// (it produces "SRS0=…=b\"@example.com=\"a@srs.test" for
			// "a@b"@example.com) and Mail::SRS refuses the address. We
			// split at the last "@", the only correct place, and check
			// only our own round trip.
			atInLocal++
			if got, err := r.Reverse(ours[i]); err != nil || got != a {
				report("our round trip of %q: %q, %v", a, got, err)
			}
			continue
		}
		// Forward: ours == postsrsd == Mail::SRS.
		ps, line := postsrsd(t, fwdAddr, a)
		if ps != ours[i] {
			report("forward %q: ours %q, postsrsd %q", a, ours[i], line)
		}
		if pl := perl[2*i]; pl != ours[i] {
			report("forward %q: ours %q, Mail::SRS %q", a, ours[i], pl)
		}
		// They reverse ours.
		want := a
		if IsSRS(a) {
			// SRS1 reverses to the first hop's SRS0 with an upper-case tag.
			want = "SRS0" + a[4:]
		}
		if back, line := postsrsd(t, revAddr, ours[i]); back != want {
			report("postsrsd reverse of our %q = %q, want %q", ours[i], line, want)
		}
		if pl := perl[2*i+1]; pl != want {
			report("Mail::SRS reverse of our %q = %q, want %q", ours[i], pl, want)
		}
		// We reverse theirs.
		if ps != "" {
			if got, err := r.Reverse(ps); err != nil || got != want {
				report("our Reverse of postsrsd %q = %q, %v; want %q", ps, got, err, want)
			}
		}
		if pl := perl[2*i]; pl != "ERROR" {
			if got, err := r.Reverse(pl); err != nil || got != want {
				report("our Reverse of Mail::SRS %q = %q, %v; want %q", pl, got, err, want)
			}
		}
	}
	// Forgeries and stale stamps are refused by all three.
	stale, _ := New(Config{Domain: domain, Secrets: []string{secret}, Now: func() time.Time { return time.Now().AddDate(0, 0, -60) }})
	for _, a := range addrs[:20] {
		s, _ := stale.Forward(a)
		if IsSRS(a) {
			continue
		}
		if _, err := r.Reverse(s); err == nil {
			report("we accepted stale %q", s)
		}
		if got, line := postsrsd(t, revAddr, s); got != "" {
			report("postsrsd accepted stale %q: %s", s, line)
		}
		bad := "SRS0=AAAA" + s[9:]
		if _, err := r.Reverse(bad); err == nil {
			report("we accepted forged %q", bad)
		}
		if got, line := postsrsd(t, revAddr, bad); got != "" {
			report("postsrsd accepted forged %q: %s", bad, line)
		}
	}
	// A few through srs-perl.sh itself, to check the batch settings.
	script := peertest.SharedScript("srs-perl.sh")
	for i := 0; i < 5; i++ {
		out, err := exec.Command(script, "forward", addrs[i]).Output()
		if err != nil || strings.TrimSpace(string(out)) != ours[i] {
			report("srs-perl.sh forward %q = %q, %v; ours %q", addrs[i], out, err, ours[i])
		}
	}
	if mismatches > 0 {
		t.Fatalf("%d mismatches over %d addresses", mismatches, len(addrs))
	}
	t.Logf("%d addresses: forward identical to postsrsd and Mail::SRS, each side reverses the others' (%d with \"@\" in a quoted local part: own round trip only)", len(addrs)-atInLocal, atInLocal)
}

// BenchmarkPostsrsdRoundTrip measures one tcp_table forward query to
// postsrsd on loopback (new connection per query, as postsrsd 1.x serves
// one request per connection), for comparison with BenchmarkForward.
func BenchmarkPostsrsdRoundTrip(b *testing.B) {
	ensurePostsrsd(b)
	for i := 0; i < b.N; i++ {
		if got, line := postsrsd(b, fwdAddr, "alice@example.com"); got == "" {
			b.Fatal(line)
		}
	}
}
