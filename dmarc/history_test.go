package dmarc_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/spf"

	"github.com/mailpolicy/mailpolicy/dkim"
)

// sampleEntry is a representative message: SPF pass for a non-aligned
// bounce domain, an aligned DKIM pass and three other signatures, a
// record with every tag the file records.
func sampleEntry() *dmarc.HistoryEntry {
	in := &dmarc.Input{
		HeaderFrom: []string{"Alice <alice@example.com>"},
		MailFrom:   "bounce+123@bounce.example.net",
		ClientIP:   netip.MustParseAddr("192.0.2.10"),
		SPF:        spf.Pass,
		SPFDomain:  "bounce.example.net",
		DKIM: []dkim.Result{
			{Domain: "example.com", Selector: "sel1", Status: dkim.StatusPass},
			{Domain: "other.example", Selector: "s2", Status: dkim.StatusFail, Reason: "bodyhash_mismatch"},
			{Domain: "broken.example", Selector: "s3", Status: dkim.StatusInvalid, Reason: "pubkey_unavailable"},
			{Domain: "weird.example", Selector: "s4", Status: dkim.StatusInvalid, Reason: "signature_tag_missing_or_invalid"},
		},
	}
	o := &dmarc.Outcome{
		Status:      dmarc.StatusAccept,
		UsedDomain:  "example.com",
		FromDomain:  "example.com",
		AlignedDKIM: true,
		Record: &dmarc.Record{
			Policy: dmarc.PolicyReject, SubdomainPolicy: dmarc.PolicyQuarantine,
			ADKIM: dmarc.Relaxed, ASPF: dmarc.Strict, Percent: 50,
			RUA: []dmarc.URI{
				{Address: "mailto:dmarc@example.com"},
				{Address: "mailto:agg@thirdparty.example", MaxSize: 10, Unit: 'm'},
			},
		},
	}
	return dmarc.NewHistoryEntry(in, o, "1tXyZa-000123-AB", "mx.example.org", time.Unix(1700000000, 0))
}

// The block of spec §2.8, written out by hand.
const sampleBlock = `job 1tXyZa-000123-AB
reporter mx.example.org
received 1700000000
ipaddr 192.0.2.10
from example.com
mfrom bounce.example.net
spf 0
dkim example.com sel1 0
dkim other.example s2 7
dkim broken.example s3 5
dkim weird.example s4 11
pdomain example.com
policy 15
rua mailto:dmarc@example.com
rua mailto:agg@thirdparty.example!10m
pct 50
adkim 114
aspf 115
p 114
sp 113
align_dkim 4
align_spf 5
action 2
`

func TestHistoryGoldenBlock(t *testing.T) {
	got := string(sampleEntry().AppendTo(nil))
	if got != sampleBlock {
		t.Errorf("block:\n%s\nwant:\n%s", got, sampleBlock)
	}
}

