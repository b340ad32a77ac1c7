package bmi

import (
	"bufio"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
)

// ReplyError reports a spamd reply that does not follow the protocol:
// garbage, a truncated reply, a reply larger than the limit.
type ReplyError struct {
	Reason string
}

func (e *ReplyError) Error() string { return "bmi: spamd: malformed reply: " + e.Reason }

// SpamdError is a spamd reply with a non-zero status code
// ("SPAMD/1.0 76 Bad header line: ..."). Codes are sysexits(3) values.
type SpamdError struct {
	Code    int
	Message string // spamd's text, control characters removed
}

func (e *SpamdError) Error() string {
	s := "bmi: spamd: error " + strconv.Itoa(e.Code)
	if n := exName(e.Code); n != "" {
		s += " " + n
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// exName returns the sysexits(3) name of code, or "".
func exName(code int) string {
	names := [...]string{"EX_USAGE", "EX_DATAERR", "EX_NOINPUT", "EX_NOUSER",
		"EX_NOHOST", "EX_UNAVAILABLE", "EX_SOFTWARE", "EX_OSERR", "EX_OSFILE",
		"EX_CANTCREAT", "EX_IOERR", "EX_TEMPFAIL", "EX_PROTOCOL", "EX_NOPERM",
		"EX_CONFIG", "EX_TIMEOUT"}
	switch {
	case code == 0:
		return "EX_OK"
	case code >= 64 && code < 64+len(names):
		return names[code-64]
	}
	return ""
}

// spamdPing is the internal command for PING, which has its own reply.
const spamdPing SpamdCommand = 255

// maxReplyLine bounds one status or header line.
const maxReplyLine = 4096

// parseReply reads one spamd reply to cmd from r, reading at most max
// bytes. It is strict: a status line "SPAMD/<major>.<minor> <code>
// <message>", then (for code 0) header lines up to a blank line, among
// them exactly one "Spam: True|False|Yes|No ; <score> / <threshold>",
// and, for SYMBOLS and REPORT, a body of exactly Content-length bytes.
// A PING reply is the status line "SPAMD/<ver> 0 PONG" alone. Line ends
// are CRLF or LF.
//
// A non-zero code gives *SpamdError, a protocol violation (including a
// truncated reply) *ReplyError; any other read error is returned as is.
func parseReply(r *bufio.Reader, cmd SpamdCommand, max int) (*SpamdResult, error) {
	p := replyParser{r: r, left: max}
	line, err := p.line()
	if err != nil {
		return nil, err
	}
	code, msg, err := parseStatus(line)
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return nil, &SpamdError{Code: code, Message: msg}
	}
	if cmd == spamdPing {
		if msg != "PONG" {
			return nil, &ReplyError{Reason: "no PONG"}
		}
		return &SpamdResult{}, nil
	}
	res := &SpamdResult{}
	length, haveSpam := -1, false
	for {
		line, err := p.line()
		if err != nil {
			return nil, err
		}
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || !isToken(name) {
			return nil, &ReplyError{Reason: "bad header line"}
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "content-length":
			if length >= 0 {
				return nil, &ReplyError{Reason: "duplicate Content-length"}
			}
			if value == "" || len(value) > 10 || strings.Trim(value, "0123456789") != "" {
				return nil, &ReplyError{Reason: "bad Content-length"}
			}
			n, err := strconv.Atoi(value)
			if err != nil {
				return nil, &ReplyError{Reason: "bad Content-length"}
			}
			if n > p.left {
				return nil, &ReplyError{Reason: "reply too large"}
			}
			length = n
		case "spam":
			if haveSpam {
				return nil, &ReplyError{Reason: "duplicate Spam header"}
			}
			if err := parseSpamHeader(value, res); err != nil {
				return nil, err
			}
			haveSpam = true
		default:
			// Other headers (DidSet, DidRemove, future ones) carry
			// nothing a scan needs.
		}
	}
	if !haveSpam {
		return nil, &ReplyError{Reason: "no Spam header"}
	}
	switch cmd {
	case SpamdCheck:
		if length > 0 {
			return nil, &ReplyError{Reason: "unexpected body"}
		}
		return res, nil
	case SpamdSymbols, SpamdReport:
	default:
		return nil, &ReplyError{Reason: "unknown command"}
	}
	if length < 0 {
		return nil, &ReplyError{Reason: "no Content-length"}
	}
	if length > p.left {
		return nil, &ReplyError{Reason: "reply too large"}
	}
	// Read through a LimitReader rather than into a buffer of the
	// announced size, so a lying Content-length costs nothing.
	body, err := io.ReadAll(io.LimitReader(r, int64(length)))
	if err != nil {
		return nil, readErr(err)
	}
	if len(body) < length {
		return nil, &ReplyError{Reason: "truncated"}
	}
	if cmd == SpamdSymbols {
		syms, err := parseSymbols(string(body))
		if err != nil {
			return nil, err
		}
		res.Symbols = syms
		return res, nil
	}
	res.Report = string(body)
	res.Symbols = reportSymbols(res.Report)
	return res, nil
}

type replyParser struct {
	r    *bufio.Reader
	left int
}

// line reads one line without its LF or CRLF, counting it against the
// limit.
func (p *replyParser) line() (string, error) {
	b, err := p.r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return "", &ReplyError{Reason: "line too long"}
		}
		return "", readErr(err)
	}
	if len(b) > maxReplyLine {
		return "", &ReplyError{Reason: "line too long"}
	}
	if len(b) > p.left {
		return "", &ReplyError{Reason: "reply too large"}
	}
	p.left -= len(b)
	b = b[:len(b)-1]
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	s := string(b)
	if !clean(s) {
		return "", &ReplyError{Reason: "control character in header"}
	}
	return s, nil
}

