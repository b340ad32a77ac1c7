//go:build interop

package bmi

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/internal/peertest"
)

// Interop with the real spamd (SpamAssassin 4.0) of scripts/peer-spamd.sh
// on 127.0.0.1:$SPAMD_PORT (7830), profiles "strict" (required_score 1),
// "lenient" (15) and none (5), and with the real spamc against it.

func spamdPeerAddr() string { return "127.0.0.1:" + peertest.Env("SPAMD_PORT", "7830") }

func spamdSkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	peertest.Unavailable(t, "spamd", format, args...)
}

// ensureSpamd starts spamd through scripts/peer-spamd.sh when nothing
// listens on the peer address, and stops it on cleanup if it was
// started here.
func ensureSpamd(t testing.TB) string {
	t.Helper()
	addr := spamdPeerAddr()
	peertest.Ensure(t, "spamd", addr, peertest.RepoScript("peer-spamd.sh"))
	return addr
}

// spamdEML loads a test message and splits it into header and body.
func spamdEML(t testing.TB, name string) (raw []byte, m *Message) {
	raw = spamdTestdata(t, name)
	h, b, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("%s: no header end", name)
	}
	return raw, &Message{Sender: "sender@example.org", Header: append(h, "\r\n"...), Body: b}
}

func TestSpamdInteropScan(t *testing.T) {
	addr := ensureSpamd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rules := map[string]int{"GTUBE": 1, "MAILPOLICY_MARKER": 2}
	rcpts := []Recipient{
		{Address: "strict@example.com", OptIn: []string{"strict"}},
		{Address: "lenient@example.com", OptIn: []string{"lenient"}},
		{Address: "plain@example.com"},
		{Address: "strict2@example.com", OptIn: []string{"strict", "x"}},
	}
	type dest struct{ strict, lenient, plain Destination }
	cases := []struct {
		file  string
		want  dest
		rules []int
	}{
		{"gtube.eml", dest{Alternate, Alternate, Alternate}, []int{1}},
		{"clean.eml", dest{Default, Default, Default}, nil},
		{"marker.eml", dest{Alternate, Default, Default}, []int{2}}, // 3 points: 1 < 3 < 5 < 15
	}
	for _, cmd := range []SpamdCommand{SpamdSymbols, SpamdReport, SpamdCheck} {
		s := &Spamd{Addr: addr, Command: cmd, Rules: rules}
		for _, c := range cases {
			_, m := spamdEML(t, c.file)
			m.Recipients = rcpts
			vs, err := s.Scan(ctx, m)
			if err != nil {
				t.Fatalf("%v %s: %v", cmd, c.file, err)
			}
			if len(vs) != 3 {
				t.Fatalf("%v %s: %d verdicts, want 3 (one per profile): %+v", cmd, c.file, len(vs), vs)
			}
			wantRules := c.rules
			if cmd == SpamdCheck {
				wantRules = nil
			}
			want := map[string]Destination{"strict@example.com": c.want.strict, "lenient@example.com": c.want.lenient,
				"plain@example.com": c.want.plain, "strict2@example.com": c.want.strict}
			for _, v := range vs {
				if v.Err != "" {
					t.Errorf("%v %s: %+v", cmd, c.file, v)
				}
				if err := v.Validate(); err != nil {
					t.Error(err)
				}
				if !reflect.DeepEqual(v.Rules, wantRules) {
					t.Errorf("%v %s %v: rules %v, want %v", cmd, c.file, v.Recipients, v.Rules, wantRules)
				}
				for _, r := range v.Recipients {
					if v.Destination != want[r] {
						t.Errorf("%v %s %s: %v, want %v", cmd, c.file, r, v.Destination, want[r])
					}
				}
			}
			if !slices.Equal(vs[0].Recipients, []string{"strict@example.com", "strict2@example.com"}) {
				t.Errorf("grouping: %+v", vs)
			}
		}
	}
	// NoneScore/AltScore on real scores.
	_, m := spamdEML(t, "gtube.eml")
	m.Recipients = rcpts[2:3]
	vs, err := (&Spamd{Addr: addr, NoneScore: 500}).Scan(ctx, m)
	if err != nil || vs[0].Destination != None {
		t.Errorf("NoneScore: %+v %v", vs, err)
	}
	// A message over MaxSize is not sent.
	vs, err = (&Spamd{Addr: addr, MaxSize: 100}).Scan(ctx, m)
	if err != nil || vs[0].Err != "message too large for spamd" {
		t.Errorf("MaxSize: %+v %v", vs, err)
	}
}

