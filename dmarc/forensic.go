package dmarc

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ForensicReport is one failure report, ready to be submitted.
type ForensicReport struct {
	EnvelopeFrom string // MAIL FROM address; "" is the null sender <>
	To           string // the single RCPT TO address
	Message      []byte // the whole RFC 5322 message, CRLF line ends, 7-bit
	// AuthFailure is the report's Auth-Failure: "dmarc", or for the DKIM
	// and SPF failure reports RFC 9991 reports make for fo=d and fo=s
	// "bodyhash", "signature" or "spf" (RFC 6591 §3.1).
	AuthFailure string
}

// Errors of ForensicReports. The first two concern its arguments and
// come alone; the last two are the reasons in a *ForensicSkipError.
var (
	ErrForensicNoRecord     = errors.New("dmarc: forensic report needs an Outcome with a Record")
	ErrForensicNoInput      = errors.New("dmarc: forensic report needs the Input with the client IP")
	ErrForensicTooLarge     = errors.New("dmarc: forensic report exceeds the ruf= size limit")
	ErrForensicBadRecipient = errors.New("dmarc: ruf= address is not a plain mailbox")
)

// ForensicOptionError reports an option ForensicReports cannot use (a
// sender that is not one address, a host name that is not one), or a
// failing WithForensicRand reader. No report is built.
type ForensicOptionError struct {
	// Option names the option: "WithForensicSender",
	// "WithForensicReporter", "WithReportingMTA" or "WithForensicRand".
	Option string
	Err    error
}

func (e *ForensicOptionError) Error() string {
	return fmt.Sprintf("dmarc: forensic report option %s: %v", e.Option, e.Err)
}

func (e *ForensicOptionError) Unwrap() error { return e.Err }

// ForensicSkipError says that one ruf= address gets no report, and why.
// ForensicReports still returns the reports of the other addresses.
type ForensicSkipError struct {
	Recipient string
	Size      int    // smallest size the report could be shrunk to (ErrForensicTooLarge)
	Limit     uint64 // the ruf= size limit in bytes (ErrForensicTooLarge)
	Err       error  // ErrForensicTooLarge or ErrForensicBadRecipient
}

func (e *ForensicSkipError) Error() string {
	if errors.Is(e.Err, ErrForensicTooLarge) {
		return fmt.Sprintf("%v: %d bytes > %d for %q", e.Err, e.Size, e.Limit, e.Recipient)
	}
	return fmt.Sprintf("%v: %q", e.Err, e.Recipient)
}

func (e *ForensicSkipError) Unwrap() error { return e.Err }

// forensicUserAgent names this implementation in the User-Agent: field
// RFC 5965 requires.
const forensicUserAgent = "mailpolicy-dmarc/1.0"

// Line limits: RFC 5322 §2.1.1 hard limit (without CRLF), the
// recommended folding width, and the quoted-printable line width.
const (
	forensicMaxLine = 998
	forensicFoldAt  = 78
	forensicQPLine  = 76
)

