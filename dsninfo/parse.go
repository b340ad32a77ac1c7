package dsninfo

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/mail"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/internal/header"
)

// Errors of Parse. Every error from the message itself is a
// *ParseError that wraps one of them (errors.Is works); a failing
// reader's error is returned as is.
var (
	// ErrNotDSN: the input is not a delivery status notification: not
	// a mail message, or one with no delivery-status fields.
	ErrNotDSN = errors.New("dsninfo: not a delivery status notification")
	// ErrLimit: the input exceeds one of the Parser's limits.
	ErrLimit = errors.New("dsninfo: limit exceeded")
)

// A ParseError says why Parse rejected a message.
type ParseError struct {
	Reason string // what is wrong, e.g. "no delivery-status part or fields"
	Err    error  // ErrNotDSN or ErrLimit
}

func (e *ParseError) Error() string { return "dsninfo: " + e.Reason }

// Unwrap returns ErrNotDSN or ErrLimit.
func (e *ParseError) Unwrap() error { return e.Err }

// Default limits of a Parser.
const (
	DefaultMaxSize        = 32 << 20
	DefaultMaxHeaderBytes = 1 << 20
	DefaultMaxRecipients  = 1000
	DefaultMaxParts       = 1000
	DefaultMaxDepth       = 16
)

// A Parser reads DSNs with limits. The zero value uses the defaults.
type Parser struct {
	MaxSize        int64 // bytes of input; DefaultMaxSize
	MaxHeaderBytes int   // bytes of any one header block; DefaultMaxHeaderBytes
	MaxRecipients  int   // per-recipient blocks; DefaultMaxRecipients
	MaxParts       int   // MIME parts in all; DefaultMaxParts
	MaxDepth       int   // nesting of multiparts and messages; DefaultMaxDepth

	// DiagnosticField is the name of Exim's extra diagnostic field to
	// read into Recipient.Diagnostic; empty is DefaultDiagnosticField.
	DiagnosticField string
}

// Parse reads one DSN with the default limits; see Parser.Parse.
func Parse(r io.Reader) (*Report, error) {
	var p Parser
	return p.Parse(r)
}

// Parse reads an RFC 3464 delivery status notification, Exim's extra
// fields included, into a Report.
//
// It finds the first message/delivery-status (or message/global-
// delivery-status) part anywhere in the MIME tree (inside multipart/*
// and message/rfc822 parts too), takes the human-readable text from the
// text part before it and the returned message or header from the part
// after it. When there is no such part, as with MTAs that write the
// fields into a text/plain part or into a message whose MIME structure
// is broken, it looks for a block of fields starting with a
// Reporting-MTA or Final-Recipient line in the message text instead.
//
// It accepts LF or CRLF line ends, a leading mbox "From " line, folded
// fields, any case in names, types and the Action word, comments after
// Status and Action, angle brackets round rfc822 addresses, indented
// boundary lines, a missing closing boundary, per-message fields left
// out, and fields it does not know (kept in order in Extra). Values that
// do not parse (a date, an X-ip address) are kept in Extra too.
func (p *Parser) Parse(r io.Reader) (*Report, error) {
	max := p.MaxSize
	if max <= 0 {
		max = DefaultMaxSize
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, &ParseError{"message larger than " + strconv.FormatInt(max, 10) + " bytes", ErrLimit}
	}
	return p.parseBytes(b)
}

type parser struct {
	*Parser
	parts    int
	rep      *Report
	status   []byte
	fallback bool
}

func (p *Parser) limit(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func (p *Parser) parseBytes(b []byte) (*Report, error) {
	if bytes.IndexByte(b, '\r') >= 0 {
		b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	}
	if bytes.HasPrefix(b, []byte("From ")) {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		} else {
			b = nil
		}
	}
	ps := &parser{Parser: p, rep: &Report{}}
	hdr, body, ok := readHeader(b, p.limit(p.MaxHeaderBytes, DefaultMaxHeaderBytes))
	if !ok {
		return nil, &ParseError{"header larger than the limit", ErrLimit}
	}
	if len(hdr) == 0 {
		return nil, &ParseError{"no header fields", ErrNotDSN}
	}
	found, err := ps.walk(hdr, hdr, body, 0)
	if err != nil {
		return nil, err
	}
	if !found {
		ps.setHeader(hdr)
		mt, _ := contentType(hdr)
		if !ps.scanText(body, strings.HasPrefix(mt, "multipart/")) {
			if !ps.scanPlainBounce(hdr, body) {
				return nil, &ParseError{"no delivery-status part or fields", ErrNotDSN}
			}
		}
	}
	if !ps.rep.PlainText {
		if err := ps.parseStatus(); err != nil {
			return nil, err
		}
	}
	if p.DiagnosticField != "" && !strings.EqualFold(p.DiagnosticField, DefaultDiagnosticField) {
		ps.rep.DiagnosticField = p.DiagnosticField
	}
	return ps.rep, nil
}

