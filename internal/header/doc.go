// Package header reads the header section of an Internet message
// (RFC 5322 §2.2, §3.6 and the obsolete syntax of §4) the way a
// receiver must: it finds every field however the lines around it
// look, and reports what a strict reader would have refused as
// Defects instead of giving up.
//
// It is the one header reader behind DKIM (h= selection and
// canonicalization need the fields exactly as on the wire), DMARC's
// From discovery, ARF reports, DSN parsing and dccifd replies, so
// that they cannot disagree about where a field starts or ends: a
// message a verifier read one way and a policy check another is how
// a forged From slips through.
//
// Lines end at LF; a CR before the LF is part of the line end, and a
// bare LF is read as CRLF (a message stored with Unix line ends was
// CRLF on the wire). Every line in Section.Buf ends with CRLF. A CR
// anywhere else is data, and a Defect.
package header