// ForensicReports builds the DMARC failure reports for the message, one
// per address in o.Forensic (the ruf= mailto: addresses Evaluate chose
// by fo=; duplicates get one report). original is what was received: its
// header section is copied into the report and its body, if present
// after the first empty line, is left out, as in Exim.
//
// Each report is a multipart/report; report-type=feedback-report (RFC
// 5965, RFC 6591) whose first part is Exim's human-readable text
// followed by a copy of the headers, whose second part is the
// message/feedback-report with Feedback-Type auth-failure and
// Auth-Failure dmarc, and whose third part is the header section as
// text/rfc822-headers. The top-level fields are Exim's: From:
// (WithForensicSender, else WithForensicReporter), To:,
// Auto-Submitted: auto-replied, References: and Exim's Subject:, with
// Date:, Message-ID: and the MIME fields. Date:, the text's Received Date and Arrival-Date: are
// WithClock's time (default time.Now), in its time zone, as Exim prints
// the time DMARC ran.
//
// The whole message is 7-bit with CRLF line ends and no line over 998
// bytes. Parts 1 and 3 stay 7bit when the received headers allow it;
// headers with 8-bit bytes, NUL, bare CR or lines over 998 bytes are
// sent quoted-printable (RFC 6522 allows this for text/rfc822-headers),
// so the copy stays byte-exact after decoding and cannot break the
// report's structure. Text from the message or the DNS that goes into
// the report's own fields has control characters and non-ASCII bytes
// replaced by "?" (the Subject: is RFC 2047-encoded instead when the
// text is valid UTF-8), so it cannot add fields or lines.
//
// A ruf= address with a size limit ("!50k") gets a smaller report when
// the full one is too big: first without the copy of the headers in
// the text part, then also with only the main fields (From, Sender, To,
// Cc, Date, Subject, Message-ID) in the third part. If even that is too
// big the address is skipped. Addresses that are not plain mailboxes
// are skipped too.
//
// With an outcome of ModeRFC9989 (or WithMode(ModeRFC9989) among
// opts) the reports follow RFC 9991 instead: the Subject says "DMARC
// Failure Report"; Identity-Alignment lists the mechanisms that failed
// to authenticate an aligned identity (the reverse of RFC 7489's
// meaning); DKIM-Domain, DKIM-Identity and DKIM-Selector name the first
// failing signature of an aligned domain, and SPF-DNS the SPF records
// (WithForensicSPFRecords) when SPF failed for an aligned domain; fo=
// is read per RFC 9989 §4.7 (see forensicKinds9991): fo=0 and fo=1 ask
// for this DMARC report, fo=d for a DKIM failure report (Auth-Failure
// bodyhash or signature, "DKIM Failure Report") about the first
// signature that failed, fo=s for an SPF failure report (Auth-Failure
// spf), each recipient getting every kind asked for; a record with
// psd=y gets none (RFC 9991 §2). WithForensicRedaction removes personal
// data from the copied headers as RFC 9991 §7 suggests, in either mode.
// RFC 9991 also wants external ruf= destinations verified (package
// dmarc/report's CheckDestination with tag "ruf") and reports
// rate-limited; both are the caller's, before sending.
//
// ForensicReports returns nothing when o.Forensic is empty. It fails
// with ErrForensicNoRecord for a nil o or o.Record, ErrForensicNoInput
// for a nil in or one without a valid ClientIP, and a
// *ForensicOptionError for unusable options; it then returns no report.
// Otherwise the reports it returns are complete even when err is not
// nil: err then joins one *ForensicSkipError per skipped address.
//
// The options are those of forensic_options.go and WithClock; the
// others are ignored, so the list given to Evaluate can be reused.
func ForensicReports(in *Input, o *Outcome, original []byte, opts ...Option) ([]ForensicReport, error) {
	if o == nil || o.Record == nil {
		return nil, ErrForensicNoRecord
	}
	if len(o.Forensic) == 0 {
		return nil, nil
	}
	if in == nil || !in.ClientIP.IsValid() {
		return nil, ErrForensicNoInput
	}
	var c config
	c.init(opts)
	kinds := []forensicKind{{auth: "dmarc"}}
	rfc9991 := o.Mode == ModeRFC9989 || c.mode == ModeRFC9989
	if rfc9991 {
		// RFC 9991 §2: ruf= of a record with psd=y is not considered.
		if o.Record.PSD == 'y' {
			return nil, nil
		}
		kinds = forensicKinds9991(in, o)
	}
	var builders []*forensicBuilder
	for _, k := range kinds {
		b, err := newForensicBuilder(in, o, original, &c, k, rfc9991)
		if err != nil {
			return nil, err
		}
		builders = append(builders, b)
	}
	var reports []ForensicReport
	var skipped []error
	seen := make(map[string]bool, len(o.Forensic))
	for _, rcpt := range o.Forensic {
		rcpt = strings.TrimSpace(rcpt)
		if len(rcpt) > 7 && strings.EqualFold(rcpt[:7], "mailto:") {
			rcpt = rcpt[7:]
		}
		key := strings.ToLower(rcpt)
		if seen[key] {
			continue
		}
		seen[key] = true
		if !forensicMailbox(rcpt) {
			skipped = append(skipped, &ForensicSkipError{Recipient: rcpt, Err: ErrForensicBadRecipient})
			continue
		}
		for _, b := range builders {
			msg, skip, err := b.report(rcpt, forensicLimit(o.Record, rcpt))
			if err != nil {
				return nil, err
			}
			if skip != nil {
				skipped = append(skipped, skip)
				continue
			}
			reports = append(reports, ForensicReport{EnvelopeFrom: b.envFrom, To: rcpt, Message: msg, AuthFailure: b.kind.auth})
		}
	}
	return reports, errors.Join(skipped...)
}

