// Package ocsp implements OCSP stapling (RFC 6960, RFC 6066 §8) with
// Exim's options and variables: a server-side Stapler fed by Exim-style
// tls_ocsp_file lists, a Fetcher and Refresher that keep those files
// current, and client-side checking of stapled responses.
//
// # Exim names
//
//	tls_certificate      StaplerConfig.Certificates
//	tls_ocsp_file        StaplerConfig.Files (ParseFileList): one file per
//	                     tls_certificate, "PEM "/"DER " prefixes
//	hosts_request_ocsp   Client.RequestHosts (nil: the default "*")
//	hosts_require_ocsp   Client.RequireHosts (nil: none)
//	$tls_out_ocsp        Session.Status(), 0–4 (Status)
//
// The client errors carry Exim's texts: ErrRevoked ("Server certificate
// revoked"), ErrUnknownStatus ("Server certificate has unknown status"),
// ErrOutOfDate ("Server certificate status is out-of-date") and
// ErrNotReceived ("Required TLS certificate status not received").
// Under DANE, SessionDANE applies Exim's rule that the default request
// list "*" (a nil RequestHosts, or a list written "*") means "only when
// $tls_out_tlsa_usage is 0 or 4" (DANERequestDefault), taking the usage
// bits as an int. The zero Client is Exim's default smtp transport:
// request from every host, require from none. The host lists are
// hostlist.List values, parsed from Exim's text with hostlist.Parse.
//
// # Server
//
// Stapler.GetCertificate plugs into tls.Config.GetCertificate. Every
// handshake stats the files and reloads them when one changed, so a
// file replaced by rename (WriteFile does that) takes effect at once and
// never half-written. A response is stapled only if it is a successful
// basic response, signed by the certificate's issuer (from its chain or
// StaplerConfig.Issuers) or by a delegated responder that issuer certified for
// OCSPSigning and whose validity covers thisUpdate..nextUpdate, reports
// good, has thisUpdate no more than 300 s ahead, and has a nextUpdate
// not in the past (300 s skew). Anything else is not stapled and the
// reason goes to StaplerConfig.Logf; the handshake goes on.
//
// # Differences from Exim
//
//   - Exim (OpenSSL) staples a response without nextUpdate; this package
//     does not unless StaplerConfig.AcceptMissingNextUpdate (Exim's
//     documented rule).
//     Clients accept it, as Exim's client does.
//   - Exim picks a proof by serial number only and looks only at its first
//     SingleResponse; here every SingleResponse is considered and the
//     CertID must match serial number and issuer (name and key hashes), so
//     duplicate serials from different CAs are told apart. PEM files may
//     hold several responses, all used.
//   - Exim's client accepts a good response for any certificate; here the
//     CertID must name the leaf and its issuer, else status 3
//     (ErrUnverifiable). The signer must chain to the leaf's issuer found
//     in the presented chain, the verified chains or the staple itself.
//   - Exim fails the handshake on an unparsable staple even when OCSP was
//     only requested; here only a required staple fails the handshake
//     (status 3 and ErrParse are recorded either way).
//   - A resumed session without a staple gets status 1 (Exim reuses the
//     stored status 4).
package ocsp
