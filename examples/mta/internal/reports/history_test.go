package reports

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc"
)

func writeHistory(t *testing.T, h *FileHistory, es ...dmarc.HistoryEntry) {
	t.Helper()
	for i := range es {
		if err := h.Append(&es[i]); err != nil {
			t.Fatal(err)
		}
	}
}

// Entries returns what was received in [from, to), skipping a block
// that does not parse instead of failing the whole file.
func TestFileHistoryEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history")
	h, err := OpenFileHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	h.Logger = testLog(t)
	d := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	writeHistory(t, h, entry("a.test", d.Add(-time.Second), "192.0.2.1"), entry("a.test", d, "192.0.2.2"))
	// A block cut short by a full disk, then more entries.
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("job broken\nreceived notanumber\n")
	f.Close()
	writeHistory(t, h, entry("b.test", d.Add(day-time.Second), "192.0.2.3"), entry("b.test", d.Add(day), "192.0.2.4"))
	got, err := h.Entries(context.Background(), d, d.Add(day))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].IPAddr.String() != "192.0.2.2" || got[1].IPAddr.String() != "192.0.2.3" {
		t.Fatalf("got %+v", got)
	}
}

// Trim keeps the blocks not reported yet, as they were written, and
// reopens the file: appends after it land in the new file.
func TestFileHistoryTrim(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "history")
	h, err := OpenFileHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	d := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	writeHistory(t, h, entry("a.test", d.Add(-time.Hour), "192.0.2.1"), entry("a.test", d.Add(time.Hour), "192.0.2.2"))
	// Keys a later Exim writes (arc) are kept with their block.
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(string(func() []byte { e := entry("c.test", d.Add(2*time.Hour), "192.0.2.5"); return e.AppendTo(nil) }()) + "arc_policy 0 json:[]\n")
	f.Close()
	if err := h.Trim(d); err != nil {
		t.Fatal(err)
	}
	writeHistory(t, h, entry("b.test", d.Add(3*time.Hour), "192.0.2.3"))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if strings.Contains(text, "192.0.2.1") || !strings.Contains(text, "192.0.2.2") || !strings.Contains(text, "192.0.2.3") ||
		!strings.Contains(text, "arc_policy 0 json:[]\n") {
		t.Fatalf("after trim:\n%s", text)
	}
	es, err := dmarc.ParseHistory(strings.NewReader(text))
	if err != nil || len(es) != 3 {
		t.Fatalf("%d entries, %v", len(es), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("left in the directory: %v", ents)
	}
	// Nothing to drop: the file is not rewritten.
	st1, _ := os.Stat(path)
	if err := h.Trim(d); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(path)
	if !os.SameFile(st1, st2) {
		t.Fatal("file replaced although nothing was dropped")
	}
}

// Appends running while Trim rewrites the file all survive.
func TestFileHistoryTrimWhileAppending(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history")
	h, err := OpenFileHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	d := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	done := make(chan struct{})
	const n = 300
	go func() {
		defer close(done)
		for i := range n {
			e := entry("a.test", d.Add(time.Duration(i)*time.Second), "192.0.2.1")
			if err := h.Append(&e); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 20 {
		if err := h.Trim(d.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	es, err := h.Entries(context.Background(), d, d.Add(day))
	if err != nil || len(es) != n {
		t.Fatalf("%d entries, %v", len(es), err)
	}
}

func TestStateRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db", "reports")
	st, err := loadState(path)
	if err != nil || !st.DMARCDone.IsZero() {
		t.Fatalf("missing file: %+v %v", st, err)
	}
	d := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	st.DMARCDone, st.DMARCSent, st.TLSDone = d, []string{"a.test mailto:x@a.test"}, d.Add(-day)
	st.Posts = []pendingPost{{URL: "https://r.test/", Domain: "a.test", Report: []byte{0x1f, 0x8b, 0}, Tries: 2, First: d}}
	if err := st.save(path); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(path)
	if err != nil || !got.DMARCDone.Equal(d) || !got.TLSDone.Equal(d.Add(-day)) || len(got.DMARCSent) != 1 ||
		len(got.Posts) != 1 || got.Posts[0].Report[1] != 0x8b || got.Posts[0].Tries != 2 {
		t.Fatalf("got %+v %v", got, err)
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("temporary file left: %v", err)
	}
	os.WriteFile(path, []byte("{not json"), 0o600)
	if _, err := loadState(path); err == nil {
		t.Fatal("a broken state file loaded")
	}
}
