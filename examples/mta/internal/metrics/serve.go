package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Limits of the metrics listener. A scrape is small and the listener is
// meant for a monitoring network, but it is still a socket: a client that
// trickles its headers (slowloris) or never reads must not hold a
// goroutine for ever.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 16 << 10
	handlerTimeout    = 20 * time.Second
	// shutdownGrace is how long Serve lets a scrape in progress finish
	// once ctx ends before it closes the connections.
	shutdownGrace = 5 * time.Second
)

// ErrNilMetrics is returned by Serve on a nil *Metrics: metrics are off
// and there is nothing to serve.
var ErrNilMetrics = errors.New("metrics: Serve on a nil *Metrics")

// Handler serves the registry in the Prometheus exposition formats. On a
// nil *Metrics it answers 404, as if no metrics were configured.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return m.handler
}

// mux is /metrics and /healthz; every other path is 404.
func (m *Metrics) mux() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// Serve answers /metrics and /healthz on ln until ctx ends, then shuts
// the server down, giving scrapes in progress a short grace before their
// connections are closed. It closes ln and returns nil after a stop by
// ctx, or the error that made serving fail; it leaves no goroutine behind.
func (m *Metrics) Serve(ctx context.Context, ln net.Listener) error {
	if m == nil {
		_ = ln.Close()
		return ErrNilMetrics
	}
	srv := &http.Server{
		Handler:           m.mux(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err // never http.ErrServerClosed: only Shutdown below causes that
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	<-done
	return nil
}
