package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/config"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/mta"
)

// serve runs the server until ctx ends, then shuts it down gracefully.
func serve(ctx context.Context, s config.Settings, stdout, stderr io.Writer) int {
	a, err := build(s, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "mta: %v\n", err)
		return exitError
	}
	defer a.close()
	log := a.log
	if os.Getenv("GOMEMLIMIT") == "" {
		data := a.srv.SMTP().Config().MaxDataMemory
		limit := mta.MemoryLimit(data)
		debug.SetMemoryLimit(limit)
		log.Info("memory limit", "data", data, "gomemlimit", limit)
	}
	// Every listener is opened before anything is served, so that a
	// taken port is an error at start and not half a server.
	var lns []net.Listener
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	for _, l := range []struct{ key, addr string }{{"listen", s.Listen}, {"submissions_listen", s.SubmissionsListen}, {"metrics_listen", s.MetricsListen}} {
		if l.addr == "" {
			lns = append(lns, nil)
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			closeAll()
			fmt.Fprintf(stderr, "mta: %v\n", s.Blame(l.key, err))
			return exitError
		}
		lns = append(lns, ln)
	}
	smtpLn, subLn, metricsLn := lns[0], lns[1], lns[2]

	bg, stopBG := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	goBG := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	if a.tls != nil {
		goBG(func() { a.tls.Run(bg) })
	}
	if a.reports != nil {
		goBG(func() { a.reports.Run(bg) })
	}
	if a.mtasts != nil {
		goBG(func() { a.mtasts.RefreshEvery(bg, 0) })
	}
	if metricsLn != nil {
		goBG(func() {
			if err := a.metrics.Serve(bg, metricsLn); err != nil {
				log.Error("metrics", "err", err)
			}
		})
	}
	done := make(chan error, 2)
	goServe := func(f func(net.Listener) error, ln net.Listener) {
		goBG(func() { done <- f(ln) })
	}
	goServe(a.srv.Serve, smtpLn)
	if subLn != nil {
		goServe(a.srv.ServeTLS, subLn)
	}
	greet(stdout, s, smtpLn.Addr().String())

	code := exitOK
	select {
	case err = <-done:
		log.Error("serve", "err", err)
		code = exitError
	case <-ctx.Done():
		log.Info("shutting down", "timeout", s.ShutdownTimeout.String())
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.ShutdownTimeout)
	if err := a.srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown: sessions cut off", "err", err)
	}
	cancel()
	stopBG()
	wg.Wait()
	return code
}

// greet tells whoever started the server where it is and how to send
// it a message: the README's "run it" step ends here.
func greet(w io.Writer, s config.Settings, addr string) {
	rcpt := "postmaster@" + s.Domains[0]
	fmt.Fprintf(w, "mta: %s listening on %s for %s, delivering into %s\n", s.Hostname, addr, strings.Join(s.Domains, ", "), s.Maildir)
	fmt.Fprintf(w, "mta: send it a message with\n  printf 'HELO me\\r\\nMAIL FROM:<>\\r\\nRCPT TO:<%s>\\r\\nDATA\\r\\nSubject: hello\\r\\n\\r\\nhi\\r\\n.\\r\\nQUIT\\r\\n' | nc %s\n",
		rcpt, ncAddr(addr))
	fmt.Fprintf(w, "mta: or: swaks --server %s --to %s; then look in %s/new/\n", addr, rcpt, s.Maildir)
}

// ncAddr is addr as nc's arguments, "host port".
func ncAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host + " " + port
}
