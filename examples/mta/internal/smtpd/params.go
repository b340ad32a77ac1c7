package smtpd

import "github.com/mailpolicy/mailpolicy/smtp"

// transferExtensions are the EHLO keywords of the message-transfer
// extensions this server offers besides SIZE, 8BITMIME, PIPELINING and
// PRDR.
func (s *session) transferExtensions() []string { return nil }

// unsupportedMailParam names the first MAIL parameter of an extension
// this session does not offer; "" when all are offered.
func (s *session) unsupportedMailParam(mp *smtp.MailParams) string {
	switch {
	case mp.SMTPUTF8:
		return "SMTPUTF8"
	case mp.Ret != "":
		return "RET"
	case mp.EnvID != "":
		return "ENVID"
	case mp.Auth != "" && !s.authOffered():
		return "AUTH"
	case len(mp.Others) > 0:
		return mp.Others[0].Keyword
	}
	return ""
}

// rcptParams parses the RCPT parameters; none are supported yet.
func (s *session) rcptParams(params string) (*smtp.RcptParams, *Reply) {
	if params != "" {
		return nil, &Reply{Code: smtp.ReplyParamsNotRecognized, Enhanced: "5.5.4", Text: "RCPT parameters are not supported"}
	}
	return nil, nil
}
