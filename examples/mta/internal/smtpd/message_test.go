package smtpd

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readAll reads r whole (tests only: the code under test never does).
func readAll(t testing.TB, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// feedLines gives msg (CRLF lines) to a msgFile as DATA does: line by
// line without the CRLF.
func feedLines(t testing.TB, m *msgFile, msg []byte) {
	t.Helper()
	for len(msg) > 0 {
		line, rest, _ := bytes.Cut(msg, []byte("\r\n"))
		if p := m.appendLine(line); p != dataOK {
			t.Fatalf("appendLine: problem %d", p)
		}
		msg = rest
	}
}

// feedChunks gives msg to a msgFile as BDAT does, cut at the offsets.
func feedChunks(t testing.TB, m *msgFile, msg []byte, cuts ...int) {
	t.Helper()
	prev := 0
	for _, c := range append(cuts, len(msg)) {
		c = min(max(c, prev), len(msg))
		if p := m.appendRaw(msg[prev:c]); p != dataOK {
			t.Fatalf("appendRaw: problem %d", p)
		}
		prev = c
	}
}

func newTestMsgFile(t testing.TB, budget *memBudget, maxHdr int) (*msgFile, string) {
	t.Helper()
	dir := t.TempDir()
	m, err := newMsgFile(dir, budget, maxHdr)
	if err != nil || m == nil {
		t.Fatalf("newMsgFile: %v %v", m, err)
	}
	return m, dir
}

// A message read by DATA and the same message in BDAT chunks cut
// anywhere (between CR and LF too) give the same file: the message with
// LF line ends, its header section in memory, the body after the empty
// line.
func TestMsgFileForms(t *testing.T) {
	hdr := "From: a@example.com\r\nSubject: x\r\n\tfolded\r\n"
	body := "line 1\r\n.dot\r\n\r\nlast\r\n"
	msg := []byte(hdr + "\r\n" + body)
	want := bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n"))
	wantHdr := strings.ReplaceAll(hdr, "\r\n", "\n")
	wantBody := strings.ReplaceAll(body, "\r\n", "\n")
	budget := newMemBudget(1 << 20)
	for name, feed := range map[string]func(*msgFile){
		"data":      func(m *msgFile) { feedLines(t, m, msg) },
		"one chunk": func(m *msgFile) { feedChunks(t, m, msg) },
		"cut at CR": func(m *msgFile) { feedChunks(t, m, msg, len(hdr)-2, len(hdr)-1, len(hdr)+1, len(hdr)+5) },
		"bytewise": func(m *msgFile) {
			for i := range msg {
				feedChunks(t, m, msg[i:i+1])
			}
		},
	} {
		m, dir := newTestMsgFile(t, budget, 1<<10)
		feed(m)
		if err := m.finish(); err != nil {
			t.Fatal(err)
		}
		msg := &Message{m: m}
		if got := readAll(t, msg.Reader()); !bytes.Equal(got, want) {
			t.Errorf("%s: file %q, want %q", name, got, want)
		}
		if string(msg.Header()) != wantHdr || string(readAll(t, msg.Body())) != wantBody || msg.Size() != int64(len(want)) {
			t.Errorf("%s: header %q body %q size %d", name, msg.Header(), readAll(t, msg.Body()), msg.Size())
		}
		if !m.endsLF() {
			t.Errorf("%s: endsLF false", name)
		}
		// Nothing is left in the directory: the file is unlinked.
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("%s: %d files left in the temp dir", name, len(ents))
		}
		m.release()
	}
	if budget.inUse() != 0 {
		t.Errorf("%d in use after release", budget.inUse())
	}
}

// The copies: our prefix, the header as RemoveOwnAR left it, the empty
// line, the body — into a file (the kernel copy path) and into a
// buffer, the same each time they are written (a retry under another
// name writes again). The message as received is unchanged.
func TestMsgFileCopy(t *testing.T) {
	in := "Authentication-Results: mx.example; spf=pass\r\nFrom: a@example.com\r\n" +
		"Authentication-Results: other.example; dkim=pass\r\n\r\nbody\r\n" + strings.Repeat("more body\r\n", 10000)
	m, dir := newTestMsgFile(t, newMemBudget(1<<20), 1<<10)
	defer m.release()
	feedLines(t, m, []byte(in))
	if err := m.finish(); err != nil {
		t.Fatal(err)
	}
	msg := &Message{m: m}
	if n := msg.RemoveOwnAR("mx.example"); n != 1 {
		t.Fatalf("removed %d", n)
	}
	prefix := "Received: by mx.example\n"
	lf := strings.ReplaceAll(in, "\r\n", "\n")
	want := prefix + strings.Replace(lf, "Authentication-Results: mx.example; spf=pass\n", "", 1)
	for i := 0; i < 2; i++ {
		name := filepath.Join(dir, fmt.Sprint("copy", i))
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		n, err := msg.Copy(prefix).WriteTo(f)
		f.Close()
		got, _ := os.ReadFile(name)
		if err != nil || string(got) != want || n != int64(len(want)) {
			t.Fatalf("copy %d to a file: %d %v, equal %v", i, n, err, string(got) == want)
		}
	}
	var b bytes.Buffer
	if _, err := msg.Copy("").WriteTo(&b); err != nil || b.String() != want[len(prefix):] {
		t.Fatalf("copy to a buffer: %v", err)
	}
	if got, crlf := msg.WireSize(prefix), len(strings.ReplaceAll(want, "\n", "\r\n")); got != int64(crlf) {
		t.Errorf("WireSize %d, want %d", got, crlf)
	}
	if got := readAll(t, msg.Reader()); string(got) != lf {
		t.Error("the message as received changed")
	}
}

