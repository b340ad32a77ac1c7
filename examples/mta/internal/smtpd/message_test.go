package smtpd

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestCRLFToLF(t *testing.T) {
	for _, in := range []string{"", "a", "\r\n", "a\r\nb\r\n", "\r\r\n\n", "x\ry\r", "\r\n\r\n\r\n"} {
		want := string(bytes.ReplaceAll([]byte(in), []byte("\r\n"), []byte("\n")))
		if got := string(crlfToLF([]byte(in))); got != want {
			t.Errorf("crlfToLF(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzCRLFToLF(f *testing.F) {
	f.Add([]byte("a\r\nb\r\r\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		want := bytes.ReplaceAll(in, []byte("\r\n"), []byte("\n"))
		if got := crlfToLF(bytes.Clone(in)); !bytes.Equal(got, want) {
			t.Fatalf("crlfToLF(%q) = %q, want %q", in, got, want)
		}
	})
}

// The copies cut from the message buffer are byte for byte what the
// separate buffers made before: buildWire for the spool, prefix plus the
// LF form for the Maildir, also when the prefix does not fit the
// headroom.
func TestMsgBufCopies(t *testing.T) {
	budget := newMemBudget(1 << 20)
	m := newMsgBuf(budget, 0, 100_000)
	var msg []byte
	for i := 0; i < 2000; i++ {
		line := []byte(fmt.Sprintf("line %d .", i))
		msg = append(append(msg, line...), "\r\n"...)
		if !m.appendLine(line) {
			t.Fatal("appendLine")
		}
	}
	if !bytes.Equal(m.msg(), msg) {
		t.Fatal("msg differs")
	}
	common := "Received: from x\n\tby y\nAuthentication-Results: z\n"
	wire, ok := m.withPrefix(strings.ReplaceAll(common, "\n", "\r\n"))
	if !ok || !bytes.Equal(wire, buildWire(common, msg)) {
		t.Fatal("spool copy differs from buildWire")
	}
	m.toLF()
	body := bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n"))
	for _, prefix := range []string{"Return-path: <a@b>\n" + common, strings.Repeat("X-Long: y\n", 2000)} {
		got, ok := m.withPrefix(prefix)
		if !ok || !bytes.Equal(got, append([]byte(prefix), body...)) {
			t.Fatalf("maildir copy with a %d-octet prefix differs", len(prefix))
		}
	}
	if budget.inUse() <= int64(cap(m.b)) {
		t.Error("the copy that did not fit the headroom is not charged")
	}
	m.release()
	m.release()
	if budget.inUse() != 0 {
		t.Errorf("%d in use after release", budget.inUse())
	}
}

func TestMsgBufBudget(t *testing.T) {
	budget := newMemBudget(100_000)
	m := newMsgBuf(budget, 0, 1_000_000)
	line := bytes.Repeat([]byte("b"), 998)
	n := 0
	for m.appendLine(line) {
		n++
		if budget.inUse() > 100_000 {
			t.Fatalf("in use %d past the limit", budget.inUse())
		}
	}
	if n == 0 || n > 100 {
		t.Errorf("%d lines fit in 100 000 octets", n)
	}
	// A SIZE= estimate is only used once the client has sent a lot.
	m.release()
	if m2 := newMsgBuf(budget, 90_000, 1_000_000); m2 == nil || cap(m2.b) > msgHeadroom+dataInitial {
		t.Error("SIZE= reserved at once")
	} else {
		m2.release()
	}
	if budget.inUse() != 0 {
		t.Errorf("%d in use", budget.inUse())
	}
}

// buildWire is the spooled wire form made the plain way: our added
// header lines (LF) as CRLF, then the received message (CRLF).
func buildWire(common string, msg []byte) []byte {
	var b bytes.Buffer
	b.WriteString(strings.ReplaceAll(common, "\n", "\r\n"))
	b.Write(msg)
	return b.Bytes()
}
