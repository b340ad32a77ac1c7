package config

import (
	"fmt"
)

func (c *checker) tls() {
	s := c.s
	for i, f := range s.TLSCertificate {
		c.readable(fmt.Sprintf("tls_certificate[%d]", i), f)
	}
	if len(s.TLSPrivateKey) > len(s.TLSCertificate) {
		c.bad("tls_privatekey", "%d keys for %d certificates (tls_certificate)", len(s.TLSPrivateKey), len(s.TLSCertificate))
	}
	for i, f := range s.TLSPrivateKey {
		// Exim: an empty key is "in the certificate file".
		if f != "" {
			c.readable(fmt.Sprintf("tls_privatekey[%d]", i), f)
		}
	}
	// OCSP files are not opened: Exim staples nothing rather than fail
	// when one is unusable, and with tls_ocsp_refresh the MTA writes
	// them.
	if files, err := s.OCSPFiles(); err != nil {
		c.bad("tls_ocsp_file", "%v", err)
	} else if len(files) > len(s.TLSCertificate) {
		c.bad("tls_ocsp_file", "%d files for %d certificates (tls_certificate)", len(files), len(s.TLSCertificate))
	}
	if s.TLSOCSPRefresh && len(s.TLSCertificate) == 0 {
		c.bad("tls_ocsp_refresh", "needs tls_certificate")
	}
	if s.SubmissionsListen != "" && len(s.TLSCertificate) == 0 {
		c.bad("submissions_listen", "needs tls_certificate (implicit TLS)")
	}
	if _, ok := tlsVersions[s.TLSMinVersion]; !ok {
		c.bad("tls_min_version", "%q: want \"1.2\" or \"1.3\"", s.TLSMinVersion)
	}
}

func (c *checker) auth() {
	s := c.s
	if s.AuthUsersFile != "" {
		c.readable("auth_users_file", s.AuthUsersFile)
		if len(s.TLSCertificate) == 0 && !s.AuthPlaintextLoopback {
			c.bad("auth_users_file", "AUTH is offered only after TLS: set tls_certificate, or auth_plaintext_loopback = true to offer it to loopback clients without TLS")
		}
	}
	c.positive("auth_max_failures", int64(s.AuthMaxFailures))
	c.positive("auth_failure_window", int64(s.AuthFailureWindow))
}