// forensicLimit is the smallest non-zero ruf= size limit given for
// rcpt (0 = none). A record naming the same address twice with
// different limits gets the stricter one.
func forensicLimit(r *Record, rcpt string) uint64 {
	var limit uint64
	for _, u := range r.RUF {
		if !strings.EqualFold(u.Mailbox(), rcpt) {
			continue
		}
		if m := u.MaxBytes(); m > 0 && (limit == 0 || m < limit) {
			limit = m
		}
	}
	return limit
}

// forensicBuilder holds what is the same in every recipient's report.
type forensicBuilder struct {
	kind     forensicKind
	rand     io.Reader
	from     string // From: value
	envFrom  string
	msgIDDom string
	fixed    []byte   // top-level fields after To:, up to MIME-Version:
	text     []string // part 1 lines before the headers note
	arf      []byte   // part 2, header and body
	headers  []string // the received header section's lines
	mainHdrs []string // its main fields only (the smallest report)
}

func newForensicBuilder(in *Input, o *Outcome, original []byte, c *config, k forensicKind, rfc9991 bool) (*forensicBuilder, error) {
	opts := &c.forensic
	b := &forensicBuilder{kind: k, rand: opts.rand}
	if b.rand == nil {
		b.rand = rand.Reader
	}
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	option, text := "WithForensicSender", opts.sender
	if strings.TrimSpace(text) == "" {
		option, text = "WithForensicReporter", opts.reporter
	}
	from, addr, err := forensicFromField(text)
	if err != nil {
		return nil, &ForensicOptionError{Option: option, Err: err}
	}
	b.from = from
	if option == "WithForensicSender" {
		b.envFrom = addr
	}
	b.msgIDDom = addr[strings.LastIndexByte(addr, '@')+1:]
	if opts.reportingMTA != "" {
		if !forensicHostname(opts.reportingMTA) {
			return nil, &ForensicOptionError{Option: "WithReportingMTA", Err: fmt.Errorf("%q is not a host name", opts.reportingMTA)}
		}
		b.msgIDDom = opts.reportingMTA
	}

	date := now().Format(time.RFC1123Z)
	ip := in.ClientIP.Unmap().WithZone("").String()
	used := o.UsedDomain
	if used == "" {
		used = o.FromDomain
	}
	headers, fields := forensicHeader(original)
	mailFrom := in.MailFrom
	if opts.redact {
		r, err := newForensicRedactor(opts.redactKey, b.rand)
		if err != nil {
			return nil, &ForensicOptionError{Option: "WithForensicRand", Err: err}
		}
		headers = r.headers(headers, fields)
		mailFrom = r.address(mailFrom)
	}
	b.headers = headers

	subject := "DMARC Forensic Report for " + used + " from IP " + ip
	if rfc9991 {
		subject = k.subject() + " for " + used + " from IP " + ip
	}
	var fx []byte
	fx = forensicField(fx, "Date", date)
	fx = forensicField(fx, "Subject", forensicSubject(subject))
	fx = forensicField(fx, "Auto-Submitted", "auto-replied")
	if refs := forensicReferences(fields); refs != "" {
		fx = forensicField(fx, "References", refs)
	}
	b.fixed = forensicField(fx, "MIME-Version", "1.0")

	status := o.StatusText
	if status == "" {
		status = o.Status.Text()
	}
	b.text = append(k.intro(), []string{
		"",
		"  Sender Domain: " + forensicBodyText(o.FromDomain),
		"  Sender IP Address: " + ip,
		"  Received Date: " + date,
		"  SPF Alignment: " + forensicYesNo(o.AlignedSPF),
		"  DKIM Alignment: " + forensicYesNo(o.AlignedDKIM),
		"  DMARC Results: " + forensicBodyText(status),
		"",
	}...)

	var r []byte
	r = forensicField(r, "Content-Type", "message/feedback-report")
	r = append(r, "\r\n"...)
	r = forensicField(r, "Feedback-Type", "auth-failure")
	r = forensicField(r, "User-Agent", forensicUserAgent)
	r = forensicField(r, "Version", "1")
	r = forensicField(r, "Auth-Failure", k.auth)
	r = forensicField(r, "Original-Mail-From", "<"+forensicASCII(mailFrom)+">")
	r = forensicField(r, "Arrival-Date", date)
	if opts.reportingMTA != "" {
		r = forensicField(r, "Reporting-MTA", "dns; "+opts.reportingMTA)
	}
	r = forensicField(r, "Source-IP", ip)
	if o.FromDomain != "" {
		r = forensicField(r, "Reported-Domain", forensicASCII(o.FromDomain))
	}
	id := c.authservID
	if id == "" {
		id = b.msgIDDom
	}
	r = forensicField(r, "Authentication-Results", forensicAuthResults(opts.authResults, o, id))
	if rfc9991 {
		r = forensicFields9991(r, in, o, c, k)
	} else {
		r = forensicField(r, "Identity-Alignment", forensicAlignment(o))
	}
	r = forensicField(r, "Delivery-Result", forensicDelivery(o.Status))
	b.arf = r

	for _, f := range fields {
		switch strings.ToLower(f.name) {
		case "from", "sender", "to", "cc", "date", "subject", "message-id":
			b.mainHdrs = append(b.mainHdrs, b.headers[f.first:f.end]...)
		}
	}
	return b, nil
}

