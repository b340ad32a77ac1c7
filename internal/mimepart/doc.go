// Package mimepart holds the MIME plumbing the report readers share
// (dmarc/report for aggregate report mails, tlsrpt for TLS report
// mails): undoing a part's Content-Transfer-Encoding the lenient way
// mail readers do, and the file name a part is sent under. Walking the
// MIME tree stays with each reader: what counts as a candidate part,
// and what a broken structure means, differ between the two.
package mimepart