// readErr turns the end of the stream into a *ReplyError (the reply is
// truncated) and leaves other errors alone.
func readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &ReplyError{Reason: "truncated"}
	}
	return err
}

// parseStatus reads "SPAMD/1.1 0 EX_OK".
func parseStatus(line string) (int, string, error) {
	bad := &ReplyError{Reason: "bad status line"}
	rest, ok := strings.CutPrefix(line, "SPAMD/")
	if !ok {
		return 0, "", bad
	}
	ver, rest, ok := strings.Cut(rest, " ")
	if !ok {
		return 0, "", bad
	}
	major, minor, ok := strings.Cut(ver, ".")
	if !ok || !isDigits(major, 3) || !isDigits(minor, 3) {
		return 0, "", bad
	}
	codeText, msg, _ := strings.Cut(rest, " ")
	if !isDigits(codeText, 3) {
		return 0, "", bad
	}
	code, _ := strconv.Atoi(codeText)
	return code, msg, nil
}

// parseSpamHeader reads "True ; 1000.0 / 5.0" into res.
func parseSpamHeader(v string, res *SpamdResult) error {
	bad := &ReplyError{Reason: "bad Spam header"}
	flag, scores, ok := strings.Cut(v, ";")
	if !ok {
		return bad
	}
	switch strings.TrimSpace(flag) {
	case "True", "Yes":
		res.Spam = true
	case "False", "No":
		res.Spam = false
	default:
		return bad
	}
	score, threshold, ok := strings.Cut(scores, "/")
	if !ok {
		return bad
	}
	var err error
	if res.Score, err = parseScore(score); err != nil {
		return bad
	}
	if res.Threshold, err = parseScore(threshold); err != nil {
		return bad
	}
	return nil
}

// parseScore accepts a decimal number such as "-0.0", "1000" or "3.5".
func parseScore(s string) (float64, error) {
	s = strings.TrimSpace(s)
	d := strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(d, ".")
	if intPart == "" || len(d) > 32 || strings.Trim(intPart, "0123456789") != "" ||
		strings.Trim(frac, "0123456789") != "" || strings.HasSuffix(d, ".") {
		return 0, errors.New("bad number")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, errors.New("bad number")
	}
	return f, nil
}

// parseSymbols reads a SYMBOLS body: rule names separated by commas,
// possibly followed by a line end. An empty body means no rules hit.
func parseSymbols(body string) ([]string, error) {
	body = strings.TrimRight(body, "\r\n")
	if body == "" {
		return nil, nil
	}
	syms := strings.Split(body, ",")
	for i, s := range syms {
		s = strings.TrimSpace(s)
		if !isRuleName(s) {
			return nil, &ReplyError{Reason: "bad symbol"}
		}
		syms[i] = s
	}
	return syms, nil
}

// reportSymbols extracts the rule names from the table of a REPORT
// body: the lines after the "---- ----..." rule that start with a score
// followed by a rule name; indented continuation lines of long
// descriptions are skipped, and the table ends at a blank line.
func reportSymbols(report string) []string {
	var syms []string
	in := false
	for line := range strings.Lines(report) {
		line = strings.TrimRight(line, "\r\n")
		if !in {
			in = strings.HasPrefix(line, "----") && strings.Contains(line, " ---")
			continue
		}
		if strings.TrimSpace(line) == "" {
			break
		}
		f := strings.Fields(line)
		if len(f) < 2 || !isRuleName(f[1]) {
			continue
		}
		if _, err := parseScore(f[0]); err != nil {
			continue
		}
		syms = append(syms, f[1])
	}
	return syms
}

func isDigits(s string, max int) bool {
	return s != "" && len(s) <= max && strings.Trim(s, "0123456789") == ""
}

// isRuleName reports whether s can be a SpamAssassin rule name:
// letters, digits and '_'.
func isRuleName(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// isToken reports whether s is a header field name.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}
