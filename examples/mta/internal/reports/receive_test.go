package reports

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/dmarc/report"
	"github.com/mailpolicy/mailpolicy/tlsrpt"
)

func newReceiver(t *testing.T) *Receiver {
	t.Helper()
	r, err := NewReceiver(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	r.Logger = testLog(t)
	r.Clock = newFakeClock(mar2.Add(time.Hour))
	return r
}

// dmarcMail is a report mail as another reporter sends it (our own
// Mail: the format is the RFC's either way).
func dmarcMail(t testing.TB, org string) []byte {
	t.Helper()
	es := []dmarc.HistoryEntry{entry("example.test", mar1.Add(time.Hour), "192.0.2.1"), entry("example.test", mar1.Add(2*time.Hour), "192.0.2.1")}
	fs := report.Aggregate(es, mar1, mar2, report.Reporter{OrgName: org, Email: "noreply-dmarc@" + org})
	var b bytes.Buffer
	if err := fs[0].Mail(&b, report.MailOptions{From: "noreply-dmarc@" + org, To: "reports@example.test", Date: mar2}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func tlsMail(t *testing.T) []byte {
	t.Helper()
	rec := tlsrpt.NewRecorder(tlsrpt.WithClock(func() time.Time { return mar1.Add(time.Hour) }), tlsrpt.WithInstanceID("x"))
	rec.Success(tlsrpt.Policy{Type: tlsrpt.PolicyNone, Domain: "example.test"})
	rec.Failure(tlsrpt.Policy{Type: tlsrpt.PolicyNone, Domain: "example.test"}, tlsrpt.Failure{Result: tlsrpt.ResultSTARTTLSNotSupported, ReceivingMXHostname: "mx.example.test"})
	reps := rec.Reports(mar1, mar2, tlsrpt.Organization{Name: "Sender Inc", Contact: "tlsrpt@sender.test"})
	var b bytes.Buffer
	if err := reps[0].Mail(&b, tlsrpt.MailOptions{From: "tlsrpt@sender.test", To: "reports@example.test", Date: mar2}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func readStored(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// A DMARC aggregate report is stored as JSON with its fields; the same
// report again is a duplicate, another reporter's a file of its own.
func TestReceiveDMARC(t *testing.T) {
	r := newReceiver(t)
	st, err := r.Store(context.Background(), bytes.NewReader(dmarcMail(t, "big.test")))
	if err != nil || st.Kind != KindDMARC {
		t.Fatalf("%+v %v", st, err)
	}
	m := readStored(t, st.Path)
	rep := m["report"].(map[string]any)
	md := rep["Metadata"].(map[string]any)
	if m["kind"] != "dmarc" || md["OrgName"] != "big.test" || rep["Policy"].(map[string]any)["Domain"] != "example.test" ||
		len(rep["Records"].([]any)) != 1 || !strings.Contains(m["subject"].(string), "Report Domain: example.test") {
		t.Fatalf("stored %v", m)
	}
	if _, err := r.Store(context.Background(), bytes.NewReader(dmarcMail(t, "big.test"))); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second copy: %v", err)
	}
	st2, err := r.Store(context.Background(), bytes.NewReader(dmarcMail(t, "other.test")))
	if err != nil || st2.Path == st.Path {
		t.Fatalf("another reporter: %+v %v", st2, err)
	}
	if ents, _ := os.ReadDir(filepath.Join(r.Dir, KindDMARC)); len(ents) != 2 {
		t.Fatalf("%d files", len(ents))
	}
}

func TestReceiveTLS(t *testing.T) {
	r := newReceiver(t)
	st, err := r.Store(context.Background(), bytes.NewReader(tlsMail(t)))
	if err != nil || st.Kind != KindTLS {
		t.Fatalf("%+v %v", st, err)
	}
	m := readStored(t, st.Path)
	rep := m["report"].(map[string]any)
	pol := rep["policies"].([]any)[0].(map[string]any)
	sum := pol["summary"].(map[string]any)
	if rep["organization-name"] != "Sender Inc" || pol["policy"].(map[string]any)["policy-domain"] != "example.test" ||
		sum["total-successful-session-count"] != 1.0 || sum["total-failure-session-count"] != 1.0 ||
		pol["failure-details"].([]any)[0].(map[string]any)["result-type"] != "starttls-not-supported" {
		t.Fatalf("stored %v", m)
	}
	if _, err := r.Store(context.Background(), bytes.NewReader(tlsMail(t))); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second copy: %v", err)
	}
}

// bomb is a gzip stream of n zero bytes.
func bomb(n int) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(make([]byte, n))
	zw.Close()
	return b.Bytes()
}

func attachmentMail(ctype, name string, data []byte) []byte {
	return []byte("From: a@sender.test\r\nTo: reports@example.test\r\nSubject: report\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\n" +
		"Content-Type: " + ctype + "\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"" + name + "\"\r\n\r\n" +
		base64.StdEncoding.EncodeToString(data) + "\r\n--b--\r\n")
}

// What is not a report that parses is kept raw under unparsed/ with
// the reason, never an unbounded read: a gzip bomb stops at MaxSize.
func TestReceiveUnparsed(t *testing.T) {
	r := newReceiver(t)
	r.MaxSize = 1 << 20
	for _, c := range []struct {
		name string
		msg  []byte
		want error
	}{
		{"no report", []byte("From: a@b.test\r\nSubject: hello\r\n\r\njust text\r\n"), report.ErrNoReport},
		{"not a message", []byte("\x00\x01garbage"), nil},
		{"dmarc gzip bomb", attachmentMail("application/gzip", "x!y!1!2.xml.gz", bomb(4<<20)), report.ErrTooLarge},
		{"tls gzip bomb", attachmentMail("application/tlsrpt+gzip", "x!y!1!2!z.json.gz", bomb(4<<20)), tlsrpt.ErrTooLarge},
		{"tls not json", attachmentMail("application/tlsrpt+json", "r.json", []byte("{not json")), nil},
		{"too large", append([]byte("Subject: big\r\n\r\n"), make([]byte, 2<<20)...), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, err := r.Store(context.Background(), bytes.NewReader(c.msg))
			if err == nil || st.Kind != KindUnparsed || st.Path == "" {
				t.Fatalf("%+v %v", st, err)
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			raw, rerr := os.ReadFile(st.Path)
			if rerr != nil || !bytes.HasPrefix(c.msg, raw) || len(raw) == 0 || int64(len(raw)) > r.MaxSize {
				t.Fatalf("kept %d bytes, %v", len(raw), rerr)
			}
		})
	}
	// Receive logs and never panics or fails.
	r.Receive(context.Background(), bytes.NewReader([]byte("junk")))
}

// The file names of reports from strangers stay inside the store.
func TestReceiveHostileNames(t *testing.T) {
	r := newReceiver(t)
	f := &report.Feedback{Metadata: report.ReportMetadata{OrgName: "../../etc", Email: "x@../../passwd", ReportID: "../1"},
		Policy: report.PolicyPublished{Domain: "../../a"}}
	if name := dmarcName(f); strings.Contains(name, "/") || strings.HasPrefix(name, ".") {
		t.Fatalf("name %q", name)
	}
	if name := tlsName(&tlsrpt.Report{ReportID: "a/b@c", Policies: []tlsrpt.PolicyResult{{Policy: tlsrpt.Policy{Domain: "../x"}}}}); strings.Contains(name, "/") {
		t.Fatalf("name %q", name)
	}
	_ = r
}

func FuzzStore(f *testing.F) {
	f.Add([]byte("Subject: x\r\n\r\nbody"))
	f.Add(attachmentMail("application/tlsrpt+json", "r.json", []byte(`{"organization-name":"a","date-range":{"start-datetime":"2026-03-01T00:00:00Z","end-datetime":"2026-03-01T23:59:59Z"},"contact-info":"x","report-id":"1","policies":[]}`)))
	f.Add(attachmentMail("application/gzip", "r.xml.gz", bomb(100)))
	f.Add([]byte("Content-Type: multipart/report; report-type=tlsrpt; boundary=q\r\n\r\n--q\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n"))
	r, err := NewReceiver(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	r.MaxSize = 1 << 20
	r.Logger = testLogDiscard()
	f.Fuzz(func(t *testing.T, msg []byte) {
		st, err := r.Store(context.Background(), bytes.NewReader(msg))
		if err == nil && st.Kind == KindUnparsed || err != nil && !errors.Is(err, ErrDuplicate) && st.Kind != KindUnparsed && st.Kind != "" {
			t.Fatalf("%+v %v", st, err)
		}
		if st.Path != "" && filepath.Dir(filepath.Dir(st.Path)) != r.Dir {
			t.Fatalf("stored outside the store: %s", st.Path)
		}
	})
}
