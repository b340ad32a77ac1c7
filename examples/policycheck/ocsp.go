package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/mailpolicy/mailpolicy/ocsp"
)

func init() {
	register(&command{
		name:    "ocsp-fetch",
		summary: "fetch and verify an OCSP response and write it atomically as a tls_ocsp_file",
		run:     runOCSPFetch,
	})
}

func runOCSPFetch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newFlagSet("ocsp-fetch", "-cert FILE -issuer FILE -out FILE [flags]", stdout, stderr)
	var (
		certPath   = f.String("cert", "", "server certificate `FILE`, PEM or DER; the first certificate is used (required)")
		issuerPath = f.String("issuer", "", "issuer certificate `FILE`, PEM or DER (required)")
		outPath    = f.String("out", "", "response `FILE` to write, replaced atomically (required)")
		respURL    = f.String("url", "", "responder `URL` (default: the certificate's AIA OCSP URL)")
		timeout    = f.Duration("timeout", 10*time.Second, "overall `duration` of the request")
		asPEM      = f.Bool("pem", false, "write the response as PEM (for a \"PEM \" tls_ocsp_file element) instead of DER")
		noNext     = f.Bool("allow-no-next-update", false, "accept a response without nextUpdate, as Exim does")
		asJSON     = f.Bool("json", false, "print one JSON object instead of name=value lines")
	)
	if code, ok := f.parse(args); !ok {
		return code
	}
	if code, ok := f.noArgs(); !ok {
		return code
	}
	if code, ok := f.require("cert", "issuer", "out"); !ok {
		return code
	}
	if *timeout <= 0 {
		return f.usageError("-timeout: must be positive, not %v", *timeout)
	}
	cert, err := readCertFile(*certPath)
	if err != nil {
		return f.usageError("-cert: %v", err)
	}
	issuer, err := readCertFile(*issuerPath)
	if err != nil {
		return f.usageError("-issuer: %v", err)
	}
	if *respURL == "" {
		if _, err := ocsp.ResponderURL(cert); err != nil {
			return f.usageError("-url not given and %v", err)
		}
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	fetcher := &ocsp.Fetcher{Client: &http.Client{}, AcceptMissingNextUpdate: *noNext}
	got, err := fetcher.Fetch(ctx, cert, issuer, *respURL)
	if err != nil {
		fmt.Fprintf(stderr, "policycheck ocsp-fetch: %s\n", oneLine(err.Error()))
		return exitFailed
	}
	if err := ocsp.WriteFile(*outPath, got.Raw, *asPEM); err != nil {
		fmt.Fprintf(stderr, "policycheck ocsp-fetch: writing %s: %v\n", *outPath, err)
		return exitFailed
	}
	if err := writeVars(stdout, ocspVariables(got), *asJSON); err != nil {
		fmt.Fprintf(stderr, "policycheck ocsp-fetch: writing output: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// ocspVariables lists what ocsp-fetch prints; times are RFC 3339 UTC,
// empty when absent.
func ocspVariables(r *ocsp.Fetched) []variable {
	return []variable{
		{"ocsp_status", r.Status.String()},
		{"ocsp_this_update", utcTime(r.ThisUpdate)},
		{"ocsp_next_update", utcTime(r.NextUpdate)},
		{"ocsp_responder", r.Responder},
	}
}

// readCertFile reads the first certificate of a PEM or DER file.
func readCertFile(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
	c, err := x509.ParseCertificate(data)
	if err != nil {
		return nil, fmt.Errorf("%s: no certificate found", path)
	}
	return c, nil
}
