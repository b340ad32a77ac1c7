package bmi

import (
	"bytes"
	"context"
	"io"
	"net/netip"
)

// Recipient is one accepted envelope recipient with the opt-in features
// the RCPT ACL attached to it (bmi_optin). OptIn is not written to the
// spool, as in Exim: it only matters while the message is scanned.
type Recipient struct {
	// Address is the RCPT TO mailbox without angle brackets.
	Address string
	// OptIn holds the features of the bmi_optin colon list, in order.
	OptIn []string
}

// Message is what a Scanner sees: Exim hands the Brightmail SDK the
// client IP, the envelope and the message without its deleted header
// fields.
type Message struct {
	// ClientIP is $sender_host_address; the zero Addr means a locally
	// submitted message (Exim uses 127.0.0.1).
	ClientIP netip.Addr
	// Sender is the envelope sender without angle brackets ("" for <>).
	Sender string
	// Recipients are the accepted recipients, in RCPT order.
	Recipients []Recipient
	// Header is the header section with deleted fields already removed:
	// complete fields, each ending in LF or CRLF, without the blank line
	// that ends the section.
	Header []byte
	// Body is the message body after the blank line.
	Body []byte
	// BodyReader, when set, replaces Body for a message that is kept
	// out of memory (a mail server's spool file): the body is BodySize
	// octets read from it. A Scanner reads it at most once, and only as
	// much as it needs (Spamd none when the message is over MaxSize).
	BodyReader io.Reader
	BodySize   int64
}

// Size is the length of the message a scanner is given: header, the
// blank line, body.
func (m *Message) Size() int64 {
	body := int64(len(m.Body))
	if m.BodyReader != nil {
		body = m.BodySize
	}
	return int64(len(m.Header)+len(blankLine(m.Header))) + body
}

// blankLine is the line end that ends the header section: CRLF when the
// header ends in CRLF (or is empty), LF otherwise, so that the line
// ends stay consistent.
func blankLine(header []byte) string {
	if n := len(header); n > 0 && (header[n-1] != '\n' || n < 2 || header[n-2] != '\r') {
		return "\n"
	}
	return "\r\n"
}

// A Scanner turns a message into verdicts. The Verdicts returned name
// every recipient of m exactly once; a recipient the scanner could not
// judge gets a Verdict with Err set, which Exim's rules deliver to the
// default destination. An error means no verdicts at all (the context
// ended or m is unusable); Exim then accepts the message unscanned.
type Scanner interface {
	Scan(ctx context.Context, m *Message) (Verdicts, error)
}

// ScannerFunc adapts a function to the Scanner interface.
type ScannerFunc func(ctx context.Context, m *Message) (Verdicts, error)

// Scan calls f.
func (f ScannerFunc) Scan(ctx context.Context, m *Message) (Verdicts, error) { return f(ctx, m) }

// SplitMessage splits a message at the blank line that ends its header
// section into the Header and Body of a Message. The header keeps its
// last line end; the blank line belongs to neither. A message without a
// blank line is all header.
func SplitMessage(msg []byte) (header, body []byte) {
	for off := 0; off < len(msg); {
		end := bytes.IndexByte(msg[off:], '\n')
		if end < 0 {
			break
		}
		line := msg[off : off+end+1]
		if len(line) == 1 || len(line) == 2 && line[0] == '\r' {
			return msg[:off], msg[off+len(line):]
		}
		off += end + 1
	}
	return msg, nil
}
