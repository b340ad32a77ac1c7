package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/smtp"
)

// rssMTA is the real binary, started with its defaults on a free port
// (max_size raised for the large messages), delivering into a Maildir.
type rssMTA struct {
	cmd  *exec.Cmd
	addr string
	dir  string
}

func startRSSMTA(t testing.TB) *rssMTA {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "mta")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "-listen", addr, "-hostname", "mx.example.test", "-domains", "example.test",
		"-maildir", filepath.Join(dir, "Maildir"), "-spool", filepath.Join(dir, "spool"),
		"-max-size", strconv.Itoa(64<<20), "-nameserver", "127.0.0.1:1", "-timeout", "200ms", "-log-level", "warn")
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if i == 200 {
			t.Fatalf("the MTA does not listen on %s", addr)
		}
		time.Sleep(25 * time.Millisecond)
	}
	return &rssMTA{cmd: cmd, addr: addr, dir: dir}
}

// peakRSS is the process's high-water mark of resident memory (VmHWM).
func (m *rssMTA) peakRSS(t testing.TB) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", m.cmd.Process.Pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// bodyReader is size octets of 76-character lines, made as it is read.
type bodyReader struct{ left int64 }

func (b *bodyReader) Read(p []byte) (int, error) {
	const line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abc\r\n"
	if b.left <= 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && b.left > 0 {
		k := copy(p[n:], line[b.left%int64(len(line)):])
		k = int(min(int64(k), b.left))
		n += k
		b.left -= int64(k)
	}
	return n, nil
}

// send delivers one message of about size octets to bob@example.test.
func (m *rssMTA) send(t testing.TB, size int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := smtp.Dial(ctx, m.addr)
	if err != nil {
		t.Error(err)
		return
	}
	defer c.Close()
	c.LocalName = "client.test"
	if _, err := c.Hello(ctx); err != nil {
		t.Error(err)
		return
	}
	if _, err := c.Mail(ctx, "a@sender.test", nil); err != nil {
		t.Error(err)
		return
	}
	if _, err := c.Rcpt(ctx, "bob@example.test", nil); err != nil {
		t.Error(err)
		return
	}
	msg := io.MultiReader(strings.NewReader("From: a@sender.test\r\nSubject: big\r\n\r\n"), &bodyReader{left: size})
	if _, err := c.Data(ctx, msg); err != nil {
		t.Error(err)
	}
	c.Quit(ctx)
}

// maildirBytes is the size of everything delivered.
func (m *rssMTA) maildirBytes(t testing.TB) int64 {
	var n int64
	files, _ := filepath.Glob(filepath.Join(m.dir, "Maildir", "new", "*"))
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			n += st.Size()
		}
	}
	return n
}

// The bounds: a 50 MB message in under 80 MB of peak RSS, and
// 20 concurrent 10 MB messages in under 200 MB (the whole process, its
// 1000-session baseline included). Memory, not time: no flake under
// load.
func TestPeakRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 250 MB")
	}
	for _, c := range []struct {
		name   string
		n      int
		size   int64
		limitB int64
	}{
		{"one 50 MB message", 1, 50 << 20, 80 << 20},
		{"20 concurrent 10 MB messages", 20, 10 << 20, 200 << 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := startRSSMTA(t)
			var wg sync.WaitGroup
			for range c.n {
				wg.Add(1)
				go func() { defer wg.Done(); m.send(t, c.size) }()
			}
			wg.Wait()
			// Stored with LF line ends: a CR fewer per line.
			if got, want := m.maildirBytes(t), int64(c.n)*(c.size/100*95); got < want {
				t.Fatalf("delivered %d octets, want at least %d", got, want)
			}
			peak := m.peakRSS(t)
			t.Logf("%s: peak RSS %.1f MiB", c.name, float64(peak)/(1<<20))
			if peak > c.limitB {
				t.Errorf("peak RSS %.1f MiB, over %d MiB", float64(peak)/(1<<20), c.limitB>>20)
			}
		})
	}
}
