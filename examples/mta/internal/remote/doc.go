// Package remote is the reference MTA's courier: it delivers the
// pending recipients of a spooled message to their domains' hosts over
// the public smtp client, with DANE, OCSP and Exim's transport events.
//
// # Delivery
//
//	queue (queue.go): -spool DIR holds ID.msg (the message as sent, our
//	  trace headers on top) and ID.env (JSON envelope: sender, arrival,
//	  attempts, next attempt, per-recipient state and last host), each
//	  written to a temporary name, fsynced and renamed; a new message
//	  never replaces a file (O_EXCL, link instead of rename; an ID whose
//	  files exist becomes ID-<random>), and Maildir names carry 64
//	  random bits beside time, PID and counter, so a restart with the
//	  same PID in the same second overwrites nothing; the runner
//	  goroutine is started by Serve and stopped by Shutdown (an attempt
//	  cut off by shutdown is retried at the next start)
//	  → the message is read from ID.msg as it goes out (an
//	    io.SectionReader over the file, read again for each host; never
//	    whole in memory)
//	  → DKIM (dkimsign.go, package signing): once per attempt, by the
//	    From domain, the DKIM-Signature fields put in front of what is
//	    sent (io.MultiReader; the body is hashed as it is read); a
//	    dkim_strict failure defers every pending recipient
//	    ("DKIM: signing failed: ...") before any connection
//	  → per domain: MX lookup (resolver, preference order,
//	    null MX fails, no MX: the domain's A/AAAA, NXDOMAIN fails) and
//	    dane.LookupHost per host; the DNSSEC flag is MX and address
//	    lookups both authenticated
//	  → per host address, in order (deliver_remote.go): dane.Policy.Check
//	    (-dane-try, default "*", -dane-require; TLSA lookup only for
//	    DNSSEC-secure addresses; ActionFail fails the addresses,
//	    ActionDefer defers the host, dane:fail through Bus.Notify)
//	  → per host address where DANE does not apply (tlspolicy.go; RFC
//	    8461 §2: DANE wins): the recipient domain's MTA-STS policy from
//	    Courier.MTASTS (mtasts.Cache: TXT asked each time, the policy
//	    cached), in enforce mode a host the policy does not name is
//	    deferred without connecting, STARTTLS is required and the
//	    certificate PKIX-verified for the MX host name (TLSConfig.RootCAs;
//	    a failure defers the host, "MTA-STS error: ...", never clear
//	    text, and no retry record); testing mode delivers as before and
//	    reports; log lines say tls_policy=dane|mta-sts(enforce)|
//	    mta-sts(testing)|none, as do the events' TLSPolicy
//	    (tls_out_policy); every session's TLS outcome goes to
//	    Courier.TLSReports (RFC 8460 result types; policy tlsa, sts or
//	    no-policy-found)
//	  → tcp:connect (a result refuses: host deferred, ERRNO_EVENT -58)
//	  → connect to -smtp-port; the dialogue is an smtp.Client's
//	    (replies bounded by smtp.Limits, every read and write by
//	    -smtp-timeout): greeting (not 220: host deferred),
//	    smtp:connect (BannerData; a result: QUIT, host deferred with
//	    Decision.DeferMessage, ERRNO_EXPANDFAIL -27)
//	  → EHLO (smtp:ehlo from Client.OnReply, EHLOData; HELO after a
//	    5xx), STARTTLS when offered: opportunistic without verification
//	    (Client.StartTLS; refused: clear text), or dane.Policy.Connect
//	    under DANE (no STARTTLS, a refusal or a failed check: dane:fail,
//	    host deferred); tls:cert per peer certificate from
//	    VerifyPeerCertificate, before any verification (depth from the
//	    top down, Decision.CertOutcome: refusals only count under DANE);
//	    OCSP (-ocsp-request/-ocsp-require) via ocsp.Client.Session or
//	    SessionDANE chained on VerifyConnection; EHLO again
//	  → the transaction in one smtp.Client.Send: MAIL FROM
//	    (smtp.MailParams: SIZE, PRDR as prdr.MailSuffix says), RCPT
//	    per recipient (5xx fails it; 4xx defers it: msg:rcpt:host:defer,
//	    and msg:rcpt:defer on the last host, RcptDeferErrno), DATA, or
//	    BDAT chunks when CHUNKING is offered (Exim's hosts_try_chunking
//	    = *), pipelined when PIPELINING is offered; prdr.Combine on the
//	    smtp.DataResponse (per-recipient status)
//	  → RSET and the connection kept for the next message to the host
//	    when deliveries wait for the destination (pool.go:
//	    connection_max_messages, an idle timeout; a waiting message
//	    takes a kept connection before it opens one), else QUIT,
//	    tcp:close
//	  → msg:delivery (data: the server's confirmation), msg:fail:delivery;
//	    for a host failure msg:host:defer, and msg:defer on the last
//	    host (DeferData); deferred recipients go to the next host, then
//	    wait: -retry-interval, doubled per attempt up to an hour;
//	    after -retry-max-age they fail ("retry timeout exceeded")
//	  → msg:complete when no recipient is left; the entry is removed
//	  → bounces (queue.Bouncer): failed recipients whose NOTIFY asks
//	    for it get a dsninfo.Compose DSN (Reporting-MTA -hostname,
//	    Remote-MTA, X-Remote-MTA-smtp-greeting, X-Remote-MTA-helo-response,
//	    X-Exim-Diagnostic, Diagnostic-Code, Original-Envelope-ID,
//	    Original-Recipient; the header, or the whole message with
//	    RET=FULL); once -delay-warning has passed, one delay DSN for
//	    NOTIFY=DELAY (Action delayed, Will-Retry-Until); "relayed" DSNs
//	    for NOTIFY=SUCCESS to a server without DSN (one with DSN gets the
//	    parameters on MAIL and RCPT); sent to the envelope sender: into
//	    the maildir when it is local, else queued with a null sender;
//	    never for a null sender. Mail that needs SMTPUTF8 fails at once
//	    (5.6.7) at a server that lacks it. Each attempt DKIM-signs the
//	    message first when its From domain has a [[dkim]] entry
//	    (package signing; a Strict failure defers).
//
// The queue runner calls Deliver for one destination (domain) of one
// message at a time, from up to max_deliveries goroutines at once
// (queue/sched.go), so a Courier holds no per-message state; its kept
// connections are shared under a lock.
//
// Event order and data follow a real Exim 4.96 (events_interop_test.go):
// tcp:connect, smtp:connect, smtp:ehlo, [tls:cert..., smtp:ehlo],
// msg:rcpt:host:defer, msg:rcpt:defer, tcp:close, msg:delivery,
// msg:fail:delivery, msg:host:defer, msg:defer, msg:complete. Each
// carries the message id, router "dnslookup", transport "remote_smtp",
// host name, address and port, the domain and local part (the first
// recipient's for host events), DNSSEC, DANE and the sending address
// and port once connected. On a kept connection the connection events
// come once and tcp:close when it closes (pool.go says how that moves
// it after the message's msg:delivery).
package remote
