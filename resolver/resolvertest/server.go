package resolvertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Server serves a Zone on 127.0.0.1 over UDP and TCP on the same port, so
// one address exercises a client's truncation fallback.
type Server struct {
	Addr string // "127.0.0.1:port"
	Zone *Zone

	udp, tcp  *dns.Server
	running   []*dns.Server
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// bindAttempts bounds the search for a port free for both protocols; the
// UDP port the kernel picks is usually free for TCP too.
const bindAttempts = 20

// Start serves z until the test ends.
func Start(tb testing.TB, z *Zone) *Server {
	tb.Helper()
	s, err := NewServer(z)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("resolvertest: closing server: %v", err)
		}
	})
	return s
}

// NewServer serves z until Close. Queries are answered from the zone as
// it is at the time of each query.
func NewServer(z *Zone) (*Server, error) {
	if z == nil {
		return nil, errors.New("resolvertest: nil zone")
	}
	pc, l, err := listenPair()
	if err != nil {
		return nil, err
	}
	h := handler{zone: z}
	s := &Server{
		Addr: pc.LocalAddr().String(),
		Zone: z,
		udp:  &dns.Server{PacketConn: pc, Handler: h},
		tcp:  &dns.Server{Listener: l, Handler: h},
	}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		// Close must not run before the server is marked started, or
		// miekg/dns refuses to shut it down.
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		errc := make(chan error, 1)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			errc <- srv.ActivateAndServe()
		}()
		select {
		case <-started:
			s.running = append(s.running, srv)
		case err := <-errc:
			_ = s.Close()
			_ = pc.Close()
			_ = l.Close()
			return nil, fmt.Errorf("resolvertest: serving: %w", err)
		}
	}
	return s, nil
}

// listenPair binds UDP on a random loopback port and TCP on the same one.
func listenPair() (net.PacketConn, net.Listener, error) {
	var lastErr error
	for range bindAttempts {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, fmt.Errorf("resolvertest: listening on UDP: %w", err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			return pc, l, nil
		}
		lastErr = err
		_ = pc.Close()
	}
	return nil, nil, fmt.Errorf("resolvertest: no port free for both UDP and TCP: %w", lastErr)
}

// shutdownTimeout bounds Close; handlers never block, so this is only
// reached if something is badly wrong.
const shutdownTimeout = 5 * time.Second

// Close stops the server and waits for its goroutines. It may be called
// more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		var errs []error
		for _, srv := range s.running {
			if err := srv.ShutdownContext(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		s.wg.Wait()
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
