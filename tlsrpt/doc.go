// Package tlsrpt implements SMTP TLS Reporting (RFC 8460): a sending
// MTA counts, per policy domain and UTC day, the sessions in which the
// TLS policy it applied held and those in which it failed and why,
// and sends each domain that asks for it a daily JSON report, by mail
// or HTTPS POST. The same package reads the reports other MTAs send.
//
// Exim has no TLS reporting; the names here are the RFC's.
//
// # Discovery (§3)
//
// A domain asks for reports with a TXT record at _smtp._tls.<domain>:
//
//	v=TLSRPTv1; rua=mailto:tlsrpt@example.com,https://tlsrpt.example.com/v1
//
// Lookup finds and parses it (ParseRecord). TXT records that do not
// start with v=TLSRPTv1 are ignored; more than one that does is
// ErrMultipleRecords, none ErrNoRecord; a DNS failure matches
// ErrTemporary (resolver.ErrTemporary) or ErrPermanent, so a scheduler
// can retry the one and drop the others.
//
// # Recording (§4.1-§4.3)
//
// The delivery code calls Recorder.Success or Recorder.Failure once per
// session with the Policy it applied: an MTA-STS policy (PolicySTS, the
// policy domain being the recipient domain), DANE TLSA records
// (PolicyTLSA, the policy domain being the MX host), or PolicyNone when
// there was neither. A Failure carries one of the result types of
// §4.3 (ResultCertificateExpired, ResultSTSPolicyFetchError, ...) and
// the session's details; equal details are one failure-details entry
// with their count. Days are UTC days, as §4.1 wants reports to cover
// whole UTC days. NewRecorder keeps the counts in memory; OpenRecorder
// keeps them in a file too (a fsynced snapshot, see its doc), so a
// restart does not lose the day.
//
// Sessions that deliver a TLS report must not count in the next report
// (§5.3); the delivery code leaves them out.
//
// # Reports (§4.4, §5)
//
// Recorder.Reports builds the §4.4 report of each policy domain for a
// range of days; Forget drops the days reported. A Report is written as
// JSON (WriteJSON), gzip (WriteGzip, application/tlsrpt+gzip) under the
// §5.3 file name (Filename), as the whole §5.3 mail message
// (Mail: multipart/report; report-type="tlsrpt", TLS-Report-Domain,
// TLS-Report-Submitter, the Subject with the report-id), or sent to an
// https: destination (Post, §5.4). The message should be DKIM-signed by
// the submitter domain (§5.3), which the MTA's outbound signing does.
//
// # Received reports
//
// Parse reads a report, plain or gzip, with limits on the size before
// and after decompression (Parser), leniently: unknown fields are
// ignored and the variants large senders write are accepted.
// ParseMessage finds and reads the report in a §5.3 report mail,
// bounding the MIME parts it looks at; ErrNoReport says the mail
// carries none (it may be another kind of report).
package tlsrpt
