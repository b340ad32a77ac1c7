package remote

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/queue"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/signing"
)

// bigMessage is a message of about size bytes, CRLF.
func bigMessage(size int) []byte {
	var b strings.Builder
	b.WriteString("From: alice@example.com\r\nTo: bob@remote.test\r\nSubject: big\r\n\r\n")
	line := strings.Repeat("0123456789abcdef", 4)[:62] + "\r\n"
	for b.Len() < size {
		b.WriteString(line)
	}
	return []byte(b.String())
}

func edSigners(t *testing.T) *signing.Signers {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(nil)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "ed.pem")
	if err := os.WriteFile(name, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := signing.New([]signing.Domain{{Domain: "example.com", Selectors: []signing.Selector{{Selector: "ed", PrivateKey: name}}}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDeliverStreams: a 9 MiB message, DKIM-signed, goes out from the
// spool file in reads of at most 64 KiB (a reader that refuses larger
// ones would defer a courier that read it whole) and without the
// process allocating anything near its size.
func TestDeliverStreams(t *testing.T) {
	for _, sign := range []bool{false, true} {
		t.Run(map[bool]string{false: "unsigned", true: "signed"}[sign], func(t *testing.T) {
			p := startPeer(t, &peer{})
			q := courierFor(t, p.port(), "remote.test")
			if sign {
				q.Signers = edSigners(t)
			}
			msg := bigMessage(9 << 20)
			file := spoolFile(t, msg)
			src := &chunked{r: file, max: 64 << 10}
			env := envelope("big1", "alice@example.com", "bob@remote.test")

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			q.Deliver(context.Background(), delivery(env, io.NewSectionReader(src, 0, int64(len(msg)))))
			runtime.ReadMemStats(&after)

			if r := env.Rcpts[0]; r.State != queue.Delivered {
				t.Fatalf("recipient %+v", r)
			}
			ms := p.messages()
			if len(ms) != 1 {
				t.Fatalf("%d messages at the peer", len(ms))
			}
			signed := strings.HasPrefix(ms[0].head, "DKIM-Signature:")
			if signed != sign {
				t.Errorf("signed %v, want %v: %q", signed, sign, ms[0].head[:80])
			}
			if ms[0].size < int64(len(msg)) || (!sign && ms[0].size != int64(len(msg))) {
				t.Errorf("peer got %d bytes of %d", ms[0].size, len(msg))
			}
			if src.big > 64<<10 {
				t.Errorf("largest read %d", src.big)
			}
			// Counted once for SIZE=, sent once, hashed once (signed),
			// the header read once more.
			if want := int64(len(msg)) * map[bool]int64{false: 2, true: 3}[sign]; src.read < want || src.read > want+256<<10 {
				t.Errorf("read %d bytes of the spool file, want about %d", src.read, want)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
				t.Errorf("allocated %d bytes for a %d-byte message", alloc, len(msg))
			}
		})
	}
}
