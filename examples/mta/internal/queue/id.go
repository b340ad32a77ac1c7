package queue

import (
	"crypto/rand"
	"encoding/binary"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/durable"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func b62(n uint64, width int) string {
	b := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		b[i] = base62[n%62]
		n /= 62
	}
	return string(b)
}

// idGen makes Exim-shaped message ids: time, process, sequence. The
// sequence starts at a random offset (salt), so that a process
// restarted with the same PID in the same second does not count
// through the previous run's ids again.
type idGen struct {
	salt uint64
	pid  int
	seq  atomic.Uint64
}

func newIDGen() *idGen { return &idGen{salt: randomUint64(), pid: os.Getpid()} }

func (g *idGen) next() string {
	return b62(uint64(time.Now().Unix()), 6) + "-" + b62(uint64(g.pid), 6) + "-" + b62(g.salt+g.seq.Add(1), 4)
}

var ids = newIDGen()

// NewID returns a fresh message id, unique in this process and, by its
// salt, across restarts.
func NewID() string { return ids.next() }

// randomUint64 draws from crypto/rand, whose Read never returns an
// error: it crashes the program rather than hand out predictable bytes.
func randomUint64() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}

func syncDirQuiet(dir string) { durable.SyncDir(dir) }

// idTime is the arrival time at the start of an id made by NewID.
func idTime(id string) (time.Time, bool) {
	if len(id) < 6 {
		return time.Time{}, false
	}
	var n uint64
	for _, c := range []byte(id[:6]) {
		i := strings.IndexByte(base62, c)
		if i < 0 {
			return time.Time{}, false
		}
		n = n*62 + uint64(i)
	}
	return time.Unix(int64(n), 0), true
}
