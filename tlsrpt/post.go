package tlsrpt

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// PostError is an HTTPS report destination that did not take the
// report: it answered with a status other than 2xx (a redirect
// included: RFC 8460 §5.4 is silent on them, and following one would
// send the report somewhere the domain's record does not name).
type PostError struct {
	URL        string
	StatusCode int
	Status     string
	Body       string // the start of the response body, for the log
}

func (e *PostError) Error() string {
	msg := fmt.Sprintf("tlsrpt: POST %s: %s", e.URL, e.Status)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Temporary reports whether sending again later may work: server
// errors and 429 Too Many Requests.
func (e *PostError) Temporary() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
}

// maxErrorBody bounds what a failed POST's response body contributes to
// its error.
const maxErrorBody = 512

// Post sends rep to an https: rua destination as RFC 8460 §5.4 says: a
// POST of the gzip report with Content-Type application/tlsrpt+gzip.
// Any 2xx status is success; anything else is a *PostError. Redirects
// are not followed. c may be nil (http.DefaultClient's transport);
// cancelling ctx or its deadline ends the request, so the caller bounds
// the time through ctx.
func Post(ctx context.Context, c *http.Client, rawURL string, rep *Report) error {
	u, err := url.Parse(rawURL)
	if err != nil || !strings.EqualFold(u.Scheme, "https") || u.Host == "" {
		return fmt.Errorf("tlsrpt: %q is not an https URL", rawURL)
	}
	var body bytes.Buffer
	if err := rep.WriteGzip(&body); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, &body)
	if err != nil {
		return fmt.Errorf("tlsrpt: %w", err)
	}
	req.Header.Set("Content-Type", "application/tlsrpt+gzip")
	req.Header.Set("User-Agent", "mailpolicy-tlsrpt")
	var client http.Client
	if c != nil {
		client = *c
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("tlsrpt: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
		return nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return &PostError{
		URL:        rawURL,
		StatusCode: resp.StatusCode,
		Status:     resp.Status,
		Body:       strings.Join(strings.Fields(strings.ToValidUTF8(string(snippet), "?")), " "),
	}
}
