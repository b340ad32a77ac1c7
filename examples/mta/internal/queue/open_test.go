package queue

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dsninfo"
)

// chunked is an io.ReaderAt that refuses reads of more than max bytes
// at once and counts the bytes read.
type chunked struct {
	r    io.ReaderAt
	max  int
	mu   sync.Mutex
	read int64
}

func (c *chunked) ReadAt(p []byte, off int64) (int, error) {
	if len(p) > c.max {
		return 0, errors.New("read larger than the bound")
	}
	n, err := c.r.ReadAt(p, off)
	c.mu.Lock()
	c.read += int64(n)
	c.mu.Unlock()
	return n, err
}

func chunkedSec(msg []byte, max int) (*io.SectionReader, *chunked) {
	c := &chunked{r: bytes.NewReader(msg), max: max}
	return io.NewSectionReader(c, 0, int64(len(msg))), c
}

func TestOpenMessage(t *testing.T) {
	sp, err := OpenSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	id, err := sp.Enqueue(NewID(), "a@example.com", []string{"b@remote.test"}, []byte("Subject: x\r\n\r\nbody\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	f, size, err := sp.OpenMessage(id)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, _ := io.ReadAll(Section(io.NewSectionReader(f, 0, size)))
	if string(b) != "Subject: x\r\n\r\nbody\r\n" || size != int64(len(b)) {
		t.Errorf("read %q (size %d)", b, size)
	}
	if _, _, err := sp.OpenMessage("../x"); !errors.Is(err, ErrNotQueued) {
		t.Errorf("bad id: %v", err)
	}
	if _, _, err := sp.OpenMessage("nosuch"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

func TestReadHeader(t *testing.T) {
	long := "X-Long: " + strings.Repeat("a", 10000) + "\r\n"
	for _, tc := range []struct {
		msg  string
		max  int
		want string
	}{
		{"Subject: a\r\nFrom: b\r\n\r\nbody\r\n\r\nmore\r\n", MaxHeader, "Subject: a\r\nFrom: b\r\n"},
		{"Subject: lf\n\nbody\n", MaxHeader, "Subject: lf\n"},
		{"Subject: no body\r\n", MaxHeader, "Subject: no body\r\n"},
		{"\r\nbody only\r\n", MaxHeader, ""},
		{long + "\r\nbody\r\n", MaxHeader, long},
		// Cut at the bound, after the last whole line.
		{"A: 1\r\nB: 2\r\nC: 3\r\n\r\nbody\r\n", 15, "A: 1\r\nB: 2\r\n"},
		{long + "\r\n", 100, ""},
	} {
		got, err := ReadHeader(sec([]byte(tc.msg)), tc.max)
		if err != nil || string(got) != tc.want {
			t.Errorf("ReadHeader(%.30q, %d) = %.40q, %v; want %.40q", tc.msg, tc.max, got, err, tc.want)
		}
	}
	// The header alone is read, in small reads, from a long message.
	msg := []byte("Subject: a\r\n\r\n" + strings.Repeat("x", 8<<20))
	s, c := chunkedSec(msg, 64<<10)
	if h, err := ReadHeader(s, MaxHeader); err != nil || string(h) != "Subject: a\r\n" || c.read > 64<<10 {
		t.Errorf("ReadHeader of a long message: %q, %v, %d bytes read", h, err, c.read)
	}
}

// A non-ASCII field far down a long header is found, reading the
// header in pieces and stopping at its end.
func TestUTF8StatusLongHeader(t *testing.T) {
	env := &Envelope{SMTPUTF8: true, From: "a@x.test"}
	rc := []*Recipient{{Addr: "b@x.test"}}
	pad := strings.Repeat("X-Pad: "+strings.Repeat("p", 70)+"\r\n", 2000) // 158 KB
	body := "\r\n" + strings.Repeat("body \xc3\xa9\r\n", 1<<20)
	s, c := chunkedSec([]byte(pad+"Subject: h\xc3\xa9\r\n"+body), 64<<10)
	if got := env.UTF8Status(rc, s); got != "5.6.9" {
		t.Errorf("UTF8Status = %q, want 5.6.9", got)
	}
	s, c = chunkedSec([]byte(pad+"Subject: plain\r\n"+body), 64<<10)
	if got := env.UTF8Status(rc, s); got != "" {
		t.Errorf("UTF8Status = %q, want \"\" (UTF-8 only in the body)", got)
	}
	if c.read > int64(len(pad))+128<<10 {
		t.Errorf("read %d bytes for a %d-byte header", c.read, len(pad))
	}
}

// RET=FULL returns the whole message up to ReturnSizeLimit, the header
// beyond it, reading only that much.
func TestBounceRetFullLimit(t *testing.T) {
	b, dir, _ := bouncerFor(t, "a@example.com")
	b.ReturnSizeLimit = 1000
	env := &Envelope{ID: "m1", From: "a@example.com", Arrival: time.Now(), Ret: "FULL"}
	small := []byte("Subject: small\r\n\r\n" + strings.Repeat("s", 900) + "\r\n")
	b.Bounce(env, sec(small), []*Recipient{{Addr: "x@remote.test", State: Failed}}, false)
	big := []byte("Subject: big\r\n\r\n" + strings.Repeat("b\r\n", 4<<20))
	s, c := chunkedSec(big, 64<<10)
	b.Bounce(env, s, []*Recipient{{Addr: "y@remote.test", State: Failed}}, false)
	reps := dsns(t, dir)
	if len(reps) != 2 {
		t.Fatalf("%d DSNs", len(reps))
	}
	for _, rep := range reps {
		switch finals(rep) {
		case "x@remote.test":
			if rep.Return != dsninfo.ReturnFull || !bytes.Contains(rep.Original, []byte(strings.Repeat("s", 900))) {
				t.Errorf("small message: return %v, %d bytes", rep.Return, len(rep.Original))
			}
		case "y@remote.test":
			if rep.Return != dsninfo.ReturnHeaders || !bytes.Contains(rep.Original, []byte("Subject: big")) || bytes.Contains(rep.Original, []byte("b\r\nb\r\n")) {
				t.Errorf("big message: return %v, %d bytes", rep.Return, len(rep.Original))
			}
		default:
			t.Errorf("DSN for %s", finals(rep))
		}
	}
	if c.read > 64<<10 {
		t.Errorf("read %d bytes of a %d-byte message for its header", c.read, len(big))
	}
}
