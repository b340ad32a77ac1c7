package events

import "fmt"

// Name is an event name, with Exim's exact spelling ($event_name).
type Name string

// The events of Exim's event_action, in the order of the event table
// of the specification. Each comment gives when the event fires, its
// Data ($event_data) and whether DeferErrno ($event_defer_errno) is
// set.
const (
	// AuthFail: server side (main event_action), an AUTH command (or
	// the implicit TLS-certificate authenticator) did not succeed;
	// client side (transport event_action), an authenticator got a 5xx
	// final reply. Not raised by Exim 4.96 (added later; the current
	// source raises it). Authenticator ($sender_host_authenticated) holds the
	// authenticator name for the duration of the event. Data: the SMTP
	// reply text sent (server) or received (client). A non-empty result
	// replaces the default log line (EffectReplaceLog).
	AuthFail Name = "auth:fail"

	// DANEFail: transport; DANE was required but impossible, the TLSA
	// lookup deferred or failed, or TLS failed / STARTTLS was absent in
	// DANE mode. Data: one of the DANEFailReason words
	// (dane-required, dnssec-invalid, validation-failure,
	// starttls-not-supported). Result ignored.
	DANEFail Name = "dane:fail"

	// DNSFail: the transport's event_action if a transport is active,
	// else the main one; any DNS lookup that did not succeed, NXDOMAIN
	// and NODATA included, and CNAME problems. Exim 4.96 does not raise
	// it (a real 4.96 was checked; the current source does). Data:
	// "<reason>:<name>:<type>" with the colons in the name doubled
	// (DNSFailData). Result ignored.
	DNSFail Name = "dns:fail"

	// MsgComplete: main; a delivery run completed the message
	// ("Completed" logged), or the message was removed with -Mrm. Data
	// unset. Result ignored.
	MsgComplete Name = "msg:complete"

	// MsgDefer: transport (smtp); the last host tried for the delivery
	// attempt gave a message or host defer. Data: DeferData(message,
	// errno); DeferErrno = the basic errno; HostAddress/HostPort = the
	// host (port 25 if unset); Domain/LocalPart = the first address.
	// Result ignored.
	MsgDefer Name = "msg:defer"

	// MsgDelivery: transport; per successfully delivered address, after
	// its "=>" (or cutthrough ">") log line. Data: the delivery
	// confirmation, only for smtp/lmtp/autoreply transports or when a
	// host was used, else unset. Result ignored.
	MsgDelivery Name = "msg:delivery"

	// MsgRcptHostDefer: transport; RCPT got a 4xx reply (not when
	// verifying). Data: the address's message; DeferErrno =
	// RcptDeferErrno(code, fromMX). Result ignored.
	MsgRcptHostDefer Name = "msg:rcpt:host:defer"

	// MsgRcptDefer: transport; RCPT got a 4xx reply on the last host
	// (no more hosts to try); a real Exim 4.96 raises it for 452 too.
	// Data and DeferErrno as MsgRcptHostDefer. Result ignored.
	MsgRcptDefer Name = "msg:rcpt:defer"

	// MsgHostDefer: transport; delivery to one host deferred (also
	// after a clear-text retry). Data: DeferData(message, errno);
	// DeferErrno, HostAddress, HostPort, Domain, LocalPart as MsgDefer.
	// Result ignored.
	MsgHostDefer Name = "msg:host:defer"

	// MsgFailDelivery: transport; an address failed with a transport
	// involved (see FailureEvent). Data: the address's message
	// (smtp/lmtp/autoreply transports or a host used). Result ignored.
	MsgFailDelivery Name = "msg:fail:delivery"

	// MsgFailInternal: main; an address failed without a transport
	// (routing failure, filter "fail", system-filter fail, -Mg, frozen
	// timeout, too many Received: headers) or the message was removed
	// with -Mrm. Data: the failure message; for -Mrm
	// "message removed by <user>". Result ignored.
	MsgFailInternal Name = "msg:fail:internal"

	// TCPConnect: transport; before each outbound TCP connection
	// (deliveries and callouts). HostAddress/HostPort = the target (or
	// proxy). Data unset. A non-empty result stops the connection
	// (EffectRefuseConnection): the connect fails with ERRNO_EVENT and
	// the host is treated as a connect failure.
	TCPConnect Name = "tcp:connect"

	// TCPClose: transport; after an outbound connection was closed
	// (smtp transport, callouts). Data unset. Result ignored.
	TCPClose Name = "tcp:close"

	// TLSCert: server side main, client side transport; for each
	// certificate of the verification chain. PeerCert
	// ($tls_in_peercert / $tls_out_peercert) = that certificate. Data:
	// the depth in decimal (CertDepthData). A non-empty result refuses
	// the certificate (EffectRefuseCert), see Decision.CertOutcome.
	TLSCert Name = "tls:cert"

	// TLSFailConnect: main; an inbound TLS handshake failed. Data: the
	// error string. Result ignored.
	TLSFailConnect Name = "tls:fail:connect"

	// SMTPConnect: transport; after the server banner was read, before
	// EHLO. DNSSEC ($lookup_dnssec_authenticated) = whether the host's
	// address lookups were DNSSEC-authenticated. Data: the banner lines,
	// codes included, joined with "\n" (BannerData). Not raised when the
	// banner is not 2xx (the host is deferred instead). A non-empty result sends QUIT and defers every address
	// (EffectDeferAll) with Decision.DeferMessage.
	SMTPConnect Name = "smtp:connect"

	// SMTPEHLO: transport; after the EHLO (or LHLO) response was read,
	// also for the EHLO re-issued after STARTTLS; fires for a 2xx
	// response and for a non-2xx one that makes the client fall back to
	// HELO; not on I/O error or timeout. Data: the response lines
	// joined with "\n" (EHLOData). Result ignored.
	SMTPEHLO Name = "smtp:ehlo"

	// SMTPFailSyntax: main; an inbound SMTP syntax error. Data: the
	// error message. Result ignored. Exim also raises it for protocol
	// errors; this package does not (SyntaxFailEvent). Exim 4.96 raises
	// neither smtp:fail event (added later).
	SMTPFailSyntax Name = "smtp:fail:syntax"

	// SMTPFailProtocol: main; an inbound SMTP protocol error. Data: the
	// error message. Result ignored. Exim documents it but never raises
	// it (SyntaxFailEvent).
	SMTPFailProtocol Name = "smtp:fail:protocol"
)

