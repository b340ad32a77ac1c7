// Package srs implements the Sender Rewriting Scheme: a forwarder
// rewrites the envelope sender of a message it relays so that SPF checks
// at the next hop see its own domain, and bounces to the rewritten
// address can be turned back into the original sender.
//
// Two schemes are provided, chosen with Config.Scheme:
//
//   - Guarded (default): the de-facto format of Mail::SRS (its Guarded
//     class) and postsrsd, interoperable with both:
//
//     SRS0=HHHH=TT=orig.example=user@srs.example
//     SRS1=HHHH=first.example==HHHH=TT=orig.example=user@srs.example
//
//     HHHH is the HMAC-SHA1 of the lower-cased fields, base64, cut to
//     Config.HashLength (default 4) characters; TT is the day number
//     (Unix time / 86400) mod 1024 as two upper-case base32 characters;
//     the first separator is Config.Separator ('=', '+' or '-'). Forward
//     turns an SRS0 address into SRS1 and re-signs an SRS1 address
//     (keeping the first hop), and leaves addresses in Domain and
//     LocalDomains alone, as postsrsd does. Reverse accepts both the
//     base64 and base64url hash alphabets, compares hashes
//     case-insensitively and in constant time, accepts any of
//     Config.Secrets (sign with the first: key rotation) and a
//     timestamp at most Config.MaxAgeDays (default 21) old; a
//     timestamp from the future is rejected.
//
//   - Exim: Exim's native SRS (SUPPORT_SRS, ${srs_encode} and the
//     inbound_srs condition): SRS0 only, HMAC-MD5 cut to 4 lower-case
//     hex digits over the lower-cased "local@domain", lower-case base32
//     day stamp, 10 days maximum age, no separator or length options.
//     Checked against a real Exim 4.96 (srs_exim_interop_test.go): for
//     125 return paths Forward is byte-for-byte ${srs_encode}, Reverse
//     accepts Exim's encodings and Exim's inbound_srs accepts ours;
//     forged hashes, wrong secrets and stale or future stamps are
//     refused by both.
//
// # Exim names
//
//	${srs_encode {secret}{return_path}{original_domain}}
//	    New(Config{Scheme: Exim, Secrets: {secret}, Domain: original_domain}).Forward(return_path)
//	${if inbound_srs {local_part}{secret}}
//	    Reverse(local_part@domain) == nil
//	$srs_recipient
//	    the address Reverse returns (lower-cased, the local part quoted
//	    when it needs quoting, as Exim builds it)
//
// Exim's bugs are fixed, so the following differ from Exim:
//
//   - An upper-case timestamp (which Exim's regular expression accepts
//     but decodes as garbage, so such addresses always looked too old)
//     is decoded case-insensitively.
//   - The hash is compared case-insensitively (Exim: case-sensitively,
//     so an address whose case was smashed failed) and in constant time.
//   - An unqualified return path, which Exim encodes with an empty
//     domain but can never validate, is refused by Forward (ErrFormat).
//   - Both sides hash the canonical form: the local part without quotes,
//     re-quoted as a whole only if it needs quoting. Exim 4.96 hashes the
//     return path as given, so it can never validate its own encoding of
//     a needlessly or partly quoted local part ("ab"@x, "a b".c@x) nor of
//     an unquoted non-ASCII one (josé@x, which it leaves unquoted); here
//     they reverse to ab@x, "a b.c"@x and "josé"@x.
//   - Whether the SRS local part needs quotes is decided from the
//     original user part; Exim looks at the whole new local part, so the
//     brackets of a domain literal (user@[192.0.2.1]) make it quote on
//     decoding and it refuses its own (identical) encoding. Here such
//     addresses reverse.
//   - ${srs_encode} of ""@x crashes Exim 4.96 (fixed in 4.98); Forward
//     refuses an empty local part.
//   - Reverse reports why it failed (ErrHash, ErrExpired, ErrFormat,
//     ErrNotSRS) instead of a bare false, and $srs_recipient is not
//     produced on failure.
//   - Several secrets may be given (Exim takes one).
//
// # Database mode
//
// An SRS0 address whose local part would exceed 64 octets (RFC 5321) is
// still produced as such unless Config.Store is set; then Forward stores
// the original sender under an opaque key for the maximum age and
// returns SRS0=HHHH=TT=1=KEY@Domain, postsrsd's database-mode shape.
// Reverse resolves such aliases through the Store (case-insensitively)
// and fails with ErrUnknownAlias when the key is missing or no Store is
// configured. MemStore is an in-memory Store. Database mode applies to
// new SRS0 addresses only, not to SRS1 re-signing.
//
// # Differences from Mail::SRS and postsrsd
//
// Mail::SRS 0.31 rejects base64url hashes; this package accepts them
// (as postsrsd 2.x does). Like postsrsd, a hash longer than HashLength is
// compared on its first HashLength characters, and input longer than 512
// octets is refused (ErrTooLong). Reverse does not check the domain
// after "@". Forward emits base64 by default (Mail::SRS, postsrsd 1.x);
// set HashEncoding to Base64URL to produce postsrsd 2.x addresses.
//
// # Unsafe addresses
//
// Forward and Reverse refuse (ErrUnsafe) an address holding a control
// character (0x00-0x1f or 0x7f), and Reverse also a recovered address
// (from the fields or a Store) holding one, whether or not its hash is
// valid: a CR or LF in a return path would start a new SMTP command or
// header line. Mail::SRS, postsrsd and Exim sign such local parts.
// Space (quoted local parts) and 8-bit bytes (UTF-8 addresses, RFC
// 6531) are kept.
//
// The package uses only the standard library, keeps no package-level
// mutable state, and takes its clock from Config.Now.
package srs