func TestHistoryNoRUAOmittedSPF(t *testing.T) {
	e := dmarc.HistoryEntry{
		Job: "j", Reporter: "r", Received: time.Unix(5, 0), From: "f.example",
		SPF: -1, PolicyDomain: "f.example", Policy: dmarc.HistoryPolicyNone,
		Pct: 100, ADKIM: 'r', ASPF: 'r', P: 'n', AlignDKIM: 5, AlignSPF: 5, Action: 2,
	}
	want := "job j\nreporter r\nreceived 5\nipaddr \nfrom f.example\nmfrom \n" +
		"pdomain f.example\npolicy 18\nrua -\npct 100\nadkim 114\naspf 114\np 110\nsp 0\n" +
		"align_dkim 5\nalign_spf 5\naction 2\n"
	if got := string(e.AppendTo(nil)); got != want {
		t.Errorf("block:\n%s\nwant:\n%s", got, want)
	}
	back, err := dmarc.ParseHistory(strings.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	e.Received = e.Received.UTC()
	if len(back) != 1 || !reflect.DeepEqual(back[0], e) {
		t.Errorf("parsed %+v\nwant %+v", back, e)
	}
}

func TestHistorySPFCodes(t *testing.T) {
	for r, want := range map[spf.Result]int{
		spf.Pass: 0, spf.Fail: 7, spf.SoftFail: 2, spf.Neutral: 3, spf.None: 6,
		spf.TempError: 4, spf.PermError: 5, spf.Invalid: 11, spf.Result(99): 11,
	} {
		e := dmarc.NewHistoryEntry(&dmarc.Input{SPF: r}, &dmarc.Outcome{}, "j", "h", time.Unix(0, 0))
		if e.SPF != want {
			t.Errorf("%v: spf %d, want %d", r, e.SPF, want)
		}
	}
}

func TestHistoryDKIMCodes(t *testing.T) {
	for _, c := range []struct {
		status dkim.Status
		reason dkim.Reason
		want   int
	}{
		{dkim.StatusPass, "", 0},
		{dkim.StatusFail, "bodyhash_mismatch", 7},
		{dkim.StatusFail, "pubkey_too_short", 7},
		{dkim.StatusNone, "", 6},
		{dkim.StatusInvalid, "pubkey_unavailable", 5},
		{dkim.StatusInvalid, "pubkey_dns_syntax", 5},
		{dkim.StatusInvalid, "pubkey_der_syntax", 5},
		{dkim.StatusInvalid, "signature_tag_missing_or_invalid", 11},
		{dkim.StatusInvalid, "unsupported_dkim_version", 11},
		{dkim.StatusInvalid, "signature_expired", 11},
		{dkim.StatusInvalid, "", 11},
		{dkim.StatusInvalid, "signature_syntax", 11},
		{dkim.Status(99), "", 11},
	} {
		in := &dmarc.Input{DKIM: []dkim.Result{{Domain: "d", Selector: "s", Status: c.status, Reason: c.reason}}}
		e := dmarc.NewHistoryEntry(in, &dmarc.Outcome{}, "j", "h", time.Unix(0, 0))
		if e.DKIM[0].Result != c.want {
			t.Errorf("%s/%s: %d, want %d", c.status, c.reason, e.DKIM[0].Result, c.want)
		}
	}
}

func TestHistoryStatusCodes(t *testing.T) {
	for _, c := range []struct {
		s              dmarc.Status
		policy, action int
	}{
		{dmarc.StatusAccept, 15, 2},
		{dmarc.StatusReject, 16, 0},
		{dmarc.StatusQuarantine, 17, 4},
		{dmarc.StatusNone, 18, 2},
		{dmarc.StatusNoRecord, 14, 2},
		{dmarc.StatusNoFrom, 14, 2},
		{dmarc.StatusTempError, 14, 3},
	} {
		e := dmarc.NewHistoryEntry(&dmarc.Input{}, &dmarc.Outcome{Status: c.s}, "j", "h", time.Unix(0, 0))
		if e.Policy != c.policy || e.Action != c.action {
			t.Errorf("%s: policy %d action %d, want %d %d", c.s, e.Policy, e.Action, c.policy, c.action)
		}
		// No record: tags 0, no rua, alignment fail.
		if e.P != 0 || e.SP != 0 || e.ADKIM != 0 || e.ASPF != 0 || e.RUA != nil || e.AlignDKIM != 5 || e.AlignSPF != 5 {
			t.Errorf("%s: record fields %+v", c.s, e)
		}
	}
}

func TestHistoryMailFromDomain(t *testing.T) {
	for from, want := range map[string]string{
		"": "", "user@example.com": "example.com", "a@b@c.example": "c.example", "postmaster": "",
	} {
		e := dmarc.NewHistoryEntry(&dmarc.Input{MailFrom: from}, &dmarc.Outcome{}, "j", "h", time.Unix(0, 0))
		if e.MailFrom != want {
			t.Errorf("%q: mfrom %q, want %q", from, e.MailFrom, want)
		}
	}
}

func TestHistoryIPv4Mapped(t *testing.T) {
	in := &dmarc.Input{ClientIP: netip.MustParseAddr("::ffff:192.0.2.7")}
	e := dmarc.NewHistoryEntry(in, &dmarc.Outcome{}, "j", "h", time.Unix(0, 0))
	if !strings.Contains(string(e.AppendTo(nil)), "\nipaddr 192.0.2.7\n") {
		t.Errorf("block:\n%s", e.AppendTo(nil))
	}
}

// Remote-controlled values cannot add lines or keys to the file.
func TestHistoryInjection(t *testing.T) {
	e := sampleEntry()
	e.From = "evil.example\nreporter injected"
	e.MailFrom = "x.example\r\njob forged"
	e.DKIM = []dmarc.HistoryDKIM{{Domain: "d.example\r\nrua mailto:x@y", Selector: "a b", Result: 0}}
	e.RUA = []string{"mailto:a@b.example\njob forged2", "mailto:c@d.example\x00\x7f"}
	got := string(e.AppendTo(nil))
	want := `job 1tXyZa-000123-AB
reporter mx.example.org
received 1700000000
ipaddr 192.0.2.10
from evil.example?reporter injected
mfrom x.example??job forged
spf 0
dkim d.example??rua?mailto:x@y a?b 0
pdomain example.com
policy 15
rua mailto:a@b.example?job forged2
rua mailto:c@d.example??
pct 50
adkim 114
aspf 115
p 114
sp 113
align_dkim 4
align_spf 5
action 2
`
	if got != want {
		t.Fatalf("block:\n%s\nwant:\n%s", got, want)
	}
	back, err := dmarc.ParseHistory(strings.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 1 || back[0].Reporter != "mx.example.org" || len(back[0].DKIM) != 1 ||
		back[0].DKIM[0].Selector != "a?b" || len(back[0].RUA) != 2 {
		t.Errorf("parsed %+v", back)
	}
}

func TestHistoryAppendParseRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history")
	h, err := dmarc.OpenHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	a := sampleEntry()
	b := &dmarc.HistoryEntry{
		Job: "second", Reporter: "mx", Received: time.Unix(1700000100, 0), IPAddr: netip.MustParseAddr("2001:db8::25"),
		From: "example.org", SPF: -1, PolicyDomain: "example.org", Policy: 17, Pct: 100,
		ADKIM: 's', ASPF: 'r', P: 'q', AlignDKIM: 5, AlignSPF: 5, Action: 4,
		DKIM: []dmarc.HistoryDKIM{{Domain: "example.org", Selector: "", Result: 7}},
	}
	for _, e := range []*dmarc.HistoryEntry{a, b} {
		if err := h.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Append(a); !errors.Is(err, os.ErrClosed) {
		t.Errorf("append after close: %v", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&^0o640 != 0 {
		t.Errorf("mode %v, want at most 0640", st.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), sampleBlock) {
		t.Errorf("file does not start with the golden block:\n%s", data)
	}
	got, err := dmarc.ParseHistory(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	a.Received, b.Received = a.Received.UTC(), b.Received.UTC()
	if want := []dmarc.HistoryEntry{*a, *b}; !reflect.DeepEqual(got, want) {
		t.Errorf("parsed:\n%+v\nwant:\n%+v", got, want)
	}
}

func TestParseHistoryTolerant(t *testing.T) {
	// An ARC-aware Exim adds arc lines; OpenDMARC without selector support
	// writes two-field dkim lines; files may have CRLF and blank lines.
	in := "job a\r\nreporter h\r\nreceived 10\r\nipaddr 10.0.0.1\r\nfrom x.example\r\nmfrom\r\n" +
		"spf 7\r\ndkim x.example 0\r\npdomain x.example\r\npolicy 16\r\nrua mailto:r@x.example\r\npct 100\r\n" +
		"adkim 114\r\naspf 114\r\np 114\r\nsp 0\r\nalign_dkim 4\r\nalign_spf 5\r\naction 0\r\n" +
		"arc 11\r\narc_policy 1 json[ ]\r\n\r\njob b\r\n"
	got, err := dmarc.ParseHistory(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []dmarc.HistoryEntry{{
		Job: "a", Reporter: "h", Received: time.Unix(10, 0).UTC(), IPAddr: netip.MustParseAddr("10.0.0.1"),
		From: "x.example", SPF: 7, DKIM: []dmarc.HistoryDKIM{{Domain: "x.example", Result: 0}},
		PolicyDomain: "x.example", Policy: 16, RUA: []string{"mailto:r@x.example"}, Pct: 100,
		ADKIM: 114, ASPF: 114, P: 114, AlignDKIM: 4, AlignSPF: 5, Action: 0,
	}, {Job: "b", SPF: -1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parsed:\n%+v\nwant:\n%+v", got, want)
	}
}

func TestParseHistoryErrors(t *testing.T) {
	for _, c := range []struct{ in, msg string }{
		{"reporter x\n", "line 1"},
		{"job a\nspf x\n", `line 2 "spf x": invalid spf: "x" is not a number`},
		{"job a\nspf -1\n", "line 2"},
		{"job a\n\nreceived 12a\n", `line 3 "received 12a": invalid received time`},
		{"job a\nipaddr 300.1.1.1\n", "line 2"},
		{"job a\ndkim d s\n", `line 2 "dkim d s": invalid dkim result`},
		{"job a\ndkim onlyone\n", "line 2"},
		{"job a\ndkim a b c 0\n", "line 2"},
		{"job a\npct 1\npct 2\n", `line 3 "pct 2": repeated key "pct"`},
		{"job a\naction\n", "line 2"},
		{"job a\nalign_spf 99999999999\n", "line 2"},
	} {
		_, err := dmarc.ParseHistory(strings.NewReader(c.in))
		var he *dmarc.HistoryError
		if !errors.As(err, &he) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: error %v, want one containing %q", c.in, err, c.msg)
		}
	}
}

func concurrentEntry(worker, i int) *dmarc.HistoryEntry {
	e := sampleEntry()
	e.Job = fmt.Sprintf("w%d-%d", worker, i)
	e.Received = time.Unix(int64(1700000000+i), 0).UTC()
	// Make blocks of a few KiB so writes are large.
	for k := 0; k < 20; k++ {
		e.DKIM = append(e.DKIM, dmarc.HistoryDKIM{
			Domain: strings.Repeat("d", 60) + strconv.Itoa(worker) + ".example", Selector: "s" + strconv.Itoa(k), Result: k % 12,
		})
	}
	return e
}

// checkBlocks parses the file and checks that it holds exactly the
// blocks of the workers, each whole.
func checkBlocks(t *testing.T, path string, workers map[int]int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := dmarc.ParseHistory(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range workers {
		total += n
	}
	if len(got) != total {
		t.Fatalf("%d blocks, want %d", len(got), total)
	}
	seen := map[string]bool{}
	for _, e := range got {
		var w, i int
		if _, err := fmt.Sscanf(e.Job, "w%d-%d", &w, &i); err != nil {
			t.Fatalf("bad job %q", e.Job)
		}
		if seen[e.Job] {
			t.Fatalf("job %q twice", e.Job)
		}
		seen[e.Job] = true
		if want := concurrentEntry(w, i); !reflect.DeepEqual(e, *want) {
			t.Fatalf("block %s torn or altered:\n%+v\nwant\n%+v", e.Job, e, *want)
		}
	}
	for w, n := range workers {
		for i := 0; i < n; i++ {
			if !seen[fmt.Sprintf("w%d-%d", w, i)] {
				t.Fatalf("block w%d-%d missing", w, i)
			}
		}
	}
}

// 50 goroutines × 40 appends through one History, while 10 more
// goroutines append through a second History on the same path.
func TestHistoryConcurrentAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history")
	h1, err := dmarc.OpenHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := dmarc.OpenHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	const perWorker = 40
	workers := map[int]int{}
	var wg sync.WaitGroup
	for w := 0; w < 60; w++ {
		h := h1
		if w >= 50 {
			h = h2
		}
		workers[w] = perWorker
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				if err := h.Append(concurrentEntry(w, i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	h1.Close()
	h2.Close()
	checkBlocks(t, path, workers)
}

// Several processes append to the same file (each its own descriptor),
// as Exim delivery processes do.
func TestHistoryConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := filepath.Join(t.TempDir(), "history")
	const procs, perProc = 4, 200
	workers := map[int]int{}
	var cmds []*exec.Cmd
	for p := 0; p < procs; p++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHistoryHelperProcess$")
		cmd.Env = append(os.Environ(), "DMARC_HISTORY_HELPER="+path, fmt.Sprintf("DMARC_HISTORY_WORKER=%d", 100+p),
			fmt.Sprintf("DMARC_HISTORY_COUNT=%d", perProc))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		workers[100+p] = perProc
	}
	// The parent appends too.
	h, err := dmarc.OpenHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < perProc; i++ {
		if err := h.Append(concurrentEntry(1, i)); err != nil {
			t.Fatal(err)
		}
	}
	h.Close()
	workers[1] = perProc
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("helper: %v\n%s", err, c.Stdout)
		}
	}
	checkBlocks(t, path, workers)
}

// TestHistoryHelperProcess is the child of TestHistoryConcurrentProcesses.
func TestHistoryHelperProcess(t *testing.T) {
	path := os.Getenv("DMARC_HISTORY_HELPER")
	if path == "" {
		t.Skip("helper process only")
	}
	w, _ := strconv.Atoi(os.Getenv("DMARC_HISTORY_WORKER"))
	n, _ := strconv.Atoi(os.Getenv("DMARC_HISTORY_COUNT"))
	h, err := dmarc.OpenHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for i := 0; i < n; i++ {
		if err := h.Append(concurrentEntry(w, i)); err != nil {
			t.Fatal(err)
		}
	}
}

// sanitized is what AppendTo makes of parsed values: control characters
// become '?'.
func sanitized(e dmarc.HistoryEntry) dmarc.HistoryEntry {
	s := func(v string) string {
		b := []byte(v)
		for i, c := range b {
			if c < 0x20 || c == 0x7f {
				b[i] = '?'
			}
		}
		return string(b)
	}
	e.Job, e.Reporter, e.From, e.MailFrom, e.PolicyDomain = s(e.Job), s(e.Reporter), s(e.From), s(e.MailFrom), s(e.PolicyDomain)
	if e.IPAddr.IsValid() {
		e.IPAddr = netip.MustParseAddr(s(e.IPAddr.String()))
	}
	e.DKIM = append([]dmarc.HistoryDKIM(nil), e.DKIM...)
	for i := range e.DKIM {
		e.DKIM[i].Domain, e.DKIM[i].Selector = s(e.DKIM[i].Domain), s(e.DKIM[i].Selector)
	}
	e.RUA = append([]string(nil), e.RUA...)
	for i := range e.RUA {
		e.RUA[i] = s(e.RUA[i])
	}
	if len(e.RUA) == 0 {
		e.RUA = nil
	}
	if len(e.DKIM) == 0 {
		e.DKIM = nil
	}
	return e
}

func FuzzParseHistory(f *testing.F) {
	f.Add(sampleBlock)
	f.Add("job a\r\nspf 7\r\ndkim x 0\r\narc 11\r\njob b\n")
	f.Add("job x\nipaddr fe80::1%eth0\nreceived -5\nrua -\nrua \n")
	f.Add("job \x01\ndkim  \x02 3\n")
	f.Fuzz(func(t *testing.T, s string) {
		entries, err := dmarc.ParseHistory(strings.NewReader(s))
		if err != nil {
			return
		}
		var b []byte
		for i := range entries {
			b = entries[i].AppendTo(b)
		}
		back, err := dmarc.ParseHistory(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("re-parse of\n%q\nfailed: %v", b, err)
		}
		if len(back) != len(entries) {
			t.Fatalf("%d entries, re-parsed %d", len(entries), len(back))
		}
		for i := range entries {
			want := sanitized(entries[i])
			got := back[i]
			if len(got.RUA) == 0 {
				got.RUA = nil
			}
			if len(got.DKIM) == 0 {
				got.DKIM = nil
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("entry %d changed:\n%+v\nwant\n%+v\n(text %q)", i, got, want, b)
			}
		}
	})
}
