// Package dkim verifies DKIM signatures (RFC 6376, RFC 8463 for
// Ed25519, RFC 8301) with Exim's vocabulary: the $dkim_verify_status
// words (Status: none, invalid, fail, pass), the $dkim_verify_reason
// words (Reason: pubkey_unavailable, pubkey_dns_syntax,
// pubkey_der_syntax, signature_tag_missing_or_invalid,
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
