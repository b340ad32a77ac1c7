package smtpd

import (
	"strings"

	"github.com/mailpolicy/mailpolicy/smtp"
)

// transferExtensions are the EHLO keywords of the message-transfer
// extensions this server offers besides SIZE, 8BITMIME, PIPELINING and
// PRDR: DSN (RFC 3461: RET and ENVID on MAIL, NOTIFY and ORCPT on RCPT)
// and SMTPUTF8 (RFC 6531, which needs 8BITMIME, offered above).
func (s *session) transferExtensions() []string { return []string{"DSN", "SMTPUTF8"} }

// unsupportedMailParam names the first MAIL parameter of an extension
// this session does not offer; "" when all are offered.
func (s *session) unsupportedMailParam(mp *smtp.MailParams) string {
	switch {
	case mp.Auth != "" && !s.authOffered():
		return "AUTH"
	case len(mp.Others) > 0:
		return mp.Others[0].Keyword
	}
	return ""
}

// rcptParams parses the RCPT parameters: NOTIFY and ORCPT (DSN); any
// other is unknown (555). A NOTIFY that is not NEVER alone or a list of
// SUCCESS, FAILURE and DELAY, or an ORCPT that is not
// addr-type;xtext, is a syntax error (501), and so is an ORCPT address
// that is not printable ASCII once decoded (RFC 3461 §4.2), but for the
// utf-8 type of RFC 6533 in an SMTPUTF8 transaction, which may carry
// UTF-8 (utf-8-addr-unitext).
func (s *session) rcptParams(params string, smtputf8 bool) (*smtp.RcptParams, *Reply) {
	rp, err := smtp.ParseRcptParams(params)
	if err != nil {
		return nil, &Reply{Code: smtp.ReplyParamSyntaxError, Enhanced: "5.5.4", Text: "Invalid parameter: " + safeText(err.Error())}
	}
	if len(rp.Others) > 0 {
		return nil, &Reply{Code: smtp.ReplyParamsNotRecognized, Enhanced: "5.5.4", Text: "Unsupported parameter " + rp.Others[0].Keyword}
	}
	if o := rp.ORCPT; o.Type != "" && !printableASCII(o.Addr) && !(smtputf8 && strings.EqualFold(o.Type, "utf-8")) {
		return nil, &Reply{Code: smtp.ReplyParamSyntaxError, Enhanced: "5.5.4", Text: "Invalid ORCPT: the address must be printable ASCII"}
	}
	return &rp, nil
}

// asciiRefusal refuses an internationalised address in a transaction
// that did not say SMTPUTF8 (RFC 6531 §3.5): 550 for the sender, 553
// ("mailbox name not allowed") for a recipient, both with X.6.7.
func asciiRefusal(addr string, rcpt bool) *Reply {
	if isASCII(addr) {
		return nil
	}
	if rcpt {
		return &Reply{Code: smtp.ReplyMailboxNameNotAllowed, Enhanced: "5.6.7", Text: "Non-ASCII addresses not permitted for that recipient without SMTPUTF8"}
	}
	return &Reply{Code: smtp.ReplyMailboxUnavailable, Enhanced: "5.6.7", Text: "Non-ASCII addresses not permitted for that sender without SMTPUTF8"}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
