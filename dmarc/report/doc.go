// Package report reads and writes DMARC aggregate reports (RFC 7489
// §7.2 and Appendix C) and builds them from DMARC history files.
//
// Exim, like OpenDMARC, does not send aggregate reports itself: it
// appends one block per message to dmarc_history_file, and a separate
// job (opendmarc-import and opendmarc-reports) turns the file into
// reports. Here the history file is read with dmarc.ParseHistory,
// Aggregate groups its entries into one Feedback per policy domain, and
// WriteGzip and Filename give the attachment to mail to the domain's
// rua= addresses (HistoryEntry.RUA).
//
// Parse reads reports received from others, plain or compressed, and
// ParseMessage the e-mails that carry them. Both bound the data they
// read to MaxSize, compressed or not.
package report
