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