// Shrinking steps for a ruf= size limit.
const (
	forensicFull     = iota // everything
	forensicNoCopy          // no copy of the headers in part 1
	forensicMainOnly        // and only the main fields in part 3
)

// report builds rcpt's message at the largest size that fits limit, or
// returns why it cannot.
func (b *forensicBuilder) report(rcpt string, limit uint64) ([]byte, *ForensicSkipError, error) {
	var rnd [24]byte
	if _, err := io.ReadFull(b.rand, rnd[:]); err != nil {
		return nil, nil, &ForensicOptionError{Option: "WithForensicRand", Err: err}
	}
	msgID := "<dmarc-forensic." + hex.EncodeToString(rnd[:12]) + "@" + b.msgIDDom + ">"
	boundary, err := b.boundary(rnd[12:])
	if err != nil {
		return nil, nil, err
	}
	var msg []byte
	for level := forensicFull; level <= forensicMainOnly; level++ {
		msg = b.build(rcpt, msgID, boundary, level)
		if limit == 0 || uint64(len(msg)) <= limit {
			return msg, nil, nil
		}
	}
	return nil, &ForensicSkipError{Recipient: rcpt, Size: len(msg), Limit: limit, Err: ErrForensicTooLarge}, nil
}

// boundary makes a MIME boundary that occurs nowhere in the parts
// (RFC 2046 §5.1.1). Received headers are copied verbatim, so one that
// contains the boundary would end a part early; a new random boundary
// is drawn then, which only a WithForensicRand reader repeating itself can fail.
func (b *forensicBuilder) boundary(first []byte) (string, error) {
	rnd := first
	for try := 0; try < 8; try++ {
		bd := "=_dmarc_" + hex.EncodeToString(rnd)
		if !b.contains(bd) {
			return bd, nil
		}
		rnd = make([]byte, len(first))
		if _, err := io.ReadFull(b.rand, rnd); err != nil {
			return "", &ForensicOptionError{Option: "WithForensicRand", Err: err}
		}
	}
	return "", &ForensicOptionError{Option: "WithForensicRand", Err: errors.New("no MIME boundary absent from the headers")}
}

