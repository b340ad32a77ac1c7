// Package dmarc evaluates DMARC (RFC 7489, with DMARCbis options) with
// Exim's vocabulary: the status words of the dmarc_status condition,
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
