package ocsp

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	xocsp "golang.org/x/crypto/ocsp"
)

// maxResponseSize bounds what a responder may send.
const maxResponseSize = 1 << 20

// maxGETLen is the longest GET URL used (RFC 5019 §5: requests that
// encode to under 255 bytes should use GET).
const maxGETLen = 255

// Fetcher asks OCSP responders for responses. The zero value is ready
// to use.
type Fetcher struct {
	// Client sends the requests; nil means http.DefaultClient.
	Client *http.Client
	// Now replaces time.Now.
	Now func() time.Time
	// Skew is the clock-skew allowance (0 means DefaultSkew).
	Skew time.Duration
	// AcceptMissingNextUpdate accepts responses without nextUpdate.
	AcceptMissingNextUpdate bool
}

// Fetched is a verified response and where it came from.
type Fetched struct {
	*Response
	Responder string // the URL asked
}

// ResponderURL returns the first OCSP URL in cert's Authority
// Information Access extension.
func ResponderURL(cert *x509.Certificate) (string, error) {
	for _, u := range cert.OCSPServer {
		if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
			return u, nil
		}
	}
	return "", errors.New("ocsp: certificate has no OCSP responder URL")
}

// Fetch asks the responder at responder (or, when it is "", cert's AIA
// OCSP URL) about cert, verifies the answer as a response for cert from
// issuer (signed by issuer or a delegated responder it certified), and
// checks its dates. A revoked or unknown status is a result, not an
// error.
func (f *Fetcher) Fetch(ctx context.Context, cert, issuer *x509.Certificate, responder string) (*Fetched, error) {
	if responder == "" {
		var err error
		if responder, err = ResponderURL(cert); err != nil {
			return nil, err
		}
	}
	req, err := xocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		return nil, fmt.Errorf("ocsp: building request: %v", err)
	}
	hreq, err := newHTTPRequest(ctx, responder, req)
	if err != nil {
		return nil, err
	}
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("ocsp: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize+1))
	if err != nil {
		return nil, fmt.Errorf("ocsp: reading response from %s: %v", responder, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("ocsp: responder %s: HTTP status %s", responder, resp.Status)
	}
	if len(body) > maxResponseSize {
		return nil, fmt.Errorf("ocsp: responder %s: response too large", responder)
	}
	r, err := f.Verify(body, cert, issuer)
	if err != nil {
		return nil, fmt.Errorf("ocsp: responder %s: %v", responder, err)
	}
	return &Fetched{Response: r, Responder: responder}, nil
}

// Verify checks der as a response for cert from issuer, as Fetch does.
func (f *Fetcher) Verify(der []byte, cert, issuer *x509.Certificate) (*Response, error) {
	p, err := parseRaw(der)
	if err != nil {
		return nil, err
	}
	r, err := verify(p, cert, issuer)
	if err != nil {
		return nil, err
	}
	now, skew := time.Now, f.Skew
	if f.Now != nil {
		now = f.Now
	}
	if skew == 0 {
		skew = DefaultSkew
	}
	if err := r.checkTime(now(), skew, !f.AcceptMissingNextUpdate); err != nil {
		return nil, err
	}
	return r, nil
}

// newHTTPRequest uses GET when the URL stays short, else POST.
func newHTTPRequest(ctx context.Context, responder string, der []byte) (*http.Request, error) {
	enc := url.PathEscape(base64.StdEncoding.EncodeToString(der))
	get := strings.TrimSuffix(responder, "/") + "/" + enc
	if len(get) <= maxGETLen {
		r, err := http.NewRequestWithContext(ctx, http.MethodGet, get, nil)
		if err != nil {
			return nil, fmt.Errorf("ocsp: %v", err)
		}
		return r, nil
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, responder, bytes.NewReader(der))
	if err != nil {
		return nil, fmt.Errorf("ocsp: %v", err)
	}
	r.Header.Set("Content-Type", "application/ocsp-request")
	r.Header.Set("Accept", "application/ocsp-response")
	return r, nil
}

// WriteFile replaces path with der atomically (a temporary file in the
// same directory, synced, then renamed over path), as DER or, with
// asPEM, as one "OCSP RESPONSE" PEM block. A Stapler reading path sees
// the old or the new response, never a mix.
func WriteFile(path string, der []byte, asPEM bool) error {
	data := der
	if asPEM {
		data = pem.EncodeToMemory(&pem.Block{Type: "OCSP RESPONSE", Bytes: der})
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(name, 0o644)
	}
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		os.Remove(name)
	}
	return err
}