// A message without an empty line is all header: no body, and its copy
// gains no empty line.
func TestMsgFileNoBody(t *testing.T) {
	m, _ := newTestMsgFile(t, newMemBudget(1<<20), 1<<10)
	defer m.release()
	feedLines(t, m, []byte("A: 1\r\nB: 2\r\n"))
	if err := m.finish(); err != nil {
		t.Fatal(err)
	}
	msg := &Message{m: m}
	var b bytes.Buffer
	msg.Copy("P: 0\n").WriteTo(&b)
	if b.String() != "P: 0\nA: 1\nB: 2\n" || msg.Body().Size() != 0 || string(msg.Header()) != "A: 1\nB: 2\n" {
		t.Errorf("copy %q, body %d, header %q", b.String(), msg.Body().Size(), msg.Header())
	}
}

// The header section is bounded by maxHdr (Exim's header_maxsize); the
// body is not in memory, so a large body costs nothing more than the
// write buffer. The budget gets everything back at release.
func TestMsgFileMemory(t *testing.T) {
	budget := newMemBudget(1 << 20)
	m, _ := newTestMsgFile(t, budget, 8<<10)
	var p dataProblem
	for i := 0; i < 1000 && p == dataOK; i++ {
		p = m.appendLine([]byte(fmt.Sprintf("X-H%d: %s", i, strings.Repeat("v", 60))))
	}
	if p != dataHeaderTooBig || len(m.hdr) > 8<<10 {
		t.Fatalf("problem %d with a %d-octet header copy", p, len(m.hdr))
	}
	m.release()

	m, _ = newTestMsgFile(t, budget, 8<<10)
	defer m.release()
	m.appendLine([]byte("Subject: big"))
	m.appendLine(nil)
	line := bytes.Repeat([]byte("b"), 998)
	for i := 0; i < 10_000; i++ { // 10 MB of body
		if p := m.appendLine(line); p != dataOK {
			t.Fatalf("body line %d: problem %d", i, p)
		}
	}
	if got := budget.inUse(); got > dataWriteBuf+headerInitial {
		t.Errorf("a 10 MB body holds %d octets of the budget", got)
	}
	if m.size != 12+2+10_000*999 {
		t.Errorf("size %d", m.size)
	}
}

// The budget refuses a message's buffers when it is exhausted, and a
// header that would grow past it.
func TestMsgFileBudget(t *testing.T) {
	budget := newMemBudget(dataWriteBuf + headerInitial)
	m, _ := newTestMsgFile(t, budget, 1<<20)
	if m2, err := newMsgFile(t.TempDir(), budget, 1<<20); m2 != nil || err != nil {
		t.Fatalf("second message with the budget exhausted: %v %v", m2, err)
	}
	p := m.appendLine(bytes.Repeat([]byte("h"), headerInitial+10))
	if p != dataNoMemory {
		t.Errorf("header growth past the budget: problem %d", p)
	}
	m.release()
	m.release()
	if budget.inUse() != 0 {
		t.Errorf("%d in use", budget.inUse())
	}
}

// An unwritable directory is an error at creation, not a panic later.
func TestMsgFileNoDir(t *testing.T) {
	budget := newMemBudget(1 << 20)
	if m, err := newMsgFile(filepath.Join(t.TempDir(), "missing"), budget, 1<<10); m != nil || err == nil {
		t.Fatalf("%v %v", m, err)
	}
	if budget.inUse() != 0 {
		t.Errorf("%d in use after a failed create", budget.inUse())
	}
}

// FuzzMsgFile: any message with CRLF line ends, fed as BDAT chunks cut
// at any two points or as DATA lines, is stored as the same LF form,
// and header, empty line and body put together give it back.
func FuzzMsgFile(f *testing.F) {
	f.Add([]byte("A: 1\r\n\r\nbody\r\n"), 3, 9)
	f.Add([]byte("\r\n\r\n"), 1, 2)
	f.Add([]byte("no blank line\r\n"), 0, 100)
	f.Fuzz(func(t *testing.T, raw []byte, c1, c2 int) {
		// Make it a message DATA could carry: CRLF lines only.
		raw = bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r"), nil), []byte("\n"), []byte("\r\n"))
		if len(raw) == 0 || !bytes.HasSuffix(raw, []byte("\r\n")) {
			raw = append(raw, "\r\n"...)
		}
		want := bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
		budget := newMemBudget(1 << 20)
		for _, data := range []bool{true, false} {
			m, err := newMsgFile(t.TempDir(), budget, 1<<20)
			if err != nil || m == nil {
				t.Fatal(err)
			}
			if data {
				feedLines(t, m, raw)
			} else {
				if c1 < 0 {
					c1 = -c1
				}
				if c2 < 0 {
					c2 = -c2
				}
				feedChunks(t, m, raw, c1%(len(raw)+1), c2%(len(raw)+1))
			}
			if err := m.finish(); err != nil {
				t.Fatal(err)
			}
			msg := &Message{m: m}
			if got := readAll(t, msg.Reader()); !bytes.Equal(got, want) {
				t.Fatalf("data %v: stored %q, want %q", data, got, want)
			}
			var b bytes.Buffer
			if _, err := msg.Copy("").WriteTo(&b); err != nil || !bytes.Equal(b.Bytes(), want) {
				t.Fatalf("data %v: copy %q, want %q", data, b.Bytes(), want)
			}
			if got := msg.WireSize("P: 1\n"); got != int64(len(raw)+6) {
				t.Fatalf("data %v: WireSize %d, want %d", data, got, len(raw)+6)
			}
			m.release()
		}
		if budget.inUse() != 0 {
			t.Fatalf("%d in use", budget.inUse())
		}
	})
}
