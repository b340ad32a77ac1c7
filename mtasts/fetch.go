package mtasts

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// Defaults of a Fetcher. RFC 8461 §3.3 leaves the limits to the sender;
// 64 KiB is what postfix-mta-sts-resolver and mox allow, and a policy
// is a few hundred bytes.
const (
	DefaultMaxSize = 64 << 10
	DefaultTimeout = 30 * time.Second
)

// WellKnownPath is where the policy is, on host mta-sts.<domain>.
const WellKnownPath = "/.well-known/mta-sts.txt"

// Fetcher fetches policies over HTTPS (RFC 8461 §3.3): GET
// https://mta-sts.<domain>/.well-known/mta-sts.txt, the certificate
// PKIX-validated for that name, no redirects followed, only a 200 with
// Content-Type text/plain accepted, the body at most MaxSize, the whole
// fetch within Timeout. The zero value works; set the fields before
// the first Fetch (its HTTP client is built then) and do not change
// them afterwards. It is safe for concurrent use.
type Fetcher struct {
	// RootCAs are the trusted roots; nil: the system's.
	RootCAs *x509.CertPool
	// DialContext opens the TCP connection to addr ("mta-sts.<domain>:443");
	// nil: a net.Dialer. Tests point it at a server on loopback.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Timeout bounds a whole fetch, body included (0: DefaultTimeout).
	Timeout time.Duration
	// MaxSize bounds the body (0: DefaultMaxSize).
	MaxSize int64
	// Now is the time certificates are checked at (nil: time.Now).
	Now func() time.Time
	// UserAgent is sent when set.
	UserAgent string

	once   sync.Once
	client *http.Client
}

func (f *Fetcher) httpClient() *http.Client {
	f.once.Do(func() {
		tc := &tls.Config{RootCAs: f.RootCAs, MinVersion: tls.VersionTLS12, Time: f.Now}
		dial := f.DialContext
		if dial == nil {
			dial = (&net.Dialer{}).DialContext
		}
		t := &http.Transport{
			// The policy host is dialled directly: a proxy from the
			// environment would be a second party to trust.
			Proxy:                  nil,
			DialContext:            dial,
			TLSClientConfig:        tc,
			ForceAttemptHTTP2:      true,
			DisableCompression:     true, // the size limit is on what was sent
			DisableKeepAlives:      true, // fetches are rare; no idle connections to outlive them
			MaxResponseHeaderBytes: 32 << 10,
		}
		f.client = &http.Client{
			Transport: t,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	})
	return f.client
}

// Fetch fetches and parses domain's policy. Errors are *FetchError
// (a bad body: Reason ReasonPolicy wrapping a *SyntaxError), or wrap
// ErrInvalidDomain.
func (f *Fetcher) Fetch(ctx context.Context, domain string) (*Policy, error) {
	d, err := normalizeDomain(domain)
	if err != nil {
		return nil, err
	}
	url := "https://mta-sts." + d + WellKnownPath
	fail := func(r FetchReason, err error) (*Policy, error) {
		return nil, &FetchError{Domain: d, URL: url, Reason: r, Err: err}
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	max := f.MaxSize
	if max <= 0 {
		max = DefaultMaxSize
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fail(ReasonNetwork, err)
	}
	if f.UserAgent != "" {
		req.Header.Set("User-Agent", f.UserAgent)
	}
	resp, err := f.httpClient().Do(req)
	if err == nil && ctx.Err() != nil {
		// Headers that came in as the deadline passed are past it.
		resp.Body.Close()
		err = ctx.Err()
	}
	if err != nil {
		return fail(classify(ctx, err), err)
	}
	defer resp.Body.Close()
	fe := &FetchError{Domain: d, URL: url, StatusCode: resp.StatusCode}
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		fe.Reason, fe.Location = ReasonRedirect, resp.Header.Get("Location")
		return nil, fe
	case resp.StatusCode != http.StatusOK:
		fe.Reason = ReasonStatus
		return nil, fe
	}
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "text/plain" {
		fe.Reason, fe.ContentType = ReasonContentType, ct
		return nil, fe
	}
	if resp.ContentLength > max {
		fe.Reason = ReasonTooLarge
		return nil, fe
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err == nil && ctx.Err() != nil {
		// Cut off at the deadline, the connection closed under the
		// read may look like the end of the body: it is not one.
		err = ctx.Err()
	}
	if err != nil {
		fe.Reason, fe.Err = classify(ctx, err), err
		return nil, fe
	}
	if int64(len(body)) > max {
		fe.Reason = ReasonTooLarge
		return nil, fe
	}
	p, err := ParsePolicy(body)
	if err != nil {
		fe.Reason, fe.Err = ReasonPolicy, err
		return nil, fe
	}
	return p, nil
}

// classify says which kind of failure err from the HTTP client is.
func classify(ctx context.Context, err error) FetchReason {
	var (
		cve  *tls.CertificateVerificationError
		uae  x509.UnknownAuthorityError
		he   x509.HostnameError
		cie  x509.CertificateInvalidError
		rhe  tls.RecordHeaderError
		ae   tls.AlertError
		ne   net.Error
		erro *tls.ECHRejectionError
	)
	switch {
	case errors.As(err, &cve), errors.As(err, &uae), errors.As(err, &he), errors.As(err, &cie),
		errors.As(err, &rhe), errors.As(err, &ae), errors.As(err, &erro):
		return ReasonTLS
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded),
		errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return ReasonTimeout
	}
	return ReasonNetwork
}
