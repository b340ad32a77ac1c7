// Command gosmtp is a thin SMTP server on github.com/emersion/go-smtp
// showing how a Go mail server wires mailpolicy's public packages (and
// nothing else of mailpolicy, so any of it can be copied). Core wiring:
//
//	res, _ := resolver.New(resolver.WithNameservers("127.0.0.1:53"), resolver.WithCache(4096))
//	pl, _ := proxyproto.NewListener(ln, proxyproto.Config{Required: hostlist.MustParse("10.0.0.0/8")})
//	// MAIL: SPF on the client the PROXY header named (conn.RemoteAddr)
//	o := spf.Check(ctx, clientIP, mailFrom, helo, spf.WithResolver(res), spf.WithReceiver(hostname))
//	if o.Result == spf.Fail {
//		return &smtp.SMTPError{Code: 550, Message: o.SMTPComment}
//	}
//	// DATA: DKIM, then DMARC with the SPF outcome
//	sigs, _ := dkim.Verify(ctx, bytes.NewReader(msg), dkim.WithResolver(res))
//	from, _ := dmarc.FromHeaders(bytes.NewReader(msg))
//	dm := dmarc.Evaluate(ctx, dmarc.Input{HeaderFrom: from, MailFrom: mailFrom, HELO: helo,
//		ClientIP: clientIP, SPF: o.Result, SPFDomain: o.UsedDomain, DKIM: sigs}, dmarc.WithResolver(res))
//	if dm.Status == dmarc.StatusReject {
//		return &smtp.SMTPError{Code: 550, Message: "Rejected by DMARC policy"}
//	}
//	ar := authres.Build(hostname, append([]authres.Method{authres.FromSPF(o), authres.FromDMARC(dm)},
//		authres.FromDKIM(sigs)...)...) // Build sorts them into Exim's order
//	msg, _ = authres.RemoveOwn(msg, hostname) // forged fields claiming our name
//	msg = append([]byte(o.Received+"\r\n"+ar.Field()), msg...)
//	rw, _ := srs.New(srs.Config{Domain: "fwd.example", Secrets: []string{secret}})
//	fwdFrom, _ := rw.Forward(mailFrom) // the envelope sender of a forward
//
// backend.go does this for go-smtp (also: 451 for SPF and DMARC
// temperror, 550 for a malformed header section); proxy.go adapts proxyproto; main.go spools accepted messages
// for a queue runner. gosmtp -h lists the flags.
//
// # What go-smtp cannot host
//
// PRDR: go-smtp calls Session.Data once and sends one reply for all
// recipients; only LMTP (LMTPSession.LMTPData) replies per recipient.
// Use mailpolicy's prdr package on an own SMTP loop (as examples/mta
// does), or accept per transaction only recipients sharing a policy and
// answer 452 to the others, which the client retries in a new one.
//
// The 503 QUIT-only mode after a failed PROXY negotiation lives below
// go-smtp (proxy.go): go-smtp answers NOOP, RSET, VRFY and MAIL before
// HELO itself and hangs up after three errors.
package main
