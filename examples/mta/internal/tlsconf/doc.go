// Package tlsconf is the inbound TLS of the reference MTA: it loads the
// server certificates and keys, serves each certificate's OCSP staple,
// keeps the staples fresh from the responders, and names the TLS
// version and cipher for the Received header. The SMTP session owns
// the STARTTLS verb, tls_advertise_hosts and the implicit-TLS listener
// (submissions, port 465); it takes its *tls.Config from here.
//
// # Exim names
//
//	tls_certificate      Config.Certificates: PEM files, leaf then chain
//	tls_privatekey       Config.PrivateKeys: one per certificate; an empty
//	                     or missing entry means the certificate's file
//	tls_ocsp_file        Config.OCSPFiles: an Exim list, the n-th file for
//	                     the n-th certificate, "DER "/"PEM " prefixes
//	                     (ocsp.ParseFileList); a PEM file may hold several
//	                     responses
//	$tls_in_ver          VersionName ("TLS1.3")
//	$tls_in_cipher_std   CipherName ("TLS_AES_256_GCM_SHA384")
//	received_header_text Received gives its TLS part
//	tls_advertise_hosts  not here: the session's host list
//
// # Concept
//
// Exim with OpenSSL picks among several tls_certificate entries by key
// type, and by SNI only through $tls_in_sni in the option. Here the list
// itself is searched: the first certificate whose names cover the
// client's SNI and whose key type the client supports is served, and a
// client without SNI, or naming none of them, gets the first. The
// staple is always the response for the certificate served, chosen by
// ocsp.Stapler, which re-reads a file whenever it changes and staples
// only a good, correctly signed, in-date response; an expired or
// missing one means no staple, never a failed handshake.
//
// New checks everything once, at start, and fails with a *ConfigError
// naming the option and the file: unreadable or malformed PEM, a key
// that does not match its certificate, a bad tls_ocsp_file list, an
// OCSP file that exists but cannot be read, a certificate with an OCSP
// file but no issuer in its chain (its responses could never be
// checked). A missing OCSP file is not an error: nothing is stapled
// until it appears.
//
// With Config.Refresh, Run replaces Exim's external cron job: one
// ocsp.Refresher per certificate with an OCSP file asks the
// certificate's responder (AIA URL, or Config.Responder), writes the
// file atomically at half the response's validity, and backs off on
// failure, leaving the last good file in place as the fallback. Note
// that a refreshed file holds one response, so a hand-made PEM file of
// several responses is replaced by the one for its certificate.
//
// # Use
//
//	srv, err := tlsconf.New(tlsconf.Config{
//		Certificates: []string{"/etc/mta/mx.pem", "/etc/mta/other.pem"},
//		PrivateKeys:  []string{"/etc/mta/mx.key"}, // other.pem holds its key
//		OCSPFiles:    "/var/lib/mta/mx.ocsp : PEM /var/lib/mta/other.ocsp.pem",
//		Refresh:      true,
//	})
//	if err != nil { ... }
//	go srv.Run(ctx)
//	smtpdConfig.TLSConfig = srv.TLSConfig()
//	// in the Received header:
//	"with esmtps " + tlsconf.Received(&state)
package tlsconf
