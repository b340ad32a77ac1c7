// Package report reads and writes DMARC aggregate reports: it writes
// RFC 9990's format and reads that, RFC 7489's (§7.2 and Appendix C)
// and the drafts before it. It builds reports from DMARC history files
// and makes the e-mail that carries one to a rua= destination.
//
// Exim, like OpenDMARC, does not send aggregate reports itself: it
// appends one block per message to dmarc_history_file, and a separate
// job (opendmarc-import and opendmarc-reports) turns the file into
// reports. Here the history file is read with dmarc.ParseHistory and
// the rest is:
//
//   - Aggregate groups the entries of a period (Day gives the UTC days
//     RFC 9990 recommends) into one Feedback per policy domain.
//   - DestinationsFor and ParseDestinations turn the domain's rua= URIs
//     into Destinations with their "!10m" size limits.
//   - VerifyDestination (CheckDestination for the whole outcome) is RFC
//     9990's check that a destination outside the policy domain's
//     organization agreed to receive its reports, a TXT record at
//     <domain>._report._dmarc.<destination host>.
//   - Feedback.Mail writes the report e-mail (gzip attachment named by
//     Filename, RFC 9990's Subject), refusing with ErrTooLarge a
//     destination whose size limit the report exceeds.
//
// Parse reads reports received from others, plain or compressed, and
// ParseMessage the e-mails that carry them, leniently (one odd value
// never fails a whole report) and within a Parser's MaxSize, compressed
// or not, so that a compression bomb cannot exhaust memory.
package report
