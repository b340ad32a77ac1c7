package resolver

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

// testTimeout keeps failing tests quick while leaving loaded CI machines
// plenty of time for a loopback round trip.
const testTimeout = 2 * time.Second

func newClient(t *testing.T, opts ...Option) *Resolver {
	t.Helper()
	c, err := New(append([]Option{WithTimeout(testTimeout), WithRetries(0)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// serve starts a server for a zone holding records.
func serve(t *testing.T, records ...string) (*resolvertest.Zone, *resolvertest.Server) {
	t.Helper()
	z := resolvertest.NewZone()
	z.MustAdd(t, records...)
	return z, resolvertest.Start(t, z)
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// asError fails the test unless err is an *Error of the given kind.
func asError(t *testing.T, err error, kind error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error %v: kind %v, want %v", err, e.Kind, kind)
	}
	return e
}

// deadServer returns a loopback UDP address nobody listens on, so queries
// to it fail at once with "connection refused".
func deadServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

// silentServer returns a loopback UDP address that accepts queries but
// never answers, like a resolver that has gone away behind a firewall.
func silentServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String()
}

// fakeServer answers each UDP query with whatever respond returns (nil: no
// reply), for replies no well-behaved server would send.
func fakeServer(t *testing.T, respond func(query []byte) [][]byte) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return fakeServerOn(t, pc, respond)
}

// fakeServerOn is fakeServer on a socket of the caller's.
func fakeServerOn(t *testing.T, pc net.PacketConn, respond func(query []byte) [][]byte) string {
	done := make(chan struct{})
	t.Cleanup(func() {
		pc.Close()
		<-done
	})
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			for _, out := range respond(append([]byte(nil), buf[:n]...)) {
				_, _ = pc.WriteTo(out, from)
			}
		}
	}()
	return pc.LocalAddr().String()
}
