package dmarc

import "io"

// The options below configure ForensicReports; Evaluate ignores them.
// WithClock (options.go) gives the time ForensicReports shows as the
// arrival time. Only a sender is required: WithForensicSender, or
// else WithForensicReporter. The values are checked when
// ForensicReports starts: one it cannot use makes it return a
// *ForensicOptionError and no report.

// forensicOptions holds the ForensicReports options of a config.
type forensicOptions struct {
	sender       string
	reporter     string
	reportingMTA string
	rand         io.Reader
	authResults  string
	redact       bool
	redactKey    []byte
	spfRecords   []string
}

// WithForensicAuthResults gives the Authentication-Results field the
// reports carry (RFC 6591 §3.1): the message's field as package
// authres wrote it (Header.String or Header.Value; it is unfolded and
// made 7-bit). Without it (or with "") the reports state the DMARC
// result alone: "<authserv-id>; dmarc=<result> header.from=<domain>",
// the authserv-id from WithAuthservID, else the reports' Message-ID
// domain.
func WithForensicAuthResults(field string) Option {
	return func(c *config) { c.forensic.authResults = field }
}

// WithForensicSender is Exim's dmarc_forensic_sender: the From: field
// of the reports and, by its address, their envelope sender. Without it
// (or with "") reports go out with the null envelope sender and
// WithForensicReporter's From:, as Exim does.
func WithForensicSender(from string) Option {
	return func(c *config) { c.forensic.sender = from }
}

// WithForensicReporter sets the From: field used when there is no
// WithForensicSender (Exim uses dsn_from), e.g. "Mail Delivery System
// <Mailer-Daemon@mx.example.org>".
func WithForensicReporter(from string) Option {
	return func(c *config) { c.forensic.reporter = from }
}

// WithReportingMTA names this host in the reports' Reporting-MTA: field
// and on the right side of their Message-ID:. Without it (or with "")
// Reporting-MTA: is left out.
func WithReportingMTA(host string) Option {
	return func(c *config) { c.forensic.reportingMTA = host }
}

// WithForensicRand supplies the randomness of the reports' Message-ID
// and MIME boundaries; default crypto/rand.
func WithForensicRand(r io.Reader) Option {
	return func(c *config) { c.forensic.rand = r }
}

// WithForensicRedaction redacts the copy of the received header section
// as RFC 9991 §7 suggests, to limit the personal data a report carries:
// the local part of every address (in all fields but the message-id
// ones, Message-ID, References, In-Reply-To, Content-ID and
// Resent-Message-ID, whose ids look like addresses; and in
// Original-Mail-From) becomes an 8-letter token, the same for the same
// local part under the same key, so that reports can still be
// correlated; "http" becomes "hxxp", so that links cannot be followed
// by accident. A nil or empty key draws a fresh one per ForensicReports
// call (from WithForensicRand's reader), so tokens then match within
// one call only.
func WithForensicRedaction(key []byte) Option {
	return func(c *config) { c.forensic.redact, c.forensic.redactKey = true, key }
}

// WithForensicSPFRecords gives the SPF record(s) the check of the
// message used (the TXT of its SPF-Authenticated domain, and those of
// includes and redirects). RFC 9991 failure reports (ModeRFC9989) carry
// them as SPF-DNS fields when SPF failed for an aligned domain, and SPF
// failure reports (fo=s) whenever given; the spf package does not
// return the records, so without this option the field is left out.
func WithForensicSPFRecords(records ...string) Option {
	return func(c *config) { c.forensic.spfRecords = records }
}
