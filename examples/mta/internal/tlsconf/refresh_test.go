package tlsconf

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	xocsp "golang.org/x/crypto/ocsp"
)

// responder is an OCSP responder on 127.0.0.1 answering for issuer,
// or failing with HTTP 500 while fail is set.
type responder struct {
	mu      sync.Mutex
	issuer  *testCert
	fail    bool
	last    []byte     // the last response sent
	serials []*big.Int // every serial asked about
}

func (r *responder) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	var body []byte
	var err error
	if hr.Method == http.MethodGet {
		s := strings.TrimPrefix(hr.URL.EscapedPath(), "/")
		if u, uerr := url.PathUnescape(s); uerr == nil {
			s = u
		}
		body, err = base64.StdEncoding.DecodeString(s)
	} else {
		body, err = io.ReadAll(hr.Body)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req, err := xocsp.ParseRequest(body)
	if err != nil {
		w.Write(xocsp.MalformedRequestErrorResponse)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.serials = append(r.serials, req.SerialNumber)
	if r.fail {
		http.Error(w, "responder down", http.StatusInternalServerError)
		return
	}
	der, err := mkRespErr(req.SerialNumber, r.issuer, respOpts{})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	r.last = der
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(der)
}

func (r *responder) state() (last []byte, serials []*big.Int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last, append([]*big.Int(nil), r.serials...)
}

// stepSleep is a Refresher Sleep that reports each wait on slept and
// returns when released (or ctx ends), so the test drives the loop.
type stepSleep struct {
	slept   chan time.Duration
	release chan struct{}
}

func newStepSleep() *stepSleep {
	return &stepSleep{slept: make(chan time.Duration, 8), release: make(chan struct{})}
}

func (s *stepSleep) sleep(ctx context.Context, d time.Duration) error {
	s.slept <- d
	select {
	case <-s.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *stepSleep) wait(t *testing.T) {
	t.Helper()
	select {
	case <-s.slept:
	case <-time.After(30 * time.Second):
		t.Fatal("the refresher never got to its wait")
	}
}

func TestRefresh(t *testing.T) {
	rsp := &responder{}
	srv := httptest.NewServer(rsp)
	t.Cleanup(srv.Close)
	p := newPKI(t, srv.URL)
	rsp.mu.Lock()
	rsp.issuer = p.inter
	rsp.mu.Unlock()

	l := writeLayout(t, p)
	cfg := l.config()
	ocspPath := l.dir + "/mx.ocsp.pem"
	cfg.OCSPFiles = "PEM " + ocspPath // only the first certificate has a file
	cfg.Refresh = true
	st := newStepSleep()
	cfg.Sleep = st.sleep
	var lg logs
	cfg.Logf = lg.logf
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cs, _ := dial(t, s.TLSConfig(), p.pool, "mx.example", 0); cs.OCSPResponse != nil {
		t.Fatal("stapled before any file exists")
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()

	// No file: the first fetch is at once, then the refresher waits.
	st.wait(t)
	fetched, _ := rsp.state()
	if fetched == nil {
		t.Fatal("responder not asked")
	}
	data, err := os.ReadFile(ocspPath)
	if err != nil || !bytes.HasPrefix(data, []byte("-----BEGIN OCSP RESPONSE-----")) {
		t.Fatalf("file not written as PEM: %v %.40q", err, data)
	}
	if cs, _ := dial(t, s.TLSConfig(), p.pool, "mx.example", 0); !bytes.Equal(cs.OCSPResponse, fetched) {
		t.Fatalf("fetched response not stapled (%d bytes): %q", len(cs.OCSPResponse), lg.lines)
	}
	if !lg.contains("refreshed from " + srv.URL) {
		t.Errorf("update not logged: %q", lg.lines)
	}
	if err := s.Run(ctx); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("second concurrent Run: %v, want an error", err)
	}

	// The responder fails: the file stays and is still stapled.
	rsp.mu.Lock()
	rsp.fail = true
	rsp.mu.Unlock()
	st.release <- struct{}{}
	st.wait(t) // the retry's backoff: the failed fetch is done
	if !lg.contains("500") {
		t.Errorf("failure not logged: %q", lg.lines)
	}
	if cs, _ := dial(t, s.TLSConfig(), p.pool, "mx.example", 0); !bytes.Equal(cs.OCSPResponse, fetched) {
		t.Fatal("file's response not stapled after the responder failed")
	}

	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	_, serials := rsp.state()
	if len(serials) != 2 {
		t.Errorf("%d requests, want 2 (one fetch, one failure)", len(serials))
	}
	for _, sn := range serials {
		if sn.Cmp(p.mx.cert.SerialNumber) != 0 {
			t.Errorf("asked about serial %v: only mx.example has an OCSP file", sn)
		}
	}
}

func TestRunWithoutRefresh(t *testing.T) {
	p := newPKI(t, "")
	l := writeLayout(t, p)
	cfg := l.config()
	cfg.OCSPFiles = l.dir + "/mx.ocsp"
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Returns at once, ctx still live: nothing to refresh.
	if err := s.Run(context.Background()); err != nil {
		t.Errorf("Run without Refresh: %v", err)
	}
}
