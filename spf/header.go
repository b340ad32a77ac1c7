package spf

import (
	"context"
	"os"
	"strings"
	"sync"
)

// Exim/libspf2 size limits for the texts it builds.
const (
	maxReceived    = 480 // SPF_RECEIVED_SPF_SIZE as Exim documents it
	maxSMTPComment = 319 // SPF_SMTP_COMMENT_SIZE - 1
)

var hostname = sync.OnceValue(func() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
})

// receiver is libspf2's receiving domain: WithReceiver (Exim passes
// primary_hostname), else this host's name as libspf2 defaults to.
func (c *config) receiverName() string {
	if c.receiver != "" {
		return c.receiver
	}
	return hostname()
}

// finish fills the Exim texts of o from the final check_host() result.
func (e *evaluator) finish(ctx context.Context, o *Outcome, r hostResult) {
	switch o.Result {
	case Fail, SoftFail, Neutral:
		expl := ""
		if o.Result == Fail && r.expSpec != "" && e.cfg.fetchExp && e.res != nil {
			expl = e.explain(ctx, r.expSpec, r.expDom)
		}
		if expl == "" {
			expl = e.defaultExplanation(ctx, o.UsedDomain)
		}
		o.Explanation = sanitize(expl)
		o.SMTPComment = truncate(o.Explanation+" : Reason: "+r.reason.String(), maxSMTPComment)
	}
	o.HeaderComment = e.headerComment(o, r)
	o.Received = e.received(o)
}

// explain fetches and expands the exp= text (RFC 7208 §6.2). Any problem
// gives "", so that the default explanation is used.
func (e *evaluator) explain(ctx context.Context, spec, domain string) string {
	target, err := e.targetName(ctx, spec, domain)
	if err != nil || !validDomain(target) {
		return ""
	}
	txts, _, err := e.res.LookupTXT(ctx, target)
	if err != nil || len(txts) != 1 {
		return ""
	}
	if checkMacroString(txts[0], true) != nil {
		return ""
	}
	s, err := e.expand(ctx, txts[0], domain, true)
	if err != nil {
		return ""
	}
	return s
}

func (e *evaluator) defaultExplanation(ctx context.Context, domain string) string {
	t := e.cfg.explanation
	if checkMacroString(t, true) != nil {
		return t
	}
	if e.res == nil && strings.Contains(strings.ToLower(t), "%{p") {
		return t // no resolver to validate a name with
	}
	s, err := e.expand(ctx, t, domain, true)
	if err != nil {
		return t
	}
	return s
}

// headerComment is libspf2's header comment, as in $spf_header_comment.
func (e *evaluator) headerComment(o *Outcome, r hostResult) string {
	src := "unknown domain"
	if o.UsedDomain != "" {
		src = "domain of " + o.UsedDomain
	}
	ip := "(unknown ip address)"
	if e.ip.IsValid() {
		ip = e.ip.String()
	}
	var b strings.Builder
	b.Grow(len(src) + len(ip) + 80)
	b.WriteString(e.cfg.receiverName())
	b.WriteString(": ")
	switch o.Result {
	case Pass:
		if r.reason == reasonLocalhost {
			b.WriteString("localhost is always allowed.")
		} else {
			b.WriteString(src + " designates " + ip + " as permitted sender")
		}
	case Fail:
		b.WriteString(src + " does not designate " + ip + " as permitted sender")
	case SoftFail:
		b.WriteString("transitioning " + src + " does not designate " + ip + " as permitted sender")
	case Neutral:
		b.WriteString(ip + " is neither permitted nor denied by " + src)
	case None:
		b.WriteString(src + " does not provide an SPF record")
	case PermError:
		b.WriteString("error in processing during lookup of " + src + ": " + errCodeOf(o.Err).String())
	case TempError:
		b.WriteString("encountered temporary error during SPF processing of " + src)
	default:
		b.WriteString("error: unknown SPF result " + o.Result.String() + " encountered while checking " + ip + " for " + src)
	}
	return sanitize(b.String())
}

// received builds the Received-SPF line: libspf2's keys first (as Exim
// shows them), then receiver, identity and mechanism (RFC 7208 §9.1).
// A key that would push the line past 480 bytes is left out whole.
func (e *evaluator) received(o *Outcome) string {
	var b strings.Builder
	b.Grow(maxReceived)
	b.WriteString("Received-SPF: ")
	b.WriteString(o.Result.String())
	b.WriteString(" (")
	comment := commentEscape(o.HeaderComment)
	if room := maxReceived - b.Len() - 1; len(comment) > room {
		comment = trimEscaped(comment, room)
	}
	b.WriteString(comment)
	b.WriteString(")")
	add := func(key, val string) {
		if val == "" {
			return
		}
		part := " " + key + "=" + kvValue(val) + ";"
		if b.Len()+len(part) <= maxReceived {
			b.WriteString(part)
		}
	}
	if e.ip.IsValid() {
		add("client-ip", e.ip.String())
	}
	add("envelope-from", e.sender)
	add("helo", e.helo)
	add("receiver", e.cfg.receiverName())
	// RFC 7208 §9.1 spells the MAIL FROM identity "mailfrom".
	if o.Identity == "mfrom" {
		add("identity", "mailfrom")
	} else {
		add("identity", o.Identity)
	}
	add("mechanism", o.Mechanism)
	return b.String()
}

// AuthResult is Exim's SPF Authentication-Results method (its
// ${authresults} element without the leading ";\n\t"): "spf=pass
// smtp.mailfrom=example.com", with " (best guess record for domain)"
// after the result when Guessed.
func (o *Outcome) AuthResult() string {
	s := "spf=" + o.Result.String()
	if o.Guessed {
		s += " (best guess record for domain)"
	}
	switch {
	case o.Identity == "mfrom" && o.UsedDomain != "":
		return s + " smtp.mailfrom=" + kvValue(o.UsedDomain)
	case o.Identity == "helo" && o.UsedDomain != "":
		return s + " smtp.helo=" + kvValue(o.UsedDomain)
	}
	return s + " smtp.mailfrom=<>"
}

// sanitize replaces control bytes (CR, LF, TAB, NUL, DEL...) with "?",
// as libspf2's sanitiser does, so no remote text can end a header line.
func sanitize(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] < 0x20 || b[j] == 0x7f {
					b[j] = '?'
				}
			}
			return string(b)
		}
	}
	return s
}

// commentEscape makes s safe inside an RFC 5322 comment.
func commentEscape(s string) string {
	if !strings.ContainsAny(s, "()\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '(' || c == ')' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// trimEscaped cuts an escaped comment to n bytes without splitting a
// quoted-pair.
func trimEscaped(s string, n int) string {
	if n <= 0 {
		return ""
	}
	s = s[:n]
	bs := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		bs++
	}
	if bs%2 == 1 {
		s = s[:len(s)-1]
	}
	return s
}

// kvValue renders a Received-SPF key value: bare when it is made of
// characters libspf2 prints bare (dot-atom text plus "@" and ":"), else
// an RFC 5322 quoted-string, so ";" or spaces in remote input cannot
// forge keys.
func kvValue(v string) string {
	v = sanitize(v)
	bare := v != ""
	for i := 0; i < len(v) && bare; i++ {
		bare = isBareChar(v[i])
	}
	if bare {
		return v
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('"')
	return b.String()
}

func isBareChar(c byte) bool {
	if isAlnum(c) || c >= 0x80 {
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~.@:", c) >= 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
