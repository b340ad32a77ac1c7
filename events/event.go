package events

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/eximvar"
)

// Event is one occurrence of an event, with the variables Exim's
// event_action can read. Zero fields are unset.
type Event struct {
	Name Name   // $event_name
	Data string // $event_data; "" = unset

	// DeferErrno is $event_defer_errno: the basic errno for msg:defer
	// and msg:host:defer (Exim's own errnos are negative), the
	// more_errno (RcptDeferErrno) for msg:rcpt:defer and
	// msg:rcpt:host:defer; 0 otherwise. (Exim does not reset the
	// variable: after a RCPT 4xx its tcp:close still shows the value.
	// Here each Event carries only its own.)
	DeferErrno int

	MessageID   string     // $message_exim_id
	Router      string     // $router_name
	Transport   string     // $transport_name
	LocalPart   string     // $local_part
	Domain      string     // $domain
	Host        string     // $host
	HostAddress netip.Addr // $host_address
	HostPort    int        // $host_port

	// Inbound is true for the server side of auth:fail, tls:cert and the
	// other main (reception) events: PeerCert is then $tls_in_peercert,
	// else $tls_out_peercert.
	Inbound bool

	// PeerCert is the certificate of tls:cert (one chain element) or the
	// peer's certificate. Handlers must not modify it.
	PeerCert *x509.Certificate

	DANE bool // $tls_out_dane
	// TLSPolicy is the outbound TLS policy that decided the session:
	// "dane", "mta-sts(enforce)", "mta-sts(testing)" or "none"; ""
	// when not applicable. Exim has no MTA-STS and so no variable; it
	// is tls_out_policy here.
	TLSPolicy   string
	DNSSEC      bool       // $lookup_dnssec_authenticated
	SendingIP   netip.Addr // $sending_ip_address
	SendingPort int        // $sending_port

	// VerifyMode is $verify_mode: "R" (recipient) or "S" (sender)
	// callout verification, "" for a delivery.
	VerifyMode string

	// Authenticator is $sender_host_authenticated during auth:fail.
	Authenticator string

	// Time is when the event was raised; Bus.Raise fills it in the
	// copy handed to handlers when it is zero.
	Time time.Time
}