func (ps *parser) setHeader(hdr []Field) {
	r := ps.rep
	dec := new(mime.WordDecoder)
	decode := func(s string) string {
		if !strings.Contains(s, "=?") {
			return s
		}
		if d, err := dec.DecodeHeader(s); err == nil {
			return d
		}
		return s
	}
	r.From = decode(get(hdr, "From"))
	r.To = decode(get(hdr, "To"))
	r.Subject = decode(get(hdr, "Subject"))
	r.MessageID = get(hdr, "Message-ID")
	if d := get(hdr, "Date"); d != "" {
		r.Date, _ = parseDate(d)
	}
}

// walk looks for the delivery-status part in the entity with header
// hdr and body; msgHdr is the header of the message that holds it.
func (ps *parser) walk(msgHdr, hdr []Field, body []byte, depth int) (bool, error) {
	if depth > ps.limit(ps.MaxDepth, DefaultMaxDepth) {
		return false, &ParseError{"MIME structure nested too deep", ErrLimit}
	}
	mt, params := contentType(hdr)
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		boundary := params["boundary"]
		if boundary == "" {
			return false, nil
		}
		raw, ok, tooMany := splitMultipart(body, boundary, ps.limit(ps.MaxParts, DefaultMaxParts)-ps.parts)
		if tooMany {
			return false, &ParseError{"too many MIME parts", ErrLimit}
		}
		if !ok {
			return false, nil
		}
		ps.parts += len(raw)
		type entity struct {
			hdr  []Field
			body []byte
			mt   string
		}
		ents := make([]entity, len(raw))
		max := ps.limit(ps.MaxHeaderBytes, DefaultMaxHeaderBytes)
		for i, part := range raw {
			h, b, ok := readHeader(part, max)
			if !ok {
				return false, &ParseError{"part header larger than the limit", ErrLimit}
			}
			t, _ := contentType(h)
			ents[i] = entity{h, b, t}
		}
		for i, e := range ents {
			if isStatusType(e.mt) {
				ps.setHeader(msgHdr)
				ps.rep.Boundary = boundary
				ps.status = decodeBody(e.hdr, e.body)
				for j := i - 1; j >= 0; j-- {
					if t, ok := ps.firstText(ents[j].hdr, ents[j].body, depth+1); ok {
						ps.rep.HumanText = t
						break
					}
				}
				for _, o := range ents[i+1:] {
					switch o.mt {
					case "message/rfc822", "message/global":
						ps.rep.Return, ps.rep.Original = ReturnFull, decodeBody(o.hdr, o.body)
					case "text/rfc822-headers", "message/global-headers":
						ps.rep.Return, ps.rep.Original = ReturnHeaders, decodeBody(o.hdr, o.body)
					default:
						continue
					}
					break
				}
				return true, nil
			}
			found, err := ps.walk(msgHdr, e.hdr, e.body, depth+1)
			if found || err != nil {
				return found, err
			}
		}
	case mt == "message/rfc822" || mt == "message/global":
		h, b, ok := readHeader(body, ps.limit(ps.MaxHeaderBytes, DefaultMaxHeaderBytes))
		if !ok {
			return false, &ParseError{"header larger than the limit", ErrLimit}
		}
		return ps.walk(h, h, b, depth+1)
	case isStatusType(mt):
		// A bare delivery-status message (at the top or in message/rfc822).
		ps.setHeader(msgHdr)
		ps.status = decodeBody(hdr, body)
		return true, nil
	}
	return false, nil
}

func isStatusType(mt string) bool {
	return mt == "message/delivery-status" || mt == "message/global-delivery-status"
}

// firstText returns the first text/plain (else text/*) body in an
// entity, descending into multiparts.
func (ps *parser) firstText(hdr []Field, body []byte, depth int) (string, bool) {
	if depth > ps.limit(ps.MaxDepth, DefaultMaxDepth) {
		return "", false
	}
	mt, params := contentType(hdr)
	switch {
	case mt == "text/plain":
		return string(decodeBody(hdr, body)), true
	case strings.HasPrefix(mt, "multipart/") && params["boundary"] != "":
		raw, _, _ := splitMultipart(body, params["boundary"], ps.limit(ps.MaxParts, DefaultMaxParts))
		for _, part := range raw {
			h, b, ok := readHeader(part, ps.limit(ps.MaxHeaderBytes, DefaultMaxHeaderBytes))
			if !ok {
				continue
			}
			if t, ok := ps.firstText(h, b, depth+1); ok {
				return t, true
			}
		}
	}
	return "", false
}

