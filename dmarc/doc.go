// Package dmarc evaluates DMARC (RFC 7489 by default, RFC 9989 with
// WithMode(ModeRFC9989)) with Exim's vocabulary: the status words of the dmarc_status condition,
// $dmarc_status_text, $dmarc_used_domain, $dmarc_domain_policy, the
// alignment variables, the history file format and forensic reports.
// The Authentication-Results field (Exim's ${authresults} and
// $dmarc_ar_header) is package authres's: authres.FromDMARC gives this
// package's Outcome as the dmarc method.
//
// Exim's own DMARC takes shortcuts (with libopendmarc: no organizational
// domain fallback, sp= never applied, pct= ignored, DNS failures turned
// into "no record"). This package implements the RFCs and keeps Exim's
// words:
//
//   - Record discovery looks up _dmarc.<From domain>, then the
//     organizational domain (Public Suffix List: x/net/publicsuffix, or
//     Exim's dmarc_tld_file with WithPSLFile / WithPSL). WithTreeWalk
//     selects the DMARCbis tree walk with psd= and np=.
//   - Several records at one name give no policy (norecord); a DNS
//     temporary failure gives temperror, not norecord.
//   - Alignment is strict or relaxed as adkim=/aspf= say, ignoring
//     case; sp= applies to subdomains; pct= samples with WithRand, and a
//     message left out gets the next weaker policy (RFC 7489 §6.6.4).
//   - From: fields are found the way receivers must read them (RFC 5322
//     with its obsolete syntax: CFWS, obs-route, space before the colon,
//     however the other header lines look); FromHeaders reports header
//     defects and several From: fields as a *HeaderError beside the
//     values, never instead of them.
//   - Several From domains (fields or addresses) are each evaluated and
//     the most severe result wins (RFC 7489 §6.6.1), where Exim takes the
//     first address of the last field. No From gives nofrom (Err
//     ErrNoFrom); a From that cannot be read in full (a *FromError:
//     unparsable, a domain literal, no address) gives at least nofrom,
//     never accept or none (authres writes it dmarc=permerror where
//     Exim says temperror: the message will not improve on a retry).
//   - Only a temporary failure of an aligned identifier gives temperror:
//     SPF temperror, or a DKIM key lookup that got no DNS answer
//     (dkim.Result.Temporary). A DKIM key that does not exist is a
//     permanent failure (RFC 6376 §6.1.2, dkim=permerror), so a forged
//     signature naming a selector without a key cannot turn p=reject
//     into a retry; SPF permerror does not either.
//
// # RFC 9989
//
// WithMode(ModeRFC9989) follows RFC 9989, which obsoletes RFC 7489 and
// RFC 9091 (section numbers below are RFC 9989's):
//
//   - Policy discovery (§4.10.1) and organizational domains (§4.10.2)
//     both come from the DNS tree walk (§4.10): _dmarc.<domain>, then
//     each parent up to the top-level domain, skipping to seven labels
//     for longer names, at most eight queries per walk, stopping at a
//     record with psd=y or psd=n. The policy is the Author Domain's own
//     record, else that of its organizational domain (psd=n's domain;
//     one below a psd=y; else the record with the fewest labels), else
//     the PSD's. Alignment compares tree-walk organizational domains;
//     the Public Suffix List (WithPSL) is not used. Walks are made only
//     as far as an answer needs them, and share their DNS answers.
//   - sp= applies to existing subdomains and np= to non-existent ones
//     (NXDOMAIN), each falling back as §4.7 says; t=y applies the next
//     weaker policy (Outcome.Sampled false).
//   - Records are read by ParseRecordRFC9989: unknown tags and invalid
//     values are ignored, p= is optional (p=none), an invalid p=, sp=
//     or np= gives p=none with a valid rua= and no DMARC processing
//     (norecord) without. pct=, rf= and ri= are historic: never an
//     error, and pct= no longer samples; pct=0 without t= is read as
//     t=y (Appendix A.6 makes t=y its replacement), so a domain still
//     testing that way is not suddenly enforced.
//   - Several records at one name are discarded and the walk goes on; a
//     DNS failure on the way gives temperror unless an aligned pass did
//     not need it (§5.3.6). U-label domains are compared as A-labels.
//   - Authentication-Results (package authres): RFC 9989's result
//     words (§9.2; permerror for an unusable record) and the
//     policy.dmarc property (§9.1) after header.from.
//
// The default stays ModeRFC7489, the Exim-compatible behaviour: it is
// what Exim (libopendmarc) and most receivers deployed today do, so an
// Exim-like setup gets their verdicts; switching silently would change
// verdicts and history/report data of existing users (pct= sampling,
// records without p=, organizational domains that differ from the
// PSL's); and the tree walk costs up to eight TXT queries where RFC
// 7489 needs one or two. Choose ModeRFC9989 to follow the current
// standard. Status words and variables are Exim's in both modes.
//
// # Exim names
//
//	$dmarc_status          Outcome.Status (Status words, Match for the condition list)
//	$dmarc_status_text     Outcome.StatusText
//	$dmarc_used_domain     Outcome.UsedDomain
//	$dmarc_domain_policy   Outcome.DomainPolicy
//	$dmarc_alignment_spf   Outcome.AlignedSPF
//	$dmarc_alignment_dkim  Outcome.AlignedDKIM
//	dmarc_tld_file         WithPSLFile
//	dmarc_history_file     History (OpenHistory, NewHistoryEntry)
//	dmarc_forensic_sender  WithForensicSender (ForensicReports)
//	control = dmarc_disable_verify   Input.Disabled (status "off")
//
// DKIM verification is package github.com/mailpolicy/mailpolicy/dkim
// (dkim.Verify, with Exim's dkim_verify_* options); Evaluate takes its
// results in Input.DKIM.
//
// The report subpackage turns history files into RFC 7489 aggregate
// reports.
package dmarc
