// Package dkim verifies and makes DKIM signatures (RFC 6376, RFC 8463
// for Ed25519, RFC 8301) with Exim's vocabulary. Verifying gives the
// $dkim_verify_status words (Status: none, invalid, fail, pass), the
// $dkim_verify_reason words (Reason: pubkey_unavailable,
// pubkey_dns_syntax, pubkey_der_syntax, signature_tag_missing_or_invalid,
// unsupported_dkim_version, bodyhash_mismatch, signature_incorrect,
// pubkey_too_short) and the other $dkim_* variables of a signature
// (Result.Variables). The dkim methods of ${authresults} are package
// authres's: authres.FromDKIM writes one per Result, with Exim's words
// and comments.
//
// Verify reads a message once: the header section is kept (at most
// MaxHeaderBytes), the body is streamed and hashed once per distinct
// (canonicalization, hash, l=) among the signatures, and key lookups
// go through a Resolver (resolver.Default() unless WithResolver gives
// one; *resolver.Resolver satisfies the interface). At most
// WithMaxSignatures signatures are verified (default 5); the others
// are returned with status none.
//
// A key that cannot be had is invalid/pubkey_unavailable, Exim's words,
// and Result.Temporary tells RFC 6376 §6.1.2's two cases apart: set
// when the lookup got no answer (TEMPFAIL), clear when there is no key
// (NXDOMAIN, NODATA, no DKIM key record: PERMFAIL). dmarc.Evaluate
// takes the results in dmarc.Input.DKIM and lets only a Temporary
// aligned result make DMARC temperror.
//
// # Signing
//
// A Signer signs as an Exim smtp transport with dkim_* options does.
// NewSigner takes a SignerConfig, checks it (a *SignConfigError names
// the bad field) and loads the keys; keep the Signer, which caches
// them and is safe for concurrent use. Signer.Sign reads a message
// once, the body streamed through one hash, and returns in
// SignResult.Header the DKIM-Signature fields to put in front of it,
// one per (domain, selector): RSA and Ed25519 dual signing is two
// selectors of one domain. A key file is read again when it changes,
// so keys rotate without a restart. With Strict a signature that
// cannot be made is an error (defer the message); without it the
// message goes out unsigned and SignResult.Err says why.
//
// The transport options and the SignerConfig fields:
//
//	dkim_domain        SignerConfig.Domains (SignDomain.Domain), a list
//	dkim_selector      SignDomain.Selectors (SignSelector.Selector), a list per domain
//	dkim_private_key   SignSelector.PrivateKey: PEM text or an absolute file path;
//	                   "", "0" or "false" skips the selector (SignResult.Skipped)
//	dkim_canon         SignerConfig.Canon: "relaxed" (default), "simple" or "header/body"
//	dkim_hash          SignerConfig.Hash: "sha256" (default), "sha1" or "sha512"
//	dkim_identity      SignerConfig.Identity: the i= tag, "" for none
//	dkim_sign_headers  SignerConfig.SignHeaders: "" is DefaultSignHeaders;
//	                   "=Name" every instance, "+Name" oversigned (OversignHeaders)
//	dkim_timestamps    SignerConfig.Timestamps: t= now and x= now + Timestamps; 0 for neither
//	dkim_strict        SignerConfig.Strict
//	(clock for t=)     SignerConfig.Now
//
// # Exim names
//
//	$dkim_verify_status       Result.Status (Status.String)
//	$dkim_verify_reason       Result.Reason (Reason.String)
//	$dkim_cur_signer, $dkim_domain, $dkim_selector, $dkim_identity,
//	$dkim_algo, $dkim_key_length   Result.Variables
//	dkim_verify_hashes        WithHashes
//	dkim_verify_keytypes      WithKeyTypes
//	dkim_verify_min_keysizes  WithMinKeyBits
//	dkim_verify_minimal       WithMinimal
//	(signature cap)           WithMaxSignatures
//	header_maxsize            MaxHeaderBytes
package dkim
