package ocsp

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// StaplerConfig configures NewStapler. Only Certificates is required.
type StaplerConfig struct {
	// Certificates is Exim's tls_certificate list, in order. Each
	// certificate's chain (Certificate[1:]) supplies its issuer.
	Certificates []tls.Certificate
	// Files is Exim's tls_ocsp_file value (ParseFileList): one file per
	// certificate, "PEM "/"DER " prefixes. Responses are pooled from
	// all files. "" staples nothing.
	Files string
	// Issuers adds issuer certificates for certificates whose chain in
	// tls_certificate does not include them (Exim's
	// tls_verify_certificates used as a signer store).
	Issuers []*x509.Certificate
	// AcceptMissingNextUpdate staples responses without nextUpdate, as
	// Exim with OpenSSL does. By default they are not stapled (what
	// Exim's documentation says).
	AcceptMissingNextUpdate bool
	// Now replaces time.Now; Skew is the clock-skew allowance for
	// thisUpdate and nextUpdate (0 means DefaultSkew, Exim's 300 s).
	Now  func() time.Time
	Skew time.Duration
	// Logf receives the reasons for not stapling (unreadable files,
	// invalid or expired responses); nil discards them.
	Logf func(format string, args ...any)
}

// Stapler staples OCSP responses from Exim-style tls_ocsp_file lists.
// It is safe for concurrent use; every handshake sees the current
// files: each call stats them and reloads when one changed (a file
// replaced by rename is picked up whole).
type Stapler struct {
	certs        []tls.Certificate
	leaves       []*x509.Certificate
	issuers      [][]*x509.Certificate // candidate issuers per cert
	files        []FileSpec
	logf         func(string, ...any)
	now          func() time.Time
	skew         time.Duration
	acceptNoNext bool
	extraIssuers []*x509.Certificate

	mu    sync.Mutex // serialises reloads
	state atomic.Pointer[staplerState]
}

type fileStamp struct {
	info os.FileInfo // nil when the file could not be read
}

type staplerState struct {
	stamps []fileStamp
	// cands[i] are the verified good responses for certs[i], in list
	// order; only their dates remain to be checked per handshake.
	cands  [][]*Response
	logged sync.Map // reason text → struct{}, so each is logged once per load
}

// NewStapler checks cfg (the file list must parse, the certificates
// too) and returns a Stapler for it. A certificate is stapled with the
// first valid response, from any of the files, whose CertID names its
// serial number and issuer.
func NewStapler(cfg StaplerConfig) (*Stapler, error) {
	files, err := ParseFileList(cfg.Files)
	if err != nil {
		return nil, err
	}
	certs := cfg.Certificates
	if len(certs) == 0 {
		return nil, errors.New("ocsp: no certificates")
	}
	s := &Stapler{
		certs:        certs,
		files:        files,
		logf:         cfg.Logf,
		now:          cfg.Now,
		skew:         cfg.Skew,
		acceptNoNext: cfg.AcceptMissingNextUpdate,
		extraIssuers: cfg.Issuers,
	}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.skew == 0 {
		s.skew = DefaultSkew
	}
	for i := range certs {
		c := &certs[i]
		if len(c.Certificate) == 0 {
			return nil, fmt.Errorf("ocsp: certificate %d is empty", i+1)
		}
		leaf := c.Leaf
		if leaf == nil {
			if leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
				return nil, fmt.Errorf("ocsp: certificate %d: %v", i+1, err)
			}
		}
		var iss []*x509.Certificate
		for _, der := range c.Certificate[1:] {
			if ic, err := x509.ParseCertificate(der); err == nil {
				iss = append(iss, ic)
			}
		}
		iss = append(iss, s.extraIssuers...)
		var signers []*x509.Certificate
		for _, ic := range iss {
			if leaf.CheckSignatureFrom(ic) == nil {
				signers = append(signers, ic)
			}
		}
		s.leaves = append(s.leaves, leaf)
		s.issuers = append(s.issuers, signers)
	}
	s.reload()
	return s, nil
}

// stat returns the current stamps of the files.
func (s *Stapler) stat() []fileStamp {
	st := make([]fileStamp, len(s.files))
	for i, f := range s.files {
		if fi, err := os.Stat(f.Path); err == nil {
			st[i].info = fi
		}
	}
	return st
}

func sameStamps(a, b []fileStamp) bool {
	for i := range a {
		x, y := a[i].info, b[i].info
		if x == nil || y == nil {
			if x != y {
				return false
			}
			continue
		}
		if !os.SameFile(x, y) || x.Size() != y.Size() || !x.ModTime().Equal(y.ModTime()) {
			return false
		}
	}
	return true
}

// reload reads every file and installs the result.
func (s *Stapler) reload() *staplerState {
	st := &staplerState{stamps: s.stat(), cands: make([][]*Response, len(s.certs))}
	var pool []*parsed
	for _, f := range s.files {
		ps, errs := loadFile(f)
		for _, e := range errs {
			s.logf("ocsp: %v", e)
		}
		pool = append(pool, ps...)
	}
	for i, leaf := range s.leaves {
		for _, p := range pool {
			for _, iss := range s.issuers[i] {
				if p.find(leaf, iss) < 0 {
					continue
				}
				r, err := verify(p, leaf, iss)
				switch {
				case err != nil:
					s.logf("ocsp: response for certificate %d (serial %x) not stapled: %v", i+1, leaf.SerialNumber, err)
				case r.Status != Good:
					s.logf("ocsp: response for certificate %d (serial %x) not stapled: status %s", i+1, leaf.SerialNumber, r.Status)
				default:
					st.cands[i] = append(st.cands[i], r)
				}
				break
			}
		}
	}
	s.state.Store(st)
	return st
}

// current returns the loaded state, reloading when a file changed.
func (s *Stapler) current() *staplerState {
	st := s.state.Load()
	now := s.stat()
	if sameStamps(st.stamps, now) {
		return st
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st = s.state.Load(); sameStamps(st.stamps, s.stat()) {
		return st
	}
	return s.reload()
}

// Staple returns the response to staple for the i-th certificate now, or
// nil.
func (s *Stapler) Staple(i int) []byte {
	if i < 0 || i >= len(s.certs) {
		return nil
	}
	st := s.current()
	now := s.now()
	var reason error
	for _, r := range st.cands[i] {
		err := r.checkTime(now, s.skew, !s.acceptNoNext)
		if err == nil {
			return r.Raw
		}
		reason = err
	}
	if reason == nil {
		reason = errors.New("no response loaded")
	}
	msg := fmt.Sprintf("ocsp: certificate %d (serial %x) not stapled: %v", i+1, s.leaves[i].SerialNumber, reason)
	if _, dup := st.logged.LoadOrStore(msg, struct{}{}); !dup {
		s.logf("%s", msg)
	}
	return nil
}

// GetCertificate is for tls.Config.GetCertificate: it picks the first
// certificate the client supports (else the first one) and returns a
// copy carrying the current staple, if any.
func (s *Stapler) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	pick := 0
	for i := range s.certs {
		if hello == nil || hello.SupportsCertificate(&s.certs[i]) == nil {
			pick = i
			break
		}
	}
	c := s.certs[pick]
	c.OCSPStaple = s.Staple(pick)
	return &c, nil
}