func TestSpamdInteropPing(t *testing.T) {
	addr := ensureSpamd(t)
	if err := (&Spamd{Addr: addr}).Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// spamc runs the real spamc against the peer and returns its output.
func spamc(t testing.TB, addr string, msg []byte, args ...string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("spamc", append([]string{"-d", host, "-p", port, "-t", "60"}, args...)...)
	cmd.Stdin = bytes.NewReader(msg)
	out, err := cmd.Output()
	// -c and -R exit 1 for spam; anything else is a failure.
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
		t.Fatalf("spamc %v: %v", args, err)
	}
	return string(out)
}

// TestSpamdInteropSpamc compares Request with the real spamc: the same
// score and threshold as "spamc -c", the same symbols as "spamc -y",
// the same report as "spamc -R".
func TestSpamdInteropSpamc(t *testing.T) {
	addr := ensureSpamd(t)
	if _, err := exec.LookPath("spamc"); err != nil {
		spamdSkipOrFail(t, "spamc: %v", err)
	}
	ctx := context.Background()
	for _, file := range []string{"gtube.eml", "clean.eml", "marker.eml"} {
		raw, _ := spamdEML(t, file)
		for _, user := range []string{"", "strict", "lenient"} {
			var uargs []string
			if user != "" {
				uargs = []string{"-u", user}
			}
			sym, err := (&Spamd{Addr: addr}).Request(ctx, user, raw)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := (&Spamd{Addr: addr, Command: SpamdReport}).Request(ctx, user, raw)
			if err != nil {
				t.Fatal(err)
			}
			chk, err := (&Spamd{Addr: addr, Command: SpamdCheck}).Request(ctx, user, raw)
			if err != nil {
				t.Fatal(err)
			}
			name := file + "/" + user

			// spamc -c: "score/threshold".
			sc, th, ok := strings.Cut(strings.TrimSpace(spamc(t, addr, raw, append(uargs, "-c")...)), "/")
			score, err1 := strconv.ParseFloat(sc, 64)
			thr, err2 := strconv.ParseFloat(th, 64)
			if !ok || err1 != nil || err2 != nil {
				t.Fatalf("%s: spamc -c output %q/%q", name, sc, th)
			}
			for _, r := range []*SpamdResult{sym, rep, chk} {
				if r.Score != score || r.Threshold != thr || r.Spam != (score >= thr) {
					t.Errorf("%s: %+v, spamc -c %v/%v", name, r, score, thr)
				}
			}
			// spamc -y: comma-separated symbols.
			ys := strings.Split(strings.TrimSpace(spamc(t, addr, raw, append(uargs, "-y")...)), ",")
			if !slices.Equal(sym.Symbols, ys) {
				t.Errorf("%s: symbols %v, spamc -y %v", name, sym.Symbols, ys)
			}
			// REPORT symbols are the same set.
			if a, b := slices.Sorted(slices.Values(rep.Symbols)), slices.Sorted(slices.Values(ys)); !slices.Equal(a, b) {
				t.Errorf("%s: report symbols %v, spamc -y %v", name, a, b)
			}
			// spamc -R: the report, after a "score/threshold" line.
			r := spamc(t, addr, raw, append(uargs, "-R")...)
			_, report, _ := strings.Cut(r, "\n")
			if report != rep.Report {
				t.Errorf("%s: report differs from spamc -R\nours:  %q\nspamc: %q", name, rep.Report, report)
			}
			t.Logf("%s: %v/%v %v", name, sym.Score, sym.Threshold, sym.Symbols)
		}
	}
}
