package auth

import (
	"net/netip"

	"github.com/mailpolicy/mailpolicy/authres"
)

// Permitted reports whether AUTH may be advertised and used on a
// connection: always over TLS, in clear text only from a loopback
// client and only when allowPlaintextLoopback (for a local submission
// client on the same machine, where there is no wire to sniff). PLAIN
// and LOGIN send the password as it is, so elsewhere they wait for
// STARTTLS; this is the usual Exim configuration's
// server_advertise_condition = ${if def:tls_in_cipher}. A session that
// is not permitted does not list AUTH in EHLO and answers an AUTH
// command with 538 5.7.11.
func Permitted(tls bool, client netip.Addr, allowPlaintextLoopback bool) bool {
	return tls || allowPlaintextLoopback && client.Unmap().IsLoopback()
}

// Why MailAuthSender ignored an AUTH= value; Exim's log line is
// "ignoring AUTH=<value> from <host> (<reason>)".
const (
	IgnoredNotAuthenticated = "client not authenticated"
	IgnoredByPolicy         = "rejected by ACL"
)

// MailAuthSender decides $authenticated_sender from the AUTH= parameter
// of MAIL (RFC 4954 §5), as smtp.MailParams.Auth decodes it: "" when
// not given, "<>" for an unknown submitter, else the mailbox. As Exim
// without acl_smtp_mailauth, the mailbox is accepted only from a client
// that authenticated in this session; trust, when not nil, stands for
// acl_smtp_mailauth and may refuse it for an authenticated one.
// ignored is the reason to log when a mailbox was given but not
// accepted ("" otherwise). An accepted mailbox is passed on with the
// message (AUTH= when relaying, smtp.mailfrom in Authentication-Results);
// an ignored one is treated as AUTH=<>, as the RFC requires.
func MailAuthSender(authenticated bool, param string, trust func(mailbox string) bool) (sender, ignored string) {
	switch {
	case param == "" || param == "<>":
		return "", ""
	case !authenticated:
		return "", IgnoredNotAuthenticated
	case trust != nil && !trust(param):
		return "", IgnoredByPolicy
	}
	return param, ""
}

// ARMethod is the auth method of Authentication-Results for a client
// that authenticated with mechanism as user, as Exim's ${authresults}
// writes it: "auth=pass (PLAIN) smtp.auth=<user>", followed by
// smtp.mailfrom=<sender> when MailAuthSender accepted an AUTH= sender.
// The zero Method (left out of the header) when mechanism is "".
func ARMethod(mechanism, user, sender string) authres.Method {
	m := authres.Auth(mechanism, user)
	if m.Name != "" && sender != "" {
		m.Props = append(m.Props, authres.Prop{Type: "smtp", Property: "mailfrom", Value: sender})
	}
	return m
}
