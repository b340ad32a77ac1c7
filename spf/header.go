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
		var arr [maxSMTPComment]byte
		b := append(append(append(arr[:0], o.Explanation...), " : Reason: "...), r.reason.String()...)
		o.SMTPComment = string(b[:min(len(b), maxSMTPComment)])
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
	// Built in a stack buffer: one exact-size allocation for the result.
	var arr [256]byte
	b := arr[:0]
	ipb := func(b []byte) []byte {
		if !e.ip.IsValid() {
			return append(b, "(unknown ip address)"...)
		}
		return e.ip.AppendTo(b)
	}
	b = append(b, e.cfg.receiverName()...)
	b = append(b, ": "...)
	src := func(b []byte) []byte {
		if o.UsedDomain == "" {
			return append(b, "unknown domain"...)
		}
		return append(append(b, "domain of "...), o.UsedDomain...)
	}
	switch o.Result {
	case Pass:
		if r.reason == reasonLocalhost {
			b = append(b, "localhost is always allowed."...)
			break
		}
		b = src(b)
		b = append(ipb(append(b, " designates "...)), " as permitted sender"...)
	case Fail, SoftFail:
		if o.Result == SoftFail {
			b = append(b, "transitioning "...)
		}
		b = src(b)
		b = append(ipb(append(b, " does not designate "...)), " as permitted sender"...)
	case Neutral:
		b = append(ipb(b), " is neither permitted nor denied by "...)
		b = src(b)
	case None:
		b = append(src(b), " does not provide an SPF record"...)
	case PermError:
		b = src(append(b, "error in processing during lookup of "...))
		b = append(append(b, ": "...), errCodeOf(o.Err).String()...)
	case TempError:
		b = src(append(b, "encountered temporary error during SPF processing of "...))
	default:
		b = append(append(b, "error: unknown SPF result "...), o.Result.String()...)
		b = append(ipb(append(b, " encountered while checking "...)), " for "...)
		b = src(b)
	}
	sanitizeBytes(b)
	return string(b)
}

// received builds the Received-SPF line: libspf2's keys first (as Exim
// shows them), then receiver, identity and mechanism (RFC 7208 §9.1).
// A key that would push the line past 480 bytes is left out whole.
func (e *evaluator) received(o *Outcome) string {
	var arr [maxReceived]byte
	b := arr[:0]
	b = append(b, "Received-SPF: "...)
	b = append(b, o.Result.String()...)
	b = append(b, " ("...)
	room := maxReceived - len(b) - 1
	b = appendComment(b, o.HeaderComment, room)
	b = append(b, ')')
	add := func(key, val string) {
		if val == "" {
			return
		}
		if len(b)+3+len(key)+kvLen(val) > maxReceived {
			return
		}
		b = append(append(append(b, ' '), key...), '=')
		b = appendKV(b, val)
		b = append(b, ';')
	}
	if e.ip.IsValid() && len(b)+len(" client-ip=;")+39 <= maxReceived {
		b = append(e.ip.AppendTo(append(b, " client-ip="...)), ';')
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
	return string(b)
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

// sanitizeBytes is sanitize in place.
func sanitizeBytes(b []byte) {
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			b[i] = '?'
		}
	}
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

// appendComment appends s escaped for an RFC 5322 comment ("(", ")"
// and "\\" as quoted-pairs), at most room bytes, never splitting a pair.
func appendComment(b []byte, s string, room int) []byte {
	if len(s) <= room && strings.IndexByte(s, '(') < 0 && strings.IndexByte(s, ')') < 0 && strings.IndexByte(s, '\\') < 0 {
		return append(b, s...)
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		w := 1
		if c == '(' || c == ')' || c == '\\' {
			w = 2
		}
		if n+w > room {
			break
		}
		if w == 2 {
			b = append(b, '\\')
		}
		b = append(b, c)
		n += w
	}
	return b
}

// kvValue renders a Received-SPF key value: bare when it is made of
// characters libspf2 prints bare (dot-atom text plus "@" and ":"), else
// an RFC 5322 quoted-string, so ";" or spaces in remote input cannot
// forge keys. Control bytes become "?".
func kvValue(v string) string {
	return string(appendKV(nil, v))
}

func isBare(v string) bool {
	for i := 0; i < len(v); i++ {
		if !isBareChar(v[i]) {
			return false
		}
	}
	return v != ""
}

// kvLen is the length appendKV will add for v.
func kvLen(v string) int {
	if isBare(v) {
		return len(v)
	}
	return len(v) + 2 + strings.Count(v, `"`) + strings.Count(v, `\`)
}

func appendKV(b []byte, v string) []byte {
	if isBare(v) {
		return append(b, v...)
	}
	b = append(b, '"')
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c == 0x7f:
			b = append(b, '?')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func isBareChar(c byte) bool { return bareChars[c] }

var bareChars = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = isAlnum(byte(c)) || c >= 0x80 || strings.IndexByte("!#$%&'*+-/=?^_`{|}~.@:", byte(c)) >= 0
	}
	return t
}()
