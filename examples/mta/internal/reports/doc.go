// Package reports is the reference MTA's side of aggregate reporting:
// it sends DMARC aggregate reports (RFC 9990) built from the DMARC
// history and TLS reports (RFC 8460) built from what the outbound
// courier recorded, and it takes in the reports other servers send.
//
// # Sending
//
// A Scheduler wakes once per interval: at the interval's boundary
// (dmarc_report_interval, "24h" is 00:00 UTC; TLS reports are always
// per UTC day, as RFC 8460 §4.1 says) plus a random delay of up to
// MaxDelay, so that the receivers of a large domain do not all get
// every reporter's mail in the same second. For each interval that has
// ended and was not reported yet it builds one report per policy domain
// (report.Aggregate from the history; tlsrpt.Recorder.Reports), finds
// where it goes (the rua of the domain's DMARC record as the history
// holds it; the _smtp._tls TXT record), and hands one message per
// mailto: destination to Inject, which puts it into the MTA's own queue
// exactly as the Bouncer queues a DSN (SpoolInjector): prepared and
// fsynced, committed, the runner woken. The queue then delivers it like
// any other message, with retries, DKIM signing and DANE. https:
// destinations of TLS reports are POSTed (tlsrpt.Post); a POST that
// fails is kept in the state and tried again at later runs.
//
// DMARC destinations in another organizational domain than the policy
// domain are used only after report.VerifyDestination found the
// <policy-domain>._report._dmarc.<destination-domain> record (RFC 9990
// §4); a destination's "!10m" size limit is honoured (a report over it
// is not sent there).
//
// The Scheduler remembers in a small state file (fsynced, renamed into
// place) which intervals and which destinations of the current one are
// done, so that a restart neither loses an interval nor sends one
// twice; intervals missed while the MTA was down are reported at the
// next start, as far back as MaxCatchUp. A crash between queueing a
// report and writing the state sends that one report again, with the
// same report-id, which receivers discard as a duplicate. Once an
// interval is reported, a history file (FileHistory) is trimmed to the
// entries not reported yet; the Redis history expires by itself.
//
// Exim has no report sender of its own: its documentation points to
// OpenDMARC's tools, opendmarc-import (dmarc_history_file into MySQL)
// and opendmarc-reports, run from cron. This package is what those
// cron jobs did, inside the MTA and through its queue.
//
// # Receiving
//
// A Receiver gets every message delivered to report_inbox after its
// ordinary Maildir delivery. It tells TLS reports (an
// application/tlsrpt+gzip or +json part) from DMARC aggregate reports
// (report.ParseMessage), parses them with their packages' bounds on
// the decompressed size, and stores each as a JSON file under
// report_store (dmarc/ and tls/), named after the report so that a
// report received twice is stored once. A message that is no report it
// can parse is logged and kept, raw, under unparsed/ (and in the
// Maildir); it never fails the delivery.
package reports
