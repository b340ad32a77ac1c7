package smtpd

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// streamServer starts a server receiving into a temp dir of its own.
func streamServer(t *testing.T, cfg Config) (*paramBackend, string, func() *bdatConn) {
	t.Helper()
	cfg.TempDir = t.TempDir()
	srv, dial := startLimits(t, cfg)
	return srv.cfg.Backend.(*paramBackend), cfg.TempDir, dial
}

// A message by DATA and the same by BDAT reach the Backend in the same
// stored form (dot-unstuffed, LF line ends) with header and body apart,
// and the receive file is gone from the directory all along.
func TestStreamedMessage(t *testing.T) {
	b, dir, dial := streamServer(t, Config{})
	const wire = "From: a@sender.test\r\nSubject: s\r\n\r\n..dot\r\nbody\r\n"
	const stored = "From: a@sender.test\nSubject: s\n\n.dot\nbody\n"
	c := dial()
	c.begin()
	c.cmd("DATA", 354)
	c.cmd(wire+".", 250)
	check := func(how string) {
		t.Helper()
		b.mu.Lock()
		defer b.mu.Unlock()
		if string(b.stored) != stored || string(b.header) != "From: a@sender.test\nSubject: s\n" || string(b.body) != ".dot\nbody\n" {
			t.Errorf("%s: stored %q header %q body %q", how, b.stored, b.header, b.body)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("%s: %d files in the receive dir", how, len(ents))
		}
	}
	check("DATA")
	c.begin()
	unstuffed := strings.Replace(wire, "..dot", ".dot", 1)
	c.chunk(10, unstuffed[:10])
	c.expect(250)
	c.cmd("BDAT "+strconv.Itoa(len(unstuffed)-10)+" LAST\r\n"+unstuffed[10:len(unstuffed)-2], 250)
	check("BDAT")
}

// A header section over MaxHeaderSize is refused with 552, by DATA and
// by BDAT, and the session goes on.
func TestHeaderTooBig(t *testing.T) {
	_, _, dial := streamServer(t, Config{MaxHeaderSize: 100})
	big := "Subject: " + strings.Repeat("x", 200) + "\r\n\r\nbody\r\n"
	c := dial()
	c.begin()
	c.cmd("DATA", 354)
	if msg := c.cmd(big+".", 552); !strings.Contains(msg, "header") {
		t.Errorf("DATA: 552 %q", msg)
	}
	c.begin()
	c.chunk(len(big), big)
	c.expect(250)
	if msg := c.cmd("BDAT 0 LAST", 552); !strings.Contains(msg, "header") {
		t.Errorf("BDAT: 552 %q", msg)
	}
	c.cmd("NOOP", 250)
	// A large body is no large header.
	c.begin()
	c.cmd("DATA", 354)
	c.cmd("Subject: s\r\n\r\n"+strings.Repeat(strings.Repeat("b", 900)+"\r\n", 100)+".", 250)
}

// SIZE= larger than the receive directory's free space is refused
// before the data (RFC 1870 §6.1); a directory that cannot take the
// file refuses DATA before 354.
func TestStorageRefusals(t *testing.T) {
	_, dir, dial := streamServer(t, Config{MaxSize: 1 << 40})
	c := dial()
	if msg := c.cmd("MAIL FROM:<a@sender.test> SIZE=1000000000000", 452); !strings.Contains(msg, "4.3.1") {
		t.Errorf("SIZE past the free space: %q", msg)
	}
	c.cmd("MAIL FROM:<a@sender.test> SIZE=1000", 250)
	c.cmd("RCPT TO:<b@example.com>", 250)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if msg := c.cmd("DATA", 452); !strings.Contains(msg, "4.3.1") {
		t.Errorf("DATA without a receive dir: %q", msg)
	}
	os.Mkdir(filepath.Clean(dir), 0o700)
}
