package metrics

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

var labelShape = regexp.MustCompile(`^[a-z0-9_.-]{1,32}$`)

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "none",
		"spf":                   "spf",
		"SCRAM-SHA-256":         "scram-sha-256",
		"a b\"c\n":              "a_b_c_",
		"héllo":                 "h_llo",
		"{x=\"y\"}":             "_x__y__",
		strings.Repeat("a", 40): strings.Repeat("a", 32),
		"ÄÄÄ":                   "___",
	} {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCappedLabelAdmitsUpToCapThenOther(t *testing.T) {
	l := capped(3)
	for _, v := range []string{"a", "b", "c"} {
		if got := l.value(v); got != v {
			t.Errorf("value(%q) = %q before the cap", v, got)
		}
	}
	if got := l.value("d"); got != labelOther {
		t.Errorf("value past the cap = %q, want other", got)
	}
	// Admitted values stay admitted, and the reserved ones always pass.
	for in, want := range map[string]string{"B": "b", "": "none", "other": "other"} {
		if got := l.value(in); got != want {
			t.Errorf("value(%q) at the cap = %q, want %q", in, got, want)
		}
	}
}

func TestAllowListLabel(t *testing.T) {
	l := allowList("plain", "LOGIN", "plain")
	for in, want := range map[string]string{"PLAIN": "plain", "login": "login", "x-evil": "other", "": "none"} {
		if got := l.value(in); got != want {
			t.Errorf("value(%q) = %q, want %q", in, got, want)
		}
	}
}

// A hostile caller, many goroutines passing distinct junk to every label,
// creates no more series than the caps allow.
func TestHostileInputCannotGrowSeriesUnbounded(t *testing.T) {
	m := New()
	const n = 5000
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				v := fmt.Sprintf("evil\"\n%d-%d\x00{}", g, i)
				m.ConnectionOpened(v)
				m.ConnectionClosed(v)
				m.ConnectionRefused(v)
				m.Message(v, v)
				m.EngineResult(v, v)
				m.Delivery(v, v)
				m.AuthAttempt(v, v)
			}
		}()
	}
	wg.Wait()
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	// Each label: its cap or allow-list plus "other" (and "none", unused here).
	bound := map[string]int{
		"mta_connections_total":         capListener + 1,
		"mta_sessions_active":           capListener + 1,
		"mta_connections_refused_total": capReason + 1,
		"mta_messages_total":            1 * (capReason + 1), // no junk outcome is allowed
		"mta_engine_results_total":      (capEngine + 1) * (capResult + 1),
		"mta_deliveries_total":          (capTransport + 1) * 1,
		"mta_auth_attempts_total":       1 * (capResult + 1),
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		b, ok := bound[mf.GetName()]
		if !ok {
			continue
		}
		seen[mf.GetName()] = true
		if len(mf.Metric) > b {
			t.Errorf("%s has %d series, bound %d", mf.GetName(), len(mf.Metric), b)
		}
		if len(mf.Metric) < 2 {
			t.Errorf("%s has %d series: the junk was not recorded at all", mf.GetName(), len(mf.Metric))
		}
		for _, s := range mf.Metric {
			for _, lp := range s.Label {
				if !labelShape.MatchString(lp.GetValue()) {
					t.Errorf("%s: label %s=%q escaped the sanitizer", mf.GetName(), lp.GetName(), lp.GetValue())
				}
			}
		}
	}
	if len(seen) != len(bound) {
		t.Errorf("gathered %d of the %d bounded metrics", len(seen), len(bound))
	}
	// Everything past the cap went to "other" and was still counted.
	var total float64
	for _, mf := range mfs {
		if mf.GetName() == "mta_connections_refused_total" {
			for _, s := range mf.Metric {
				total += s.Counter.GetValue()
			}
		}
	}
	if total != 4*n {
		t.Errorf("refused connections sum to %v, want %d", total, 4*n)
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"", "spf", "SCRAM-SHA-1", "a\"b\nc", "日本語", strings.Repeat("Z", 50), "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := sanitize(s)
		if !labelShape.MatchString(got) {
			t.Fatalf("sanitize(%q) = %q, outside [a-z0-9_.-]{1,32}", s, got)
		}
		if again := sanitize(got); again != got {
			t.Fatalf("sanitize not idempotent: %q -> %q -> %q", s, got, again)
		}
		if s != "" && utf8.RuneCountInString(s) <= maxLabelLen && len(got) != min(utf8.RuneCountInString(s), maxLabelLen) {
			// one output byte per input rune, up to the limit
			t.Fatalf("sanitize(%q) = %q: length %d for %d runes", s, got, len(got), utf8.RuneCountInString(s))
		}
		l := capped(2)
		l.value(s)
		l.value(s + "x")
		l.value(s + "y")
		if len(l.seen) > 2 {
			t.Fatalf("capped(2) holds %d values", len(l.seen))
		}
	})
}
