package dsninfo

import (
	"bytes"
	"strings"
)

// Plain-text bounces: older MTAs (Exim 3, some sendmail setups,
// Exchange) send a bare text without delivery-status fields. When the
// message comes from a mailer daemon, the failed recipients are read
// from the well-known sentences such texts use; Report.PlainText marks
// the result as guessed from prose, with no Status.

// bounceSender reports whether the header says the message is a
// bounce: a null or mailer-daemon return path, or a mailer-daemon or
// postmaster From.
func bounceSender(hdr []Field) bool {
	rp := strings.ToLower(strings.TrimSpace(get(hdr, "Return-Path")))
	if rp == "<>" || rp == "" && get(hdr, "Return-Path") != "" {
		return true
	}
	for _, v := range []string{rp, strings.ToLower(get(hdr, "From"))} {
		if strings.Contains(v, "mailer-daemon") || strings.Contains(v, "postmaster@") {
			return true
		}
	}
	return false
}

// listIntros start a list of failed addresses, one per following line
// (Exim 3 "Failed addresses follow:", Exim 4 and qmail-like texts).
var listIntros = []string{
	"failed addresses follow",
	"following address(es) failed",
	"following addresses failed",
	"following recipients failed",
	"could not be delivered to the following recipient",
}

// lineIntros are followed by the address on the same line.
var lineIntros = []string{
	"did not reach the following recipient(s):",
	"did not reach the following recipient:",
	"could not be delivered to:",
	"delivery to the following recipient failed permanently:",
	"delivery to the following recipients failed:",
}

// failureWords mark a line that names a failed address in angle
// brackets ("User's mailbox is full: <a@b>").
var failureWords = []string{
	"unknown", "mailbox", "full", "quota", "unable to deliver", "undeliverable",
	"no such", "rejected", "refused", "failed", "does not exist", "not found", "unknown host",
}

// endMarks end the human text: what follows is the returned message.
var endMarks = []string{
	"message text follows", "original message follows", "----- original message",
	"returned message follows", "----- the following is a copy", "this is a copy of the message",
}

// scanPlainBounce fills the report from a plain-text bounce and
// reports whether it found any failed recipient.
func (ps *parser) scanPlainBounce(hdr []Field, body []byte) bool {
	if !bounceSender(hdr) {
		return false
	}
	mt, _ := contentType(hdr)
	if mt != "" && mt != "text/plain" {
		return false
	}
	text := decodeBody(hdr, body)
	lines := strings.Split(string(text), "\n")
	end := len(lines)
	for i, l := range lines {
		if containsAny(strings.ToLower(l), endMarks) {
			end = i
			break
		}
	}
	lines = lines[:end]
	max := ps.limit(ps.MaxRecipients, DefaultMaxRecipients)
	seen := map[string]bool{}
	var rcpts []Recipient
	add := func(addr, reason string) bool {
		key := strings.ToLower(addr)
		if seen[key] || len(rcpts) >= max {
			return len(rcpts) < max
		}
		seen[key] = true
		rc := Recipient{FinalRecipient: Rfc822(addr), Action: Failed}
		if reason = strings.TrimSpace(reason); reason != "" {
			rc.DiagnosticCode = Typed{Value: reason}
		}
		rcpts = append(rcpts, rc)
		return true
	}

	for i := 0; i < len(lines); i++ {
		low := strings.ToLower(lines[i])
		switch {
		case containsAny(low, listIntros):
			for i++; i < len(lines); i++ {
				l := strings.TrimSpace(lines[i])
				if l == "" && len(rcpts) > 0 || strings.HasPrefix(l, "|-") || strings.HasPrefix(l, "---") {
					break
				}
				if addr, rest := firstAddress(l); addr != "" {
					add(addr, strings.TrimLeft(strings.TrimSpace(rest), ".:- "))
				}
			}
		case containsAny(low, lineIntros):
			if addr, _ := firstAddress(lines[i][strings.LastIndexByte(lines[i], ':')+1:]); addr != "" {
				add(addr, "")
			}
		}
	}
	if len(rcpts) == 0 {
		// Last resort: "<reason>: <addr>" lines.
		for _, l := range lines {
			low := strings.ToLower(l)
			lt := strings.IndexByte(l, '<')
			if lt < 0 || !containsAny(low, failureWords) || fieldLike(l) {
				continue
			}
			if addr, _ := firstAddress(l[lt:]); addr != "" {
				add(addr, strings.TrimRight(strings.TrimSpace(l[:lt]), ":"))
			}
		}
	}
	if len(rcpts) == 0 {
		return false
	}
	if s := strings.ToLower(get(hdr, "Subject")); strings.Contains(s, "delayed") || strings.Contains(s, "warning") {
		for i := range rcpts {
			rcpts[i].Action = Delayed
		}
	}
	ps.rep.Recipients = rcpts
	ps.rep.HumanText = strings.Join(lines, "\n")
	ps.rep.PlainText = true
	return true
}

// firstAddress returns the first word of s that looks like a mailbox
// (local@domain.tld, angle brackets and trailing punctuation removed)
// and the text after it.
func firstAddress(s string) (addr, rest string) {
	for pos := 0; pos < len(s); {
		for pos < len(s) && (s[pos] == ' ' || s[pos] == '\t') {
			pos++
		}
		end := pos
		for end < len(s) && s[end] != ' ' && s[end] != '\t' {
			end++
		}
		w := strings.Trim(s[pos:end], "<>()[]\"',;:.")
		if at := strings.LastIndexByte(w, '@'); at > 0 && at < len(w)-1 &&
			strings.Contains(w[at+1:], ".") && !strings.ContainsAny(w, "<>()[],;:\"\\") && clean7(w) {
			return w, s[end:]
		}
		pos = end
	}
	return "", ""
}

func clean7(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// fieldLike reports whether l looks like a header field of a returned
// message ("To: <a@b>").
func fieldLike(l string) bool {
	i := strings.IndexByte(l, ':')
	if i <= 0 || i > 30 {
		return false
	}
	name := l[:i]
	return !strings.ContainsAny(name, " \t'") && bytes.IndexFunc([]byte(name), func(r rune) bool {
		return !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) < 0
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
