package metrics_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/metrics"
)

// startServe runs Serve on a real loopback listener and returns its
// address, the cancel that stops it and the channel its result comes on.
func startServe(t *testing.T, m *metrics.Metrics) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx, ln) }()
	t.Cleanup(cancel)
	return ln.Addr().String(), cancel, done
}

// wait guards against a hang; it is not a timing assertion.
func wait(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after its context ended")
		return nil
	}
}

func get(t *testing.T, c *http.Client, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestServeEndpointsAndStop(t *testing.T) {
	before := runtime.NumGoroutine()
	m := metrics.New()
	m.Delivery("smtp", "bounced")
	addr, cancel, done := startServe(t, m)
	c := &http.Client{Transport: &http.Transport{}}
	base := "http://" + addr

	if code, body := get(t, c, "GET", base+"/healthz"); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	f := scrapeURL(t, c, base+"/metrics")
	if got := f.mustValue(t, "mta_deliveries_total", "transport", "smtp", "outcome", "bounced"); got != 1 {
		t.Errorf("deliveries over Serve = %v", got)
	}
	if code, _ := get(t, c, "GET", base+"/"); code != http.StatusNotFound {
		t.Errorf("GET / = %d, want 404", code)
	}
	if code, _ := get(t, c, "POST", base+"/metrics"); code != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics = %d, want 405", code)
	}

	cancel()
	if err := wait(t, done); err != nil {
		t.Errorf("Serve after cancel = %v, want nil", err)
	}
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Error("listener still accepts after Serve returned")
	}
	c.CloseIdleConnections()
	// Serve's goroutines (and the client's) wind down: poll, since the
	// runtime lets exiting goroutines go a moment after they are done.
	after := runtime.NumGoroutine()
	for i := 0; i < 500 && after > before; i++ {
		time.Sleep(10 * time.Millisecond)
		after = runtime.NumGoroutine()
	}
	if after > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before Serve, %d after:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}

// A client that opened a request and never finished its headers must not
// keep Serve from returning once its context ends.
func TestServeStopsWithStalledClient(t *testing.T) {
	m := metrics.New()
	addr, cancel, done := startServe(t, m)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /metrics HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := wait(t, done); err != nil {
		t.Errorf("Serve = %v, want nil", err)
	}
	// The server side closed the stalled connection.
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	// A close with the request unread may arrive as a reset: closed too.
	if _, err := io.ReadAll(conn); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("stalled connection not closed by the server: %v", err)
	}
}

func TestServeReturnsListenerError(t *testing.T) {
	m := metrics.New()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close() // Accept fails at once
	done := make(chan error, 1)
	go func() { done <- m.Serve(context.Background(), ln) }()
	if err := wait(t, done); err == nil {
		t.Error("Serve on a closed listener returned nil")
	}
}