// Hook says which event_action option handles an event.
type Hook int

const (
	// HookMain is the main configuration's event_action.
	HookMain Hook = iota + 1
	// HookTransport is the transport's event_action.
	HookTransport
	// HookServerMainClientTransport: main for the server (inbound)
	// side, transport for the client (outbound) side (auth:fail,
	// tls:cert). Event.Inbound tells which side.
	HookServerMainClientTransport
	// HookTransportElseMain: the transport's event_action when a
	// transport is active, else the main one (dns:fail).
	HookTransportElseMain
)

func (h Hook) String() string {
	switch h {
	case HookMain:
		return "main"
	case HookTransport:
		return "transport"
	case HookServerMainClientTransport:
		return "main (server) / transport (client)"
	case HookTransportElseMain:
		return "transport if active, else main"
	}
	return fmt.Sprintf("Hook(%d)", int(h))
}

// Effect is what a non-empty event_action result does for an event.
type Effect int

const (
	// EffectNone: the result is ignored.
	EffectNone Effect = iota
	// EffectRefuseConnection (tcp:connect): the connection is not made.
	EffectRefuseConnection
	// EffectDeferAll (smtp:connect): QUIT is sent and every address is
	// deferred.
	EffectDeferAll
	// EffectRefuseCert (tls:cert): certificate verification is refused.
	EffectRefuseCert
	// EffectReplaceLog (auth:fail): the result replaces the log line.
	EffectReplaceLog
)

func (e Effect) String() string {
	switch e {
	case EffectNone:
		return "none"
	case EffectRefuseConnection:
		return "refuse-connection"
	case EffectDeferAll:
		return "defer-all"
	case EffectRefuseCert:
		return "refuse-cert"
	case EffectReplaceLog:
		return "replace-log"
	}
	return fmt.Sprintf("Effect(%d)", int(e))
}

// Info describes one event.
type Info struct {
	Name          Name
	Hook          Hook
	Effect        Effect // what a non-empty result does; EffectNone: ignored
	HasDeferErrno bool   // $event_defer_errno is set
	Data          string // the format of $event_data; "" = unset
	Doc           string // when it fires
}

// ActsOnResult reports whether a non-empty result has an effect.
func (i Info) ActsOnResult() bool { return i.Effect != EffectNone }

