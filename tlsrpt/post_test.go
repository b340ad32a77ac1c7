package tlsrpt

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
)

func TestPost(t *testing.T) {
	rep := sampleRecorder(t).Reports(day(2026, 3, 14), day(2026, 3, 15), testOrg)[0]
	var got *Report
	var redirected atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/tlsrpt", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/tlsrpt+gzip" {
			http.Error(w, "wrong request", http.StatusBadRequest)
			return
		}
		var err error
		if got, err = Parse(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		redirected.Add(1)
	})
	mux.HandleFunc("/busy", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "try\r\nlater "+strings.Repeat("x", 2000), http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/refuse", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	client := srv.Client() // trusts the server's test certificate
	ctx := context.Background()

	if err := Post(ctx, client, srv.URL+"/tlsrpt", rep); err != nil {
		t.Fatalf("Post: %v", err)
	}
	want := *rep
	want.Submitter = ""
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("server got %+v, want %+v", got, &want)
	}

	var pe *PostError
	err := Post(ctx, client, srv.URL+"/moved", rep)
	if !errors.As(err, &pe) || pe.StatusCode != http.StatusTemporaryRedirect || pe.Temporary() {
		t.Errorf("redirect: %v", err)
	}
	if redirected.Load() != 0 {
		t.Error("the redirect was followed")
	}
	if client.CheckRedirect != nil {
		t.Error("Post changed the caller's client")
	}
	err = Post(ctx, client, srv.URL+"/busy", rep)
	if !errors.As(err, &pe) || pe.StatusCode != 503 || !pe.Temporary() {
		t.Errorf("503: %v", err)
	}
	if len(pe.Body) > maxErrorBody || strings.ContainsAny(pe.Error(), "\r\n") {
		t.Errorf("503 error %q", pe.Error())
	}
	err = Post(ctx, client, srv.URL+"/refuse", rep)
	if !errors.As(err, &pe) || pe.StatusCode != 403 || pe.Temporary() || pe.Body != "no" {
		t.Errorf("403: %v", err)
	}

	// The default client does not trust the test CA: a real handshake
	// that fails.
	if err := Post(ctx, nil, srv.URL+"/tlsrpt", rep); err == nil || errors.As(err, &pe) {
		t.Errorf("Post with an untrusting client = %v", err)
	}
	for _, u := range []string{strings.Replace(srv.URL, "https:", "http:", 1) + "/tlsrpt", "mailto:a@b.example", "https:///x", "::"} {
		if err := Post(ctx, client, u, rep); err == nil || !strings.Contains(err.Error(), "not an https URL") {
			t.Errorf("Post(%q) = %v", u, err)
		}
	}
}

func TestPostCancel(t *testing.T) {
	started, hold := make(chan struct{}), make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		close(started)
		<-hold // hangs until the test is over, whatever the request's context does
	}))
	defer srv.Close()
	defer close(hold) // before Close, which waits for the handler
	rep := sampleRecorder(t).Reports(day(2026, 3, 14), day(2026, 3, 15), testOrg)[0]
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	if err := Post(ctx, srv.Client(), srv.URL, rep); !errors.Is(err, context.Canceled) {
		t.Errorf("Post on a hung server, cancelled = %v", err)
	}
}