// scanText looks for the DSN fields in plain text: the first line
// that starts with Reporting-MTA:, else with Final-Recipient:.
func (ps *parser) scanText(body []byte, multipart bool) bool {
	at := -1
	for _, name := range []string{"reporting-mta:", "final-recipient:"} {
		for pos := 0; pos < len(body); {
			end := bytes.IndexByte(body[pos:], '\n')
			if end < 0 {
				end = len(body) - pos
			}
			line := body[pos : pos+end]
			if len(line) >= len(name) && strings.EqualFold(string(line[:len(name)]), name) {
				at = pos
				break
			}
			pos += end + 1
		}
		if at >= 0 {
			break
		}
	}
	if at < 0 {
		return false
	}
	ps.status = body[at:]
	ps.fallback = true
	if !multipart {
		ps.rep.HumanText = string(body[:at])
	}
	return true
}

// groups splits the status text into blocks of fields separated by
// blank lines. In fallback mode (fields found in plain text) a line
// that is neither a field nor a continuation ends the text; otherwise
// such lines are skipped.
func (ps *parser) groups() ([][]Field, error) {
	var (
		out [][]Field
		b   = ps.status
		max = ps.limit(ps.MaxRecipients, DefaultMaxRecipients) + 1
	)
	// Each block is read as one header section: strict, so that stray
	// lines come back as fields with defects, which fieldsOf skips
	// (or stops at) in one pass however many there are.
	block := func(blk []byte) (stop bool) {
		if len(blk) == 0 {
			return false
		}
		if bytes.IndexByte(blk, ':') < 0 { // stray lines only
			return ps.fallback
		}
		s, _, err := header.Parse(blk, header.Options{Max: 2*len(blk) + 2})
		if err != nil { // cannot happen: Max covers the whole block
			return true
		}
		g, stopped := fieldsOf(s, ps.fallback)
		if len(g) > 0 {
			out = append(out, g)
		}
		return stopped
	}
	start := 0
	for pos := 0; pos < len(b); {
		end := bytes.IndexByte(b[pos:], '\n')
		next := len(b)
		if end < 0 {
			end = len(b)
		} else {
			end += pos
			next = end + 1
		}
		if len(bytes.TrimSpace(b[pos:end])) == 0 {
			if block(b[start:pos]) {
				return out, nil
			}
			if len(out) > max {
				return nil, &ParseError{"more than " + strconv.Itoa(max-1) + " recipients", ErrLimit}
			}
			start = next
		}
		pos = next
	}
	block(b[min(start, len(b)):])
	return out, nil
}

func isRecipientGroup(g []Field) bool {
	for _, f := range g {
		switch lower(f.Name) {
		case "final-recipient", "original-recipient", "action":
			return true
		}
	}
	return false
}

func (ps *parser) parseStatus() error {
	gs, err := ps.groups()
	if err != nil {
		return err
	}
	if len(gs) > 0 && !isRecipientGroup(gs[0]) {
		ps.perMessage(gs[0])
		gs = gs[1:]
	}
	max := ps.limit(ps.MaxRecipients, DefaultMaxRecipients)
	for _, g := range gs {
		if !isRecipientGroup(g) {
			if ps.fallback {
				break
			}
			continue
		}
		if len(ps.rep.Recipients) >= max {
			return &ParseError{"more than " + strconv.Itoa(max) + " recipients", ErrLimit}
		}
		ps.rep.Recipients = append(ps.rep.Recipients, ps.recipient(g))
	}
	if len(ps.rep.Recipients) == 0 {
		return &ParseError{"no per-recipient fields", ErrNotDSN}
	}
	return nil
}

func (ps *parser) perMessage(g []Field) {
	r := ps.rep
	var seenMTA bool
	for _, f := range g {
		switch lower(f.Name) {
		case "reporting-mta":
			if !seenMTA {
				seenMTA = true
				t := parseTyped(f.Value, false)
				r.ReportingMTAType, r.ReportingMTA = t.Type, t.Value
				continue
			}
		case "original-envelope-id":
			if r.OriginalEnvelopeID == "" {
				r.OriginalEnvelopeID = f.Value
				continue
			}
		case "arrival-date":
			if t, ok := parseDate(f.Value); ok && r.ArrivalDate.IsZero() {
				r.ArrivalDate = t
				continue
			}
		}
		r.Extra = append(r.Extra, f)
	}
}