var infos = []Info{
	{AuthFail, HookServerMainClientTransport, EffectReplaceLog, false,
		"the SMTP reply text sent (server) / received (client)",
		"server: an AUTH command did not succeed; client: an authenticator got a 5xx final reply"},
	{DANEFail, HookTransport, EffectNone, false,
		"dane-required / dnssec-invalid / validation-failure / starttls-not-supported",
		"DANE required but impossible, TLSA lookup defer/fail, TLS failure or no STARTTLS in DANE mode"},
	{DNSFail, HookTransportElseMain, EffectNone, false,
		"<reason>:<name>:<type>, colons in the name doubled",
		"a DNS lookup did not succeed (NXDOMAIN and NODATA included) or a CNAME problem"},
	{MsgComplete, HookMain, EffectNone, false, "",
		"a delivery run completed the message, or the message was removed with -Mrm"},
	{MsgDefer, HookTransport, EffectNone, true,
		"<message>: <strerror>",
		"the last host tried for the delivery attempt gave a defer"},
	{MsgDelivery, HookTransport, EffectNone, false,
		"the delivery confirmation (smtp/lmtp/autoreply or a host used)",
		"per successfully delivered address, after its => log line"},
	{MsgRcptHostDefer, HookTransport, EffectNone, true,
		"the address's message",
		"RCPT got a 4xx reply (not when verifying)"},
	{MsgRcptDefer, HookTransport, EffectNone, true,
		"the address's message",
		"RCPT got a 4xx reply on the last host"},
	{MsgHostDefer, HookTransport, EffectNone, true,
		"<message>: <strerror>",
		"delivery to one host deferred"},
	{MsgFailDelivery, HookTransport, EffectNone, false,
		"the address's message",
		"an address failed with a transport involved"},
	{MsgFailInternal, HookMain, EffectNone, false,
		"the failure message; -Mrm: message removed by <user>",
		"an address failed without a transport, or -Mrm removal"},
	{TCPConnect, HookTransport, EffectRefuseConnection, false, "",
		"before each outbound TCP connection"},
	{TCPClose, HookTransport, EffectNone, false, "",
		"after an outbound connection was closed"},
	{TLSCert, HookServerMainClientTransport, EffectRefuseCert, false,
		"the certificate depth, decimal",
		"for each certificate of the verification chain"},
	{TLSFailConnect, HookMain, EffectNone, false,
		"the error string",
		"an inbound TLS handshake failed"},
	{SMTPConnect, HookTransport, EffectDeferAll, false,
		"the banner text",
		"after the server banner was read, before EHLO"},
	{SMTPEHLO, HookTransport, EffectNone, false,
		"the EHLO response lines joined with newlines",
		"after the EHLO/LHLO response (2xx, or non-2xx falling back to HELO)"},
	{SMTPFailSyntax, HookMain, EffectNone, false,
		"the error message",
		"an inbound SMTP syntax error"},
	{SMTPFailProtocol, HookMain, EffectNone, false,
		"the error message",
		"an inbound SMTP protocol error (never raised by Exim)"},
}

var infoByName = func() map[Name]Info {
	m := make(map[Name]Info, len(infos))
	for _, i := range infos {
		m[i.Name] = i
	}
	return m
}()

// Names returns every event name, in the order of the specification's
// event table. The slice is a fresh copy.
func Names() []Name {
	out := make([]Name, len(infos))
	for i, inf := range infos {
		out[i] = inf.Name
	}
	return out
}

// Known reports whether n is one of the names of Names.
func Known(n Name) bool {
	_, ok := infoByName[n]
	return ok
}

// Info describes n. For an unknown name it returns an Info with only
// Name set (Hook 0, EffectNone).
func (n Name) Info() Info {
	if i, ok := infoByName[n]; ok {
		return i
	}
	return Info{Name: n}
}

// ActsOnResult reports whether a non-empty result has an effect for n:
// true exactly for tcp:connect, smtp:connect, tls:cert and auth:fail.
func (n Name) ActsOnResult() bool { return n.Info().ActsOnResult() }

func (n Name) String() string { return string(n) }

// ParseName returns the Name spelled s, which must be one of Names
// exactly (Exim's names are case-sensitive); otherwise it returns a
// *NameError.
func ParseName(s string) (Name, error) {
	if Known(Name(s)) {
		return Name(s), nil
	}
	return "", &NameError{Name: s}
}