// Hook returns the name of the event_action option that handles e, as
// used in Exim's log texts: "main" or "transport". auth:fail and
// tls:cert use Inbound; dns:fail uses "transport" when Transport is set.
// Unknown names give "main".
func (e *Event) Hook() string {
	switch e.Name.Info().Hook {
	case HookTransport:
		return "transport"
	case HookServerMainClientTransport:
		if e.Inbound {
			return "main"
		}
		return "transport"
	case HookTransportElseMain:
		if e.Transport != "" {
			return "transport"
		}
		return "main"
	}
	return "main"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// Variables returns e as Exim's variables, always the same names in the
// same order: event_name, event_data, event_defer_errno,
// message_exim_id, router_name, transport_name, local_part, domain,
// host, host_address, host_port, tls_in_peercert or tls_out_peercert
// (Inbound), tls_out_dane, lookup_dnssec_authenticated,
// sending_ip_address, sending_port, verify_mode,
// sender_host_authenticated, tls_out_policy. Integers are decimal (0 when unset, as in
// Exim), booleans "yes"/"no", the certificate its subject DN (RFC 2253
// form; "" for none). Values are header- and log-safe: control
// characters (CR and LF included) are replaced by spaces and invalid
// UTF-8 by U+FFFD.
func (e *Event) Variables() []eximvar.Variable {
	certName, certVal := "tls_out_peercert", ""
	if e.Inbound {
		certName = "tls_in_peercert"
	}
	if e.PeerCert != nil {
		certVal = e.PeerCert.Subject.String()
	}
	return []eximvar.Variable{
		{Name: "event_name", Value: Sanitize(string(e.Name))},
		{Name: "event_data", Value: Sanitize(e.Data)},
		{Name: "event_defer_errno", Value: strconv.Itoa(e.DeferErrno)},
		{Name: "message_exim_id", Value: Sanitize(e.MessageID)},
		{Name: "router_name", Value: Sanitize(e.Router)},
		{Name: "transport_name", Value: Sanitize(e.Transport)},
		{Name: "local_part", Value: Sanitize(e.LocalPart)},
		{Name: "domain", Value: Sanitize(e.Domain)},
		{Name: "host", Value: Sanitize(e.Host)},
		{Name: "host_address", Value: addrString(e.HostAddress)},
		{Name: "host_port", Value: strconv.Itoa(e.HostPort)},
		{Name: certName, Value: Sanitize(certVal)},
		{Name: "tls_out_dane", Value: yesNo(e.DANE)},
		{Name: "lookup_dnssec_authenticated", Value: yesNo(e.DNSSEC)},
		{Name: "sending_ip_address", Value: addrString(e.SendingIP)},
		{Name: "sending_port", Value: strconv.Itoa(e.SendingPort)},
		{Name: "verify_mode", Value: Sanitize(e.VerifyMode)},
		{Name: "sender_host_authenticated", Value: Sanitize(e.Authenticator)},
		{Name: "tls_out_policy", Value: Sanitize(e.TLSPolicy)},
	}
}

// Sanitize makes s safe for a header field, a log line or an
// environment variable: every control character (C0, DEL, C1, U+2028,
// U+2029) becomes a space and invalid UTF-8 becomes U+FFFD.
func Sanitize(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s { // invalid bytes come as utf8.RuneError
		switch {
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f, r == 0x2028, r == 0x2029:
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// jsonCert is the JSON form of a certificate.
type jsonCert struct {
	Subject string `json:"subject"`
	PEM     string `json:"pem"`
}

// jsonEvent is the JSON form of an Event. Keys are Exim's variable
// names where one exists.
type jsonEvent struct {
	Name          Name      `json:"event_name"`
	Data          string    `json:"event_data"`
	DeferErrno    int       `json:"event_defer_errno"`
	MessageID     string    `json:"message_exim_id"`
	Router        string    `json:"router_name"`
	Transport     string    `json:"transport_name"`
	LocalPart     string    `json:"local_part"`
	Domain        string    `json:"domain"`
	Host          string    `json:"host"`
	HostAddress   string    `json:"host_address"`
	HostPort      int       `json:"host_port"`
	Inbound       bool      `json:"inbound"`
	PeerCert      *jsonCert `json:"peer_cert"`
	DANE          bool      `json:"tls_out_dane"`
	DNSSEC        bool      `json:"lookup_dnssec_authenticated"`
	SendingIP     string    `json:"sending_ip_address"`
	SendingPort   int       `json:"sending_port"`
	VerifyMode    string    `json:"verify_mode"`
	Authenticator string    `json:"sender_host_authenticated"`
	TLSPolicy     string    `json:"tls_out_policy"`
	Time          string    `json:"time"`
}

// MarshalJSON gives the stable JSON form of e: one object with every
// key always present, in a fixed order, named after Exim's variables
// (event_name, event_data, event_defer_errno, message_exim_id,
// router_name, transport_name, local_part, domain, host, host_address,
// host_port, inbound, peer_cert, tls_out_dane,
// lookup_dnssec_authenticated, sending_ip_address, sending_port,
// verify_mode, sender_host_authenticated, tls_out_policy, time). peer_cert is null or
// {"subject": DN, "pem": PEM}; time is RFC 3339 with nanoseconds in UTC,
// "" when zero. Strings are kept as they are (JSON escapes controls).
func (e *Event) MarshalJSON() ([]byte, error) {
	j := jsonEvent{
		Name: e.Name, Data: e.Data, DeferErrno: e.DeferErrno,
		MessageID: e.MessageID, Router: e.Router, Transport: e.Transport,
		LocalPart: e.LocalPart, Domain: e.Domain, Host: e.Host,
		HostAddress: addrString(e.HostAddress), HostPort: e.HostPort,
		Inbound: e.Inbound, DANE: e.DANE, DNSSEC: e.DNSSEC,
		SendingIP: addrString(e.SendingIP), SendingPort: e.SendingPort,
		VerifyMode: e.VerifyMode, Authenticator: e.Authenticator, TLSPolicy: e.TLSPolicy,
	}
	if e.PeerCert != nil {
		j.PeerCert = &jsonCert{
			Subject: e.PeerCert.Subject.String(),
			PEM:     string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.PeerCert.Raw})),
		}
	}
	if !e.Time.IsZero() {
		j.Time = e.Time.UTC().Format(time.RFC3339Nano)
	}
	return json.Marshal(&j)
}

// UnmarshalJSON reads the form written by MarshalJSON. Unknown keys are
// ignored; the event name need not be Known. The certificate is parsed
// from its PEM (the subject key is informational).
func (e *Event) UnmarshalJSON(b []byte) error {
	var j jsonEvent
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	ev := Event{
		Name: j.Name, Data: j.Data, DeferErrno: j.DeferErrno,
		MessageID: j.MessageID, Router: j.Router, Transport: j.Transport,
		LocalPart: j.LocalPart, Domain: j.Domain, Host: j.Host,
		HostPort: j.HostPort, Inbound: j.Inbound, DANE: j.DANE, DNSSEC: j.DNSSEC,
		SendingPort: j.SendingPort, VerifyMode: j.VerifyMode,
		Authenticator: j.Authenticator, TLSPolicy: j.TLSPolicy,
	}
	var err error
	if ev.HostAddress, err = parseAddr("host_address", j.HostAddress); err != nil {
		return err
	}
	if ev.SendingIP, err = parseAddr("sending_ip_address", j.SendingIP); err != nil {
		return err
	}
	if j.PeerCert != nil {
		blk, _ := pem.Decode([]byte(j.PeerCert.PEM))
		if blk == nil || blk.Type != "CERTIFICATE" {
			return errors.New("events: peer_cert: no CERTIFICATE PEM block")
		}
		if ev.PeerCert, err = x509.ParseCertificate(blk.Bytes); err != nil {
			return fmt.Errorf("events: peer_cert: %w", err)
		}
	}
	if j.Time != "" {
		if ev.Time, err = time.Parse(time.RFC3339Nano, j.Time); err != nil {
			return fmt.Errorf("events: time: %w", err)
		}
	}
	*e = ev
	return nil
}

func parseAddr(key, s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("events: %s: %w", key, err)
	}
	return a, nil
}
