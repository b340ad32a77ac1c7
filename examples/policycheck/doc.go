// Command policycheck runs the library's mail policy engines from the
// command line and prints what they decide in the shape Exim gives it,
// so that the engines can be checked as a black box, by hand or by a
// script, against a real DNS server.
//
// Usage:
//
//	policycheck SUBCOMMAND [flags] [args]
//	policycheck help [SUBCOMMAND]
//
// Flags come after the subcommand and before any other argument.
// "policycheck -h" and "policycheck help" list the subcommands;
// "policycheck SUBCOMMAND -h" and "policycheck help SUBCOMMAND" describe
// one.
//
// # Subcommands
//
// spf evaluates SPF as Exim's "spf" ACL condition does (with -guess, as
// its "spf_guess" condition) and prints the $spf_* variables:
//
//	policycheck spf -ip IP -sender ADDR -helo NAME [-guess] [-receiver NAME]
//	        [-localhost-pass=false] [-nameserver host:port] [-timeout 2s] [-json] [-v]
//
// -ip, -sender and -helo must be given; -sender "" is the null sender,
// for which the check is of postmaster@NAME. -receiver is the receiving
// host (Exim's primary_hostname), named in spf_header_comment and
// spf_received. -v reports on stderr why a temperror or permerror came
// about; stdout carries the variables only.
//
// spf-lookup prints the bare result word of an SPF check of ADDR with no
// HELO name, as Exim's ${lookup{ADDR}spf{IP}} expands to:
//
//	policycheck spf-lookup -ip IP [-localhost-pass=false] [-nameserver host:port] [-timeout 2s] [-json] ADDR
//
// Both, and dmarc, pass a loopback client (127.0.0.0/8, ::1) without
// DNS ("localhost is always allowed."), as Exim with libspf2 does;
// -localhost-pass=false evaluates it like any other address, which is
// the spf library's default (a proxy or NAT in front would otherwise
// make every remote client pass).
//
// # DNS
//
// Queries go to the nameservers of /etc/resolv.conf, or to -nameserver
// ("host:port", or a host for port 53). -timeout (default 2s) limits
// each whole query, retries and other nameservers included (not each
// attempt), and the whole evaluation is cut off after ten times
// -timeout (20 seconds by default, the overall limit RFC 7208 §4.6.4
// suggests); what is then unanswered counts as a DNS failure, which is
// a temperror result.
//
// # Output
//
// spf prints one line per variable, in this order, as name=value with
// the value unquoted up to the end of the line (it may be empty):
//
//	spf_result=pass
//	spf_header_comment=mx.test: domain of example.com designates 192.0.2.1 as permitted sender
//	spf_received=Received-SPF: pass (mx.test: domain of example.com ...) client-ip=192.0.2.1; ...
//	spf_smtp_comment=
//	spf_used_domain=example.com
//	spf_result_guessed=no
//	spf_explanation=
//	spf_mechanism=...
//
// spf-lookup prints the result word alone, such as "pass" or "fail".
//
// dmarc runs SPF, DKIM (dkim.Verify with Exim's default options) and DMARC
// on a message file ("-" for standard input) and prints dmarc_status,
// dmarc_status_text, dmarc_used_domain, dmarc_domain_policy,
// dmarc_ar_header (the Authentication-Results field package authres
// builds from the spf, dkim and dmarc results, with RFC 7489's dmarc
// words, unfolded onto one line), dmarc_alignment_spf and
// dmarc_alignment_dkim, then the spf_ variables:
//
//	policycheck dmarc -ip IP -sender ADDR -helo NAME -message FILE [-receiver NAME]
//	        [-psl FILE] [-tree-walk] [-rfc9989] [-iprev] [-localhost-pass=false] [-nameserver host:port] [-timeout 2s] [-json] [-v]
//
// With -rfc9989 the policy and the organizational domains are found as
// RFC 9989 says (the DNS tree walk, psd=, np=, t=; pct= only as t=), and
// dmarc_ar_header uses RFC 9989's words and adds policy.dmarc; the
// variables keep Exim's words either way.
//
// With -iprev, dmarc also checks -ip's reverse DNS (as the iprev
// subcommand does, over the same nameservers) and dmarc_ar_header is
// then the whole field Exim's ${authresults} writes for such a client,
// the iprev method first:
//
//	dmarc_ar_header=Authentication-Results: mx.test; iprev=pass (mail.example.org) smtp.remote-ip=192.0.2.7; spf=pass ...
//
// Without -iprev the field has no iprev method and the output is as it
// always was; -v adds the iprev lookup's error, if any, on stderr.
//
// iprev checks the client address's reverse DNS as RFC 8601 §3 and
// Exim's host lookup do (PTR names, each confirmed by an A or AAAA
// record, at most 10) and prints sender_host_name, host_lookup_failed,
// host_lookup_deferred, iprev_result (pass, fail, temperror or
// permerror) and iprev_authresults, the iprev method of ${authresults}
// in Exim's form ("iprev=pass (mail.example.com)
// smtp.remote-ip=192.0.2.1"; an IPv6 address is written bare, as Exim
// does); -v reports the DNS error on stderr:
//
//	policycheck iprev -ip IP [-nameserver host:port] [-timeout 2s] [-json] [-v]
//
// dkim-verify verifies a message's DKIM signatures with Exim's
// dkim_verify_* options and prints dkim_signers (the d= and i= values,
// colon-separated), dkim_signatures (how many) and for each signature
// N the $dkim_* variables with the suffix _N (dkim_domain_1,
// dkim_verify_status_1, dkim_verify_reason_1, ...):
//
//	policycheck dkim-verify -message FILE [-dkim_verify_hashes sha256:sha512]
//	        [-dkim_verify_keytypes ed25519:rsa] [-dkim_verify_min_keysizes "rsa=1024 ed25519=250"]
//	        [-dkim_verify_minimal] [-nameserver host:port] [-timeout 2s] [-json]
//
// dkim-sign signs a message as Exim's smtp transport does with its
// dkim_* options, named as the flags (dkim.SignerConfig's fields), and
// writes the signed message (the DKIM-Signature fields, then the
// message as read) to stdout. -dkim_domain and -dkim_selector are
// colon-separated lists, every domain signed with every selector;
// -dkim_private_key is one key file for all selectors or one per
// selector ("0" or "false" for one that does not sign); with
// -dkim_strict a message that cannot be signed is exit 1, without it
// the message goes out unsigned and the reason goes to stderr:
//
//	policycheck dkim-sign -dkim_domain LIST -dkim_selector LIST -dkim_private_key LIST -message FILE
//	        [-dkim_canon relaxed|simple] [-dkim_hash sha256|sha1|sha512] [-dkim_identity ID]
//	        [-dkim_sign_headers LIST] [-dkim_timestamps DURATION] [-dkim_strict]
//
// dane looks up the TLSA records of a host (RFC 7672), connects, speaks
// SMTP up to STARTTLS and does the DANE handshake, printing
// tls_out_dane, tls_out_tlsa_usage, tls_out_cv and dane_* details:
//
//	policycheck dane -host H [-port 25] [-connect IP] [-helo NAME] [-require]
//	        [-nameserver 127.0.0.1:5354] [-timeout 2s] [-json]
//
// mta-sts fetches a domain's MTA-STS policy (RFC 8461) and prints
// mta_sts_result, mta_sts_id, mta_sts_mode, mta_sts_max_age, mta_sts_mx
// and, per MX host (the arguments or the domain's MX records), mx_N,
// mx_N_match and mx_N_verdict (allowed, refused, report, deliver);
// -cafile trusts a test CA, -connect dials another address for the
// policy host:
//
//	policycheck mta-sts [-cafile FILE] [-connect host:port] [-nameserver host:port]
//	        [-timeout 2s] [-json] DOMAIN [MX...]
//
// ocsp-fetch fetches an OCSP response for a certificate from its issuer's
// responder (the AIA URL, or -url), verifies it and writes it atomically
// to FILE, as Exim's tls_ocsp_file expects; it prints ocsp_status,
// ocsp_this_update, ocsp_next_update and ocsp_responder:
//
//	policycheck ocsp-fetch -cert C -issuer I -out FILE [-url U] [-pem]
//	        [-allow-no-next-update] [-timeout 10s] [-json]
//
// prdr-send sends a message to an SMTP server, asking for PRDR (RFC
// draft-hall-prdr) when offered and there are two or more recipients,
// and prints what happened to each recipient: prdr_offered,
// prdr_requested, prdr_used, data_command, final_reply, rcpt_count and
// one rcpt_N=<addr> <delivered|deferred|failed> <code> <text> per
// recipient:
//
//	policycheck prdr-send -server host:port -from A -to B,C -data FILE
//	        [-helo NAME] [-bdat] [-chunk-size N] [-no-prdr] [-timeout 30s] [-json]
//
// proxy-decode decodes a PROXY protocol v1 or v2 header (hex on the
// command line or a file's bytes) and prints its fields in the shape of
// Exim's $proxy_* variables:
//
//	policycheck proxy-decode [-hex HEX | -file FILE] [-max-v2-length N] [-json]
//
// dcc asks a dccifd (Exim's dccifd_address: "/path" or "host port") about
// a message file and prints dcc_condition, dcc_result, dcc_header,
// dcc_recipients and one dcc_rcpt_N per recipient; an unreachable dccifd
// is a defer, not an error:
//
//	policycheck dcc -ip IP -helo H -sender S -rcpt R[,R2] -message FILE [-address ADDR]
//	        [-options OPTS] [-client-name N] [-override-ip IP] [-add-header TEXT]
//	        [-defer-ok] [-timeout 30s] [-json]
//
// srs rewrites an envelope sender for forwarding (SRS0/SRS1 in the
// postsrsd/Mail::SRS format, or Exim's native scheme) or reverses a
// bounce address; it prints srs_result (and srs_error, srs_error_kind
// when an address is refused, which is still exit 0):
//
//	policycheck srs forward|reverse -secret S [-secret S2] -domain D [-local-domain D]
//	        [-scheme guarded|exim] [-separator c] [-hash-length n] [-max-age days]
//	        [-base64url] [-now unix] [-json] ADDR
//
// bmi scans a message with spamd (SpamAssassin) as Exim's BMI would:
// recipients are grouped by profile (the first feature of the opt-in
// list after the address in -rcpt, sent as spamd's User), one request
// per profile; it prints bmi_verdicts and, per recipient N, bmi_rcpt_N,
// bmi_deliver_N, bmi_alt_location_N, bmi_base64_verdict_N and
// bmi_base64_tracker_verdict_N. An unreachable spamd gives verdicts
// carrying the error (deliver default), still exit 0:
//
//	policycheck bmi -spamd ADDR -sender S -rcpt "ADDR [OPTIN]" [-rcpt ...] -message FILE
//	        [-ip IP] [-command symbols|report|check] [-rule SYMBOL=N ...]
//	        [-alt-score F] [-none-score F] [-alt-location L] [-timeout 60s] [-json]
//
// bmi-eval reads a verdict list ($bmi_verdicts) or a -bmi_verdicts spool
// line and prints, for the address whose top-level ancestor is -rcpt,
// bmi_deliver, bmi_alt_location, bmi_base64_verdict,
// bmi_base64_tracker_verdict and the router preconditions
// bmi_deliver_default, bmi_deliver_alternate, bmi_dont_deliver (yes/no),
// plus bmi_rule with -rule:
//
//	policycheck bmi-eval (-verdicts LIST | -spool LINE) -rcpt ADDR [-rule 5:8:11] [-json]
//
// dsn-parse reads a delivery status notification (RFC 3464 bounce or
// delay warning, with Exim's EXPERIMENTAL_DSN_INFO fields, or a
// plain-text bounce) from FILE ("-" for standard input) and prints
// dsn_reporting_mta, dsn_reporting_mta_type, dsn_original_envelope_id,
// dsn_arrival_date, dsn_from, dsn_to, dsn_subject, dsn_message_id,
// dsn_return (full|hdrs|none), dsn_plain_text, dsn_extra_N,
// dsn_rcpt_count and per recipient dsn_rcpt_N_final_recipient,
// _original_recipient, _action, _status, _remote_mta, _remote_ip,
// _remote_port, _greeting, _helo_response, _diagnostic,
// _diagnostic_code, _last_attempt_date, _will_retry_until (dates RFC
// 3339 UTC) and _extra_M; a file that is not a DSN prints dsn_error
// and dsn_error_kind (not_dsn|limit) and exits 1:
//
//	policycheck dsn-parse [-diagnostic-field NAME] [-max-size N]
//	        [-max-recipients N] [-json] FILE
//
// tlsrpt-parse reads a received SMTP TLS report (RFC 8460, JSON or
// gzip) from FILE ("-" for standard input) and prints organization_name,
// contact_info, report_id, date_range_start, date_range_end (RFC 3339
// UTC), policy_count and per policy N policy_N_type, policy_N_domain,
// policy_N_string_M, policy_N_mx_host_M, policy_N_successful_sessions,
// policy_N_failed_sessions, policy_N_failure_count and per failure M
// policy_N_failure_M_result_type, _sending_mta_ip,
// _receiving_mx_hostname, _receiving_mx_helo, _receiving_ip,
// _failed_sessions, _additional_information and _failure_reason_code;
// a file that is not a report or is over a limit prints tlsrpt_error
// and tlsrpt_error_kind (invalid|limit) and exits 1; with -message FILE
// is the report mail (RFC 8460 §5.3) that carries it:
//
//	policycheck tlsrpt-parse [-message] [-max-size N] [-max-decompressed-size N] [-json] FILE
//
// dmarc-report builds DMARC aggregate reports (RFC 9990, package
// dmarc/report) from a DMARC history file (Exim's dmarc_history_file,
// "-" for standard input), one per policy domain, for the period
// [-begin, -end) (RFC 3339 times, YYYY-MM-DD dates at 00:00 UTC, or
// Unix seconds; a day is -begin 2026-05-01 -end 2026-05-02). Without
// -xml or -gzip it writes the reports' XML documents to stdout, one
// after another; with -xml PATH or -gzip PATH it writes files (into
// PATH when it is a directory, under their RFC 9990 names; else to the
// file PATH, which takes exactly one report) and prints
// dmarc_report_count and per report N dmarc_report_N_domain, _id,
// _begin, _end, _records, _messages, _rua and _file. A period without
// entries prints nothing (stderr says so) and exits 0; a history file
// that cannot be read or parsed, or a file that cannot be written, is
// exit 1:
//
//	policycheck dmarc-report -history FILE -begin T -end T [-org-name N] [-org-email E]
//	        [-report-id-prefix P] [-discovery psl|treewalk] [-domain D]
//	        [-xml PATH | -gzip PATH] [-json]
//
// With -json either prints one JSON object on one line instead, with the
// same names as keys in the same order and string values, for example
// {"spf_result":"pass",...} or {"spf_lookup":"fail"}.
//
// A value never spans lines: were a CR or LF ever to reach the printer,
// it would be printed as a space, in both forms.
//
// # Exit status
//
//	0  a result was printed, whatever it is: fail, temperror and
//	   permerror are policy results too; or help was asked for
//	1  the result could not be produced or written (for example, stdout
//	   was closed, ocsp-fetch got no verifiable response, dsn-parse
//	   was given a file that is not a DSN or is over a limit, or
//	   dkim-sign -dkim_strict could not sign)
//	2  usage error: no or an unknown subcommand, an unknown flag, a
//	   missing or invalid -ip, a missing required flag or argument, an
//	   extra argument, or an address spf-lookup cannot check; a message
//	   naming the problem and the usage go to stderr
package main