func (b *forensicBuilder) contains(s string) bool {
	if bytes.Contains(b.arf, []byte(s)) {
		return true
	}
	for _, l := range b.headers {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

func (b *forensicBuilder) build(rcpt, msgID, boundary string, level int) []byte {
	var m []byte
	m = forensicField(m, "From", b.from)
	m = forensicField(m, "To", rcpt)
	m = forensicField(m, "Message-ID", msgID)
	m = append(m, b.fixed...)
	m = forensicField(m, "Content-Type", `multipart/report; report-type=feedback-report; boundary="`+boundary+`"`)
	m = append(m, "\r\n"...)

	text := append([]string(nil), b.text...)
	if level == forensicFull {
		text = append(text,
			"------ This is a copy of the headers that were received before the error",
			"       was detected.",
			"")
		text = append(text, b.headers...)
	} else {
		text = append(text,
			"------ The copy of the headers is left out to keep this report within",
			"       the size limit of your ruf= address; see the last part.")
	}
	m = append(m, "--"+boundary+"\r\n"...)
	m = forensicTextPart(m, "text/plain", text)

	m = append(m, "\r\n--"+boundary+"\r\n"...)
	m = append(m, b.arf...)

	hdrs := b.headers
	if level == forensicMainOnly {
		hdrs = b.mainHdrs
	}
	m = append(m, "\r\n--"+boundary+"\r\n"...)
	m = forensicTextPart(m, "text/rfc822-headers", hdrs)
	m = append(m, "\r\n--"+boundary+"--\r\n"...)
	return m
}

// forensicAuthResults is the value of the caller's Authentication-Results
// field (WithForensicAuthResults), unfolded; without one it states the
// DMARC result alone, as RFC 6591 §3.1 wants the field present.
func forensicAuthResults(v string, o *Outcome, authservID string) string {
	if c := strings.IndexByte(v, ':'); c >= 0 && strings.EqualFold(strings.TrimSpace(v[:c]), "Authentication-Results") {
		v = v[c+1:]
	}
	v = strings.NewReplacer("\r\n", "", "\n", "", "\t", " ").Replace(v)
	v = strings.Join(strings.Fields(forensicASCII(v)), " ") // folds become one space
	if v == "" {
		v = forensicASCII(authservID) + "; dmarc=" + forensicDMARCWord(o)
		if o.FromDomain != "" {
			v += " header.from=" + forensicASCII(o.FromDomain)
		}
	}
	return v
}

// forensicDMARCWord is RFC 7489 §11.2's dmarc= result for the outcome,
// as authres.FromDMARC writes it by default.
func forensicDMARCWord(o *Outcome) string {
	switch o.Status {
	case StatusAccept:
		return "pass"
	case StatusReject, StatusQuarantine:
		return "fail"
	case StatusNone:
		if o.Record != nil {
			return "fail"
		}
		return "none"
	case StatusNoRecord:
		return "none"
	case StatusNoFrom:
		return "permerror"
	case StatusTempError:
		return "temperror"
	}
	return "none"
}

// forensicAlignment is the Identity-Alignment: value of RFC 7489 §7.3:
// the aligned methods, or "none". RFC 9991 turned the meaning round
// (forensicAlignment9991).
func forensicAlignment(o *Outcome) string {
	switch {
	case o.AlignedDKIM && o.AlignedSPF:
		return "dkim, spf"
	case o.AlignedDKIM:
		return "dkim"
	case o.AlignedSPF:
		return "spf"
	}
	return "none"
}

// forensicDelivery is the Delivery-Result: (RFC 6591 §3.1) that the
// DMARC status asks for: rejected, quarantined (delivered to a spam
// folder), delivered, or "other" for an error. What the ACL finally
// did is not known here.
func forensicDelivery(s Status) string {
	switch s {
	case StatusReject:
		return "reject"
	case StatusQuarantine:
		return "spam"
	case StatusAccept, StatusNone, StatusNoRecord:
		return "delivered"
	}
	return "other"
}

func forensicYesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
