// Package events models Exim's events (event_action): the event names,
// the Event with the variables an event_action expansion reads, the
// exact $event_data formats, which events act on a non-empty result,
// a Bus delivering events to handlers, and ready-made sinks.
//
// The package depends on the standard library only. Engines that raise
// events (dane, the delivery code) do not import it: they take a plain
// callback, which the MTA connects to a Bus (Bus.Notify adapts a
// func(name, data string) callback).
//
// # Concept
//
// Exim has two event_action options, the main one (reception-side
// events) and the transport one (delivery-side events). Each is a
// string expanded when an event fires, with $event_name and
// $event_data set for the duration. A non-empty expansion result is
// returned to the code that raised the event; only four events act on
// it (see Effect):
//
//	tcp:connect    the connection is not made (EffectRefuseConnection)
//	smtp:connect   QUIT, every address deferred with "deferred by
//	               smtp:connect event expansion: <result>" (EffectDeferAll)
//	tls:cert       certificate verification refused, or overridden when
//	               verification is optional, never in DANE mode
//	               (EffectRefuseCert, Decision.CertOutcome)
//	auth:fail      the result replaces the log line (EffectReplaceLog)
//
// Here an event_action is one or more Handlers subscribed to a Bus. A
// Handler's string is the expansion result and its error an expansion
// failure (logged as Exim's "failed to expand event_action <event> in
// <main|transport>: <msg>", the result ignored). Bus.Raise calls the
// selected handlers in subscription order, each with its own copy of
// the Event and a timeout, and returns a Decision: the first non-empty
// result and whether and how it acts. A handler that panics, fails or
// hangs never breaks the caller.
//
// Sinks, the Go equivalents of ${lookup pgsql ...} or ${run ...} in an
// event_action: SlogSink (structured log), Webhook (JSON POST, queued,
// retried, never blocking) and Exec (a command with the event as JSON
// on standard input and the variables in its environment; its output
// is the result, so it can veto).
//
// # Sinks
//
// SlogSink logs each event with its Variables as attributes. Webhook
// POSTs Event.MarshalJSON to a URL from one background goroutine: the
// handler only queues (QueueSize, default 1000; a full queue drops and
// counts in Dropped), 2xx is success, network errors, 5xx, 408 and 429
// are retried (MaxRetries, default 3, Backoff 500ms doubled), other
// replies give up (Failed); Close flushes within its context. Exec runs
// a command with the event's JSON on standard input and each Variable
// as EXIM_<NAME> in its environment (EXIM_EVENT_NAME, EXIM_EVENT_DATA,
// EXIM_HOST_ADDRESS, ...); its standard output less one final line end
// is the result, a non-zero exit an error, the output capped at 64 KiB,
// the command (its process group on Unix) killed at the timeout.
//
// # Exim names
//
//	event_action (main)            handlers on the Bus the reception code raises on
//	event_action (transport)       handlers on the Bus the delivery code raises on
//	                               (one Bus per hook, or one Bus and handlers
//	                               testing Event.Hook)
//	$event_name                    Event.Name
//	$event_data                    Event.Data
//	$event_defer_errno             Event.DeferErrno
//	$message_exim_id               Event.MessageID
//	$router_name                   Event.Router
//	$transport_name                Event.Transport
//	$local_part, $domain           Event.LocalPart, Event.Domain
//	$host, $host_address           Event.Host, Event.HostAddress
//	$host_port                     Event.HostPort
//	$tls_in_peercert               Event.PeerCert with Event.Inbound
//	$tls_out_peercert              Event.PeerCert
//	$tls_out_dane                  Event.DANE
//	$lookup_dnssec_authenticated   Event.DNSSEC
//	$sending_ip_address            Event.SendingIP
//	$sending_port                  Event.SendingPort
//	$verify_mode                   Event.VerifyMode
//	$sender_host_authenticated     Event.Authenticator (auth:fail)
//	(none; tls_out_policy)         Event.TLSPolicy: dane, mta-sts(enforce), mta-sts(testing), none
//
//	${run{...}} in event_action    Exec
//	${lookup pgsql ...}            a Handler of your own, Webhook, Exec
//
// Event.Variables gives these names with log- and header-safe values
// (as eximvar.Variable pairs, the type spf, dmarc and bmi use too);
// Event.MarshalJSON a stable JSON object keyed by the same names.
//
// # Events
//
//	event                hook                  acts on result  $event_data
//	auth:fail            main* / transport     replace log     SMTP reply text
//	dane:fail            transport             no              DANEFailReason word
//	dns:fail             transport, else main  no              DNSFailData
//	msg:complete         main                  no              unset
//	msg:defer            transport             no              DeferData (+ DeferErrno)
//	msg:delivery         transport             no              delivery confirmation
//	msg:rcpt:host:defer  transport             no              message (+ RcptDeferErrno)
//	msg:rcpt:defer       transport             no              message (+ RcptDeferErrno)
//	msg:host:defer       transport             no              DeferData (+ DeferErrno)
//	msg:fail:delivery    transport             no              address message
//	msg:fail:internal    main                  no              failure message
//	tcp:connect          transport             refuse connect  unset
//	tcp:close            transport             no              unset
//	tls:cert             main* / transport     refuse cert     CertDepthData
//	tls:fail:connect     main                  no              error string
//	smtp:connect         transport             defer all       BannerData
//	smtp:ehlo            transport             no              EHLOData
//	smtp:fail:syntax     main                  no              error message
//	smtp:fail:protocol   main                  no              error message
//
// * main for the server (inbound) side, transport for the client side
// (Event.Inbound). Names lists them in this order; Name.Info describes each.
//
// The list is Exim's current source. A real Exim 4.96 (Debian 12), run by
// the interop test with an event_action logging every event, raises the
// delivery-side events with exactly the data, errno and order documented
// here (tcp:connect, smtp:connect, smtp:ehlo, msg:rcpt:host:defer,
// msg:rcpt:defer, tcp:close, msg:delivery, msg:fail:delivery,
// msg:complete, msg:host:defer, msg:defer, and the tcp:connect and
// smtp:connect vetoes); it does not yet raise dns:fail, auth:fail or the
// smtp:fail events.
//
// # Differences from Exim
//
//   - smtp:fail:protocol is raised for protocol errors
//     (SyntaxFailEvent); Exim's synprot_error tests a constant and
//     raises smtp:fail:syntax for both kinds.
//   - Every failed address gets exactly one failure event
//     (FailureEvent); Exim gives none to an address with NOTIFY=FAILURE
//     combined with SUCCESS or DELAY (EximFailureEvent keeps that).
//   - Exim raises msg:fail:internal for every recipient when a system
//     filter freezes the message; callers of this package raise
//     failure events only for failed addresses.
//   - Several handlers may share a hook; all are called, and the first
//     non-empty result decides. Exim has one expansion per hook.
//   - Handlers run with a timeout; Exim's expansion has none.
//   - Event.DeferErrno is set only for the events that define it; Exim
//     does not reset $event_defer_errno, so its later events of the
//     same delivery (tcp:close after a RCPT 4xx) still show it.
//   - Strerror spells errno texts as glibc does from Go's table; rare
//     errnos may differ in wording from the C library's.
package events
