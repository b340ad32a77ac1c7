// Package signing is the DKIM signing of the reference MTA's outbound
// mail: which of our domains signs a message, and with what. The
// cryptography and the DKIM-Signature fields are package dkim's
// (dkim.Signer); this package chooses the signer and says what to do
// when signing fails.
//
// # Concept
//
// Exim signs in the smtp transport, at transport time, with the dkim_*
// options; a configuration that signs for several domains usually sets
// dkim_domain to ${lc:${domain:$h_from:}} and looks the selector and
// key up per domain. Here each configured Domain (one [[dkim]] entry of
// the MTA's configuration) has its own dkim.Signer, and the signer is
// chosen by the RFC 5322 From domain of the message, so that the
// signature is aligned for DMARC:
//
//	dkim_domain        Domain.Domain; chosen by the From domain (For):
//	                   the exact domain, else the nearest configured
//	                   parent (From news.example.com, d=example.com:
//	                   relaxed alignment)
//	dkim_selector      Domain.Selectors[].Selector (several: RSA and
//	                   Ed25519 dual signing)
//	dkim_private_key   Domain.Selectors[].PrivateKey, an absolute file
//	                   path ("", "0", "false": that selector does not
//	                   sign); the file is read again when it changes
//	dkim_canon         Domain.Canon
//	dkim_hash          Domain.Hash
//	dkim_identity      Domain.Identity
//	dkim_sign_headers  Domain.SignHeaders
//	dkim_timestamps    Domain.Timestamps
//	dkim_strict        Domain.Strict
//
// A message whose header has no From field, several, or one that cannot
// be read (or that names addresses in different domains) is not signed:
// there is no one author domain to align with, and signing a From that
// receivers may read differently would vouch for something unclear.
//
// # Failures
//
// A signature that cannot be made (a key file gone bad since start) is
// Exim's case for dkim_strict: with Strict the message must not go out
// unsigned, Apply sets Outcome.Defer and Sign returns the error, and
// the caller defers the message ("DKIM: signing failed"); without it
// the message goes out unsigned and Outcome.Err says why, for the log.
// A configuration that cannot work (no selector, a relative or
// unreadable key file, a bad canon or hash) is an error of New, a
// *ConfigError naming the domain and selector, so the MTA does not
// start with it.
//
// # Where the MTA signs
//
// The remote courier signs each message once per delivery attempt,
// before it connects, and prepends the fields to what it sends (so SIZE=
// counts them). Bounces are signed too: their From is
// Mailer-Daemon@<primary host name>, signed when that host name is a
// configured domain or below one.
package signing
