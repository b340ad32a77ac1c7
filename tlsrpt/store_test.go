package tlsrpt

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestOpenRecorderPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tlsrpt.json")
	c := newClock(day(2026, 3, 14).Add(8 * time.Hour))
	r, err := OpenRecorder(path, WithClock(c.now), WithFlushInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	r.Success(stsPolicy)
	r.Failure(stsPolicy, expired)
	r.Failure(stsPolicy, expired)
	r.Success(Policy{Type: PolicyNone, Domain: "plain.example"})
	c.set(day(2026, 3, 13).Add(time.Hour))
	r.Success(tlsaPolicy) // yesterday, still unreported
	before := r.Reports(day(2026, 3, 13), day(2026, 3, 15), testOrg)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temporary file left: %v", err)
	}

	// The restarted Recorder has the same counts and the same report
	// IDs: its instance ID is in the file.
	r2, err := OpenRecorder(path, WithClock(c.now), WithFlushInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	after := r2.Reports(day(2026, 3, 13), day(2026, 3, 15), testOrg)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("after reopening:\n got %+v\nwant %+v", after, before)
	}
	// And it goes on counting from there.
	c.set(day(2026, 3, 14).Add(20 * time.Hour))
	r2.Success(stsPolicy)
	if err := r2.Flush(); err != nil {
		t.Fatal(err)
	}
	r2.Forget(day(2026, 3, 14))
	if err := r2.Flush(); err != nil {
		t.Fatal(err)
	}
	r3, err := OpenRecorder(path, WithFlushInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer r3.Close()
	if reps := r3.Reports(day(2026, 3, 13), day(2026, 3, 14), testOrg); len(reps) != 0 {
		t.Errorf("a forgotten day came back: %+v", reps)
	}
	got := oneReport(t, r3, day(2026, 3, 14), day(2026, 3, 15), "example.net").Policies[0]
	if got.Summary != (Summary{2, 2}) || got.FailureDetails[0].FailedSessionCount != 2 {
		t.Errorf("after the third open: %+v", got)
	}
}

func TestOpenRecorderBackgroundFlush(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tlsrpt.json")
	r, err := OpenRecorder(path, WithClock(newClock(day(2026, 3, 14)).now), WithFlushInterval(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Success(stsPolicy)
	// Wait for the writer, without asserting how long it takes.
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, _ := os.ReadFile(path)
		if strings.Contains(string(data), `"success":1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the file never got the count: %q", data)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestOpenRecorderCorrupt(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"empty":        "",
		"not JSON":     "\x00\x01garbage",
		"cut":          `{"format":"mailpolicy-tlsrpt-1","entries":[{"day":"2026-03-14"`,
		"other format": `{"format":"something-else","entries":[]}`,
		"bad day":      `{"format":"mailpolicy-tlsrpt-1","entries":[{"day":"March 14","policy":{"policy-type":"sts","policy-domain":"x"}}]}`,
		"negative":     `{"format":"mailpolicy-tlsrpt-1","entries":[{"day":"2026-03-14","policy":{"policy-type":"sts","policy-domain":"x"},"success":-1}]}`,
		"bad address":  `{"format":"mailpolicy-tlsrpt-1","entries":[{"day":"2026-03-14","policy":{"policy-type":"sts","policy-domain":"x"},"failed":1,"details":[{"result-type":"x","sending-mta-ip":"300.1.1.1","failed-session-count":1}]}]}`,
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := OpenRecorder(path)
		if !errors.Is(err, ErrCorruptFile) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: OpenRecorder = %v, %v; want ErrCorruptFile naming the path", name, r, err)
		}
		if data, _ := os.ReadFile(path); string(data) != content {
			t.Errorf("%s: the corrupt file was changed", name)
		}
	}
	// A file that cannot be read at all is an error too, not corrupt.
	if _, err := OpenRecorder(dir); err == nil || errors.Is(err, ErrCorruptFile) || !strings.Contains(err.Error(), dir) {
		t.Errorf("a directory: %v", err)
	}
}

func TestFlushError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gone")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tlsrpt.json")
	r, err := OpenRecorder(path, WithFlushInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	r.Success(stsPolicy)
	os.RemoveAll(dir)
	if err := r.Flush(); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Flush into a removed directory = %v", err)
	}
	// Still dirty: once the directory is back, the data gets written.
	os.Mkdir(dir, 0o700)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(path); err != nil || !strings.Contains(string(data), "example.net") {
		t.Errorf("after Close: %q %v", data, err)
	}
}

func TestMemoryRecorderFlushClose(t *testing.T) {
	r := NewRecorder()
	r.Success(stsPolicy)
	if r.Flush() != nil || r.Close() != nil {
		t.Error("Flush or Close of an in-memory Recorder failed")
	}
}

func TestBackgroundFlushError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gone")
	os.Mkdir(dir, 0o700)
	path := filepath.Join(dir, "tlsrpt.json")
	errs := make(chan error, 100)
	r, err := OpenRecorder(path, WithFlushInterval(time.Millisecond), WithErrorFunc(func(err error) {
		select {
		case errs <- err:
		default:
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(dir)
	r.Success(stsPolicy)
	if err := <-errs; !strings.Contains(err.Error(), path) {
		t.Errorf("background error %v", err)
	}
	if err := r.Close(); err == nil {
		t.Error("Close wrote into a removed directory")
	}
}
