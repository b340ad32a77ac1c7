package tlsconf

import (
	"context"
	"errors"
	"sync"

	"github.com/mailpolicy/mailpolicy/ocsp"
)

// Run keeps the tls_ocsp_file elements fresh, one ocsp.Refresher per
// certificate that has one, until ctx ends; it then waits for them all
// and returns ctx.Err(). Without Config.Refresh, or with no OCSP file
// for any certificate, it returns nil at once. The stapler sees each
// new file at the next handshake; while a responder fails, the file
// already there goes on being stapled for as long as it is valid.
func (s *Server) Run(ctx context.Context) error {
	var rs []*ocsp.Refresher
	if s.refresh {
		for i, f := range s.files {
			if i >= len(s.certs) {
				break
			}
			rs = append(rs, s.refresher(i, f))
		}
	}
	if len(rs) == 0 {
		return nil
	}
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("tlsconf: Run is already running")
	}
	defer s.running.Store(false)
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Go(func() { _ = r.Run(ctx) }) // Run ends only with ctx
	}
	wg.Wait()
	return ctx.Err()
}

func (s *Server) refresher(i int, f ocsp.FileSpec) *ocsp.Refresher {
	path := s.paths[i]
	return &ocsp.Refresher{
		Fetcher:   s.fetcher,
		Cert:      s.certs[i].Leaf,
		Issuer:    s.issuers[i],
		Responder: s.responder,
		Path:      f.Path,
		PEM:       f.PEM,
		Sleep:     s.sleep,
		Now:       s.now,
		Logf:      s.logf,
		OnUpdate: func(got *ocsp.Fetched) {
			s.logf("tlsconf: tls_ocsp_file %q for tls_certificate %q refreshed from %s: %s, next update %s",
				f.Path, path, got.Responder, got.Status, got.NextUpdate.Format("2006-01-02T15:04:05Z07:00"))
		},
	}
}
