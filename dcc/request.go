package dcc

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// A Request is one message to check: the SMTP envelope and the message.
type Request struct {
	// ClientIP is the SMTP client's address ($sender_host_address). The
	// zero Addr sends an empty client line, which tells dccifd to take
	// the client from the message's Received: headers (Exim sends
	// 127.0.0.1 instead).
	ClientIP netip.Addr
	// OverrideClientIP, when not empty, replaces ClientIP, as Exim's
	// $acl_m_dcc_override_client_ip. It must be an IP address; the
	// ClientName is then not sent, since it names the other host.
	OverrideClientIP string
	// ClientName is the client's verified reverse-DNS name
	// ($sender_host_name), sent after the IP. Exim never sends it. It
	// is dropped when no client IP is sent, as the protocol requires.
	ClientName string
	// HELO is the HELO/EHLO argument ($sender_helo_name), sent as is
	// (Exim sends "HELO localhost").
	HELO string
	// Sender is the MAIL FROM address without angle brackets; "" is the
	// null sender, sent as "<>" as Exim does.
	Sender string
	// Recipients are the RCPT TO mailboxes, in order.
	Recipients []Recipient
	// Header is the message header, one entry per field. Deleted
	// fields are not sent (Exim sends them).
	Header []HeaderField
	// Body is the message body after the blank line, or nil. Line ends
	// are sent as CRLF whatever they are here.
	Body io.Reader
}

// A Recipient is one envelope recipient.
type Recipient struct {
	Addr string // the mailbox, without angle brackets or ESMTP parameters
	// User is the local user name, for dccifd's per-user logs and
	// whitelists; Exim never sends it. Empty sends no user part.
	User string
}

// A HeaderField is one field of the message header as it will be
// sent: "Name: value", with any continuation lines, with or without
// the final line end. Line ends are sent as CRLF.
type HeaderField struct {
	Text    string
	Deleted bool // an ACL or router removed it; not sent
}

// SplitMessage splits a message (header, blank line, body) into its
// header fields and its body. A message without a blank line is all
// header. Lines before the first field that start with white space
// (which cannot continue anything) and lines without a colon are kept
// as fields of their own, so that nothing is lost.
func SplitMessage(msg []byte) (header []HeaderField, body []byte) {
	rest := msg
	for len(rest) > 0 {
		line, after, found := bytes.Cut(rest, []byte("\n"))
		if found {
			line = rest[:len(line)+1]
		} else {
			line = rest
		}
		if t := bytes.TrimRight(line, "\r\n"); len(t) == 0 {
			return header, after
		}
		if (line[0] == ' ' || line[0] == '\t') && len(header) > 0 {
			header[len(header)-1].Text += string(line)
		} else {
			header = append(header, HeaderField{Text: string(line)})
		}
		rest = after
		if !found {
			rest = nil
		}
	}
	return header, nil
}

// lineSafe reports why s cannot be sent as (part of) one protocol
// line, or "".
func lineSafe(s string) string {
	if i := strings.IndexAny(s, "\r\n\x00"); i >= 0 {
		return fmt.Sprintf("control character %q at offset %d", s[i], i)
	}
	return ""
}

// clientIP decides the client line's address.
func (r *Request) clientIP() (ip string, sendName bool, err error) {
	if r.OverrideClientIP != "" {
		a, err := netip.ParseAddr(strings.TrimSpace(r.OverrideClientIP))
		if err != nil || a.Zone() != "" {
			return "", false, &RequestError{"OverrideClientIP", fmt.Sprintf("not an IP address: %q", r.OverrideClientIP)}
		}
		return a.Unmap().String(), false, nil
	}
	if !r.ClientIP.IsValid() {
		return "", false, nil
	}
	return r.ClientIP.Unmap().WithZone("").String(), true, nil
}

// writeEnvelope writes the options line and the envelope lines, up to
// and including the empty line.
func (r *Request) writeEnvelope(w *bufio.Writer, options string) error {
	if s := lineSafe(options); s != "" {
		return &RequestError{"Options", s}
	}
	ip, sendName, err := r.clientIP()
	if err != nil {
		return err
	}
	client := ip
	if sendName && r.ClientName != "" {
		if s := lineSafe(r.ClientName); s != "" {
			return &RequestError{"ClientName", s}
		}
		client += "\r" + r.ClientName
	}
	if s := lineSafe(r.HELO); s != "" {
		return &RequestError{"HELO", s}
	}
	sender := r.Sender
	if sender == "" {
		sender = "<>"
	}
	if s := lineSafe(sender); s != "" {
		return &RequestError{"Sender", s}
	}
	w.WriteString(options + "\n")
	w.WriteString(client + "\n")
	w.WriteString(r.HELO + "\n")
	w.WriteString(sender + "\n")
	for i, rc := range r.Recipients {
		field := fmt.Sprintf("Recipients[%d]", i)
		if rc.Addr == "" {
			return &RequestError{field, "empty address"}
		}
		if s := lineSafe(rc.Addr); s != "" {
			return &RequestError{field, s}
		}
		if s := lineSafe(rc.User); s != "" {
			return &RequestError{field + ".User", s}
		}
		w.WriteString(rc.Addr)
		if rc.User != "" {
			w.WriteString("\r" + rc.User)
		}
		w.WriteString("\n")
	}
	w.WriteString("\n")
	return nil
}

// checkHeader validates the header fields before anything is sent.
func (r *Request) checkHeader() error {
	for i, h := range r.Header {
		if h.Deleted {
			continue
		}
		t := strings.TrimRight(h.Text, "\r\n")
		field := fmt.Sprintf("Header[%d]", i)
		if t == "" {
			return &RequestError{field, "empty field (it would end the header)"}
		}
		if strings.IndexByte(t, 0) >= 0 {
			return &RequestError{field, "NUL byte"}
		}
		for j, line := range splitLines(t) {
			if strings.TrimRight(line, " \t") == "" {
				return &RequestError{field, "blank line inside the field (it would end the header)"}
			}
			if j > 0 && line[0] != ' ' && line[0] != '\t' {
				return &RequestError{field, "continuation line does not start with white space"}
			}
		}
	}
	return nil
}

// splitLines splits s at LF, CRLF or a bare CR.
func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Split(s, "\n")
}

// writeMessage writes the header fields, the separator and the body,
// all with CRLF line ends.
func (r *Request) writeMessage(w *bufio.Writer) error {
	for _, h := range r.Header {
		if h.Deleted {
			continue
		}
		for _, line := range splitLines(strings.TrimRight(h.Text, "\r\n")) {
			w.WriteString(line + "\r\n")
		}
	}
	w.WriteString("\r\n")
	if r.Body == nil {
		return nil
	}
	c := &crlfWriter{w: w}
	if _, err := io.Copy(c, r.Body); err != nil {
		return err
	}
	return nil
}

// crlfWriter turns bare LF into CRLF on the way through.
type crlfWriter struct {
	w    *bufio.Writer
	last byte
}

func (c *crlfWriter) Write(p []byte) (int, error) {
	for _, b := range p {
		if b == '\n' && c.last != '\r' {
			if err := c.w.WriteByte('\r'); err != nil {
				return 0, err
			}
		}
		if err := c.w.WriteByte(b); err != nil {
			return 0, err
		}
		c.last = b
	}
	return len(p), nil
}
