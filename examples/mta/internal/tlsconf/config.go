package tlsconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync/atomic"
	"time"

	"github.com/mailpolicy/mailpolicy/ocsp"
)

// Config is the inbound TLS part of the MTA's configuration, in Exim's
// terms. Certificates is the only field required.
type Config struct {
	// Certificates is tls_certificate: PEM files, each holding a leaf
	// certificate first and then its chain. The first is the default,
	// served to clients whose SNI names none of them.
	Certificates []string
	// PrivateKeys is tls_privatekey, one PEM file per certificate. An
	// empty entry, or a list shorter than Certificates, means the key
	// is in the certificate's own file.
	PrivateKeys []string
	// OCSPFiles is tls_ocsp_file, an Exim list (ocsp.ParseFileList)
	// whose n-th element holds the staple for the n-th certificate.
	// A file that does not exist yet staples nothing.
	OCSPFiles string
	// Refresh keeps each OCSPFiles element fresh from its certificate's
	// OCSP responder (the AIA URL, or Responder) while Run runs; the
	// file is the fallback when the responder fails.
	Refresh bool
	// Responder overrides the AIA URL of every certificate (mainly for
	// tests and for private CAs).
	Responder string
	// MinVersion is the lowest TLS version accepted; 0 means TLS 1.2.
	MinVersion uint16
	// Logf receives warnings and the reasons a staple is not served;
	// nil discards them.
	Logf func(format string, args ...any)
	// Fetcher asks the responders; nil means a zero ocsp.Fetcher (with
	// Now below).
	Fetcher *ocsp.Fetcher
	// Now replaces time.Now for the OCSP dates; Sleep replaces the
	// refreshers' timer (ocsp.Refresher.Sleep). Both are for tests.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// ConfigError is a problem found by New, naming the Exim option and the
// file it concerns.
type ConfigError struct {
	Option string // tls_certificate, tls_privatekey or tls_ocsp_file
	File   string // "" when the problem is the option's value itself
	Err    error
}

func (e *ConfigError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("%s: %v", e.Option, e.Err)
	}
	return fmt.Sprintf("%s %q: %v", e.Option, e.File, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// Server is a loaded Config: the certificates with their keys and the
// stapler that serves their OCSP responses. It is safe for concurrent
// use.
type Server struct {
	certs   []tls.Certificate
	paths   []string            // tls_certificate files, for messages
	issuers []*x509.Certificate // the leaf's issuer from its chain, or nil
	files   []ocsp.FileSpec
	stapler *ocsp.Stapler
	base    *tls.Config

	refresh   bool
	responder string
	fetcher   *ocsp.Fetcher
	now       func() time.Time
	sleep     func(context.Context, time.Duration) error
	logf      func(string, ...any)
	running   atomic.Bool
}

// New loads and checks cfg: every certificate and key must load and
// match, the tls_ocsp_file list must parse, and each element must be
// readable or not exist yet. With Refresh, every certificate that has
// an OCSP file needs its issuer in its chain and a responder URL.
func New(cfg Config) (*Server, error) {
	s := &Server{
		refresh:   cfg.Refresh,
		responder: cfg.Responder,
		fetcher:   cfg.Fetcher,
		now:       cfg.Now,
		sleep:     cfg.Sleep,
		logf:      cfg.Logf,
	}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.fetcher == nil {
		s.fetcher = &ocsp.Fetcher{Now: cfg.Now}
	}
	minVersion := cfg.MinVersion
	if minVersion == 0 {
		minVersion = tls.VersionTLS12
	}
	if minVersion < tls.VersionTLS10 || minVersion > tls.VersionTLS13 {
		return nil, fmt.Errorf("tlsconf: MinVersion %#04x is not a TLS version", minVersion)
	}

	if len(cfg.Certificates) == 0 {
		return nil, &ConfigError{Option: "tls_certificate", Err: errors.New("no certificate files")}
	}
	if len(cfg.PrivateKeys) > len(cfg.Certificates) {
		return nil, &ConfigError{Option: "tls_privatekey",
			Err: fmt.Errorf("%d key files for %d certificates", len(cfg.PrivateKeys), len(cfg.Certificates))}
	}
	for i, certPath := range cfg.Certificates {
		keyPath := ""
		if i < len(cfg.PrivateKeys) {
			keyPath = cfg.PrivateKeys[i]
		}
		c, err := loadPair(certPath, keyPath)
		if err != nil {
			return nil, err
		}
		if now := s.now(); now.After(c.Leaf.NotAfter) || now.Before(c.Leaf.NotBefore) {
			s.logf("tlsconf: tls_certificate %q: not valid now (valid %s to %s)",
				certPath, c.Leaf.NotBefore.Format(time.RFC3339), c.Leaf.NotAfter.Format(time.RFC3339))
		}
		s.certs = append(s.certs, c)
		s.paths = append(s.paths, certPath)
		s.issuers = append(s.issuers, issuerOf(c))
	}

	files, err := ocsp.ParseFileList(cfg.OCSPFiles)
	if err != nil {
		return nil, &ConfigError{Option: "tls_ocsp_file", Err: err}
	}
	s.files = files
	if len(files) > len(s.certs) {
		// Exim ignores the surplus too; the stapler still reads them.
		s.logf("tlsconf: tls_ocsp_file has %d files for %d certificates; the extra ones refresh nothing",
			len(files), len(s.certs))
	}
	for i, f := range files {
		if err := checkReadable(f.Path); err != nil {
			return nil, &ConfigError{Option: "tls_ocsp_file", File: f.Path, Err: err}
		}
		if i >= len(s.certs) {
			continue
		}
		// Without the issuer no response can be verified, so the file
		// could never be stapled: say so now rather than never.
		if s.issuers[i] == nil {
			return nil, &ConfigError{Option: "tls_certificate", File: s.paths[i],
				Err: fmt.Errorf("the issuer of the leaf is not in the file; tls_ocsp_file %q needs it to check responses", f.Path)}
		}
		if cfg.Refresh && cfg.Responder == "" {
			if _, err := ocsp.ResponderURL(s.certs[i].Leaf); err != nil {
				return nil, &ConfigError{Option: "tls_certificate", File: s.paths[i],
					Err: fmt.Errorf("no OCSP responder URL in the certificate to refresh tls_ocsp_file %q from", f.Path)}
			}
		}
	}

	s.stapler, err = ocsp.NewStapler(ocsp.StaplerConfig{
		Certificates: s.certs,
		Files:        cfg.OCSPFiles,
		Now:          cfg.Now,
		Logf:         s.logf,
	})
	if err != nil {
		return nil, &ConfigError{Option: "tls_ocsp_file", Err: err}
	}
	s.base = &tls.Config{
		MinVersion:     minVersion,
		GetCertificate: s.stapler.GetCertificate,
	}
	return s, nil
}

// checkReadable accepts a file that can be read or does not exist (the
// refresher, or the operator, may create it later).
func checkReadable(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return errors.New("is a directory")
	}
	return nil
}

// TLSConfig returns a new server configuration: SNI picks the
// certificate (the first one whose names match and whose key the client
// supports, else the first), stapled with that certificate's current
// OCSP response. Callers may change the copy.
func (s *Server) TLSConfig() *tls.Config { return s.base.Clone() }