func (ps *parser) recipient(g []Field) Recipient {
	var rc Recipient
	diag := ps.DiagnosticField
	if diag == "" {
		diag = DefaultDiagnosticField
	}
	for _, f := range g {
		name := lower(f.Name)
		switch {
		case name == "original-recipient" && rc.OriginalRecipient.IsZero():
			rc.OriginalRecipient = parseTyped(f.Value, true)
			continue
		case name == "final-recipient" && rc.FinalRecipient.IsZero():
			rc.FinalRecipient = parseTyped(f.Value, true)
			continue
		case name == "action" && rc.Action == "":
			if w := firstWord(f.Value); w != "" {
				rc.Action = Action(lower(w))
				continue
			}
		case name == "status" && rc.Status == "":
			if w := firstWord(f.Value); w != "" {
				rc.Status = w
				continue
			}
		case name == "remote-mta":
			t := parseTyped(f.Value, false)
			switch {
			case t.Type == "dns" && rc.RemoteMTA == "":
				rc.RemoteMTA = t.Value
				continue
			case t.Type == "x-ip" && !rc.RemoteIP.IsValid():
				if ip, port, ok := parseXIP(t.Value); ok {
					rc.RemoteIP, rc.RemotePort = ip, port
					continue
				}
			}
		case name == lower(fieldGreeting) && rc.Greeting == "":
			rc.Greeting = xstr(f.Value)
			continue
		case name == lower(fieldHELO) && rc.HELOResponse == "":
			rc.HELOResponse = xstr(f.Value)
			continue
		case name == lower(diag) && rc.Diagnostic == "":
			rc.Diagnostic = xstr(f.Value)
			continue
		case name == "diagnostic-code" && rc.DiagnosticCode.IsZero():
			rc.DiagnosticCode = parseTyped(f.Value, false)
			continue
		case name == "last-attempt-date" && rc.LastAttemptDate.IsZero():
			if t, ok := parseDate(f.Value); ok {
				rc.LastAttemptDate = t
				continue
			}
		case name == "will-retry-until" && rc.WillRetryUntil.IsZero():
			if t, ok := parseDate(f.Value); ok {
				rc.WillRetryUntil = t
				continue
			}
		}
		rc.Extra = append(rc.Extra, f)
	}
	return rc
}

// parseTyped splits "type; value". The type must be an atom; when it
// is not (or there is no ';') the whole text is the value. For
// addresses, angle brackets round the value are dropped.
func parseTyped(s string, addr bool) Typed {
	var t Typed
	if typ, v, ok := strings.Cut(s, ";"); ok && validType(strings.TrimSpace(typ), false) {
		t = Typed{Type: lower(strings.TrimSpace(typ)), Value: strings.TrimSpace(v)}
	} else {
		t = Typed{Value: strings.TrimSpace(s)}
	}
	if addr && len(t.Value) >= 2 && t.Value[0] == '<' && t.Value[len(t.Value)-1] == '>' {
		t.Value = strings.TrimSpace(t.Value[1 : len(t.Value)-1])
	}
	return t
}

// firstWord returns the first word of s, before any comment.
func firstWord(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t("); i >= 0 {
		s = s[:i]
	}
	return s
}

// xstr drops the "X-str;" type of Exim's extra fields.
func xstr(s string) string {
	if len(s) >= 6 && strings.EqualFold(s[:6], "x-str;") {
		return strings.TrimSpace(s[6:])
	}
	return s
}

// parseXIP reads "[ip]" or "[ip]:port" (port 25 when absent).
func parseXIP(s string) (netip.Addr, int, bool) {
	if !strings.HasPrefix(s, "[") {
		return netip.Addr{}, 0, false
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return netip.Addr{}, 0, false
	}
	ip, err := netip.ParseAddr(s[1:end])
	if err != nil {
		return netip.Addr{}, 0, false
	}
	port := 25
	if rest := s[end+1:]; rest != "" {
		if rest[0] != ':' {
			return netip.Addr{}, 0, false
		}
		n, err := strconv.Atoi(rest[1:])
		if err != nil || n <= 0 || n > 65535 {
			return netip.Addr{}, 0, false
		}
		port = n
	}
	return ip, port, true
}

// parseDate reads an RFC 5322 date, trying the usual form first (it
// is the common case and mail.ParseDate's search through its layouts
// allocates an error for each miss).
func parseDate(s string) (time.Time, bool) {
	v := s
	if i := strings.IndexByte(v, '('); i > 0 {
		v = strings.TrimSpace(v[:i])
	}
	if t, err := time.Parse("Mon, _2 Jan 2006 15:04:05 -0700", v); err == nil {
		return t, true
	}
	t, err := mail.ParseDate(s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}
