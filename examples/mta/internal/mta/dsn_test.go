package mta

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dsninfo"
	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/smtp"
	"github.com/mailpolicy/mailpolicy/srs"
)

// sendWith runs one transaction with whole MAIL and RCPT arguments
// (path and parameters) and returns the end-of-data reply.
func sendWith(t *testing.T, addr, mail string, rcpts []string, msg string) (int, string) {
	t.Helper()
	c := dial(t, addr)
	c.ok("EHLO client.test", 250)
	c.ok("MAIL FROM:"+mail, 250)
	for _, r := range rcpts {
		c.ok("RCPT TO:"+r, 250)
	}
	c.ok("DATA", 354)
	io.WriteString(c.c, strings.ReplaceAll(msg, "\n", "\r\n")+".\r\n")
	code, text := c.read()
	c.ok("QUIT", 221)
	return code, text
}

// reports parses every message in the inbox that came from the null
// sender (the DSNs), leaving out the others.
func reports(t *testing.T, ts *testServer) []*dsninfo.Report {
	t.Helper()
	var out []*dsninfo.Report
	for _, m := range ts.files(t, "") {
		if headerOf(m, "Return-path") != "<>" {
			continue
		}
		rep, err := dsninfo.Parse(strings.NewReader(m))
		if err != nil {
			t.Fatalf("DSN does not parse: %v\n%s", err, m)
		}
		out = append(out, rep)
	}
	return out
}

func finalRecipients(rep *dsninfo.Report) string {
	var out []string
	for _, r := range rep.Recipients {
		out = append(out, r.FinalRecipient.Addr())
	}
	return strings.Join(out, " ")
}

// A failure DSN covers only the recipients whose NOTIFY has FAILURE
// (or who gave none), returns the whole message for RET=FULL and
// carries ENVID and ORCPT.
func TestFailureDSNHonoursParams(t *testing.T) {
	f := startFake(t, &fakeSMTP{rcpt: func(string) string { return "550 5.1.1 no such user" }}, "127.0.0.2")
	o := startOut(t, f.port, remoteZone, nil)
	if code, msg := sendWith(t, o.ts.addr, "<alice@example.com> RET=FULL ENVID=QQ314", []string{
		"<never@remote.test> NOTIFY=NEVER",
		"<success@remote.test> NOTIFY=SUCCESS",
		"<plain@remote.test> ORCPT=rfc822;first@example.org",
	}, "Subject: full\n\nthe whole body\n"); code != 250 {
		t.Fatalf("DATA: %d %s", code, msg)
	}
	rep, _ := readBounce(t, o.ts)
	if got := finalRecipients(rep); got != "plain@remote.test" {
		t.Errorf("failure DSN for %q, want plain@remote.test alone", got)
	}
	if rep.OriginalEnvelopeID != "QQ314" || rep.Recipients[0].OriginalRecipient != dsninfo.Rfc822("first@example.org") {
		t.Errorf("Original-Envelope-ID %q, Original-Recipient %+v", rep.OriginalEnvelopeID, rep.Recipients[0].OriginalRecipient)
	}
	if rep.Return != dsninfo.ReturnFull || !strings.Contains(string(rep.Original), "the whole body") {
		t.Errorf("RET=FULL returned %v %q", rep.Return, rep.Original)
	}
}

// Delay warnings go to NOTIFY=DELAY and to no NOTIFY; the failure at
// the end to NOTIFY=FAILURE and to no NOTIFY.
func TestDelayWarningHonoursNotify(t *testing.T) {
	f := startFake(t, &fakeSMTP{rcpt: func(string) string { return "452 4.2.2 mailbox full" }}, "127.0.0.2")
	o := startOut(t, f.port, remoteZone, func(c *Config) {
		c.RetryMaxAge = 1500 * time.Millisecond
		c.DelayWarning = 300 * time.Millisecond
	})
	sendWith(t, o.ts.addr, "<alice@example.com>", []string{
		"<fail@remote.test> NOTIFY=FAILURE", "<delay@remote.test> NOTIFY=DELAY", "<plain@remote.test>",
	}, "Subject: full\n\nx\n")
	var reps []*dsninfo.Report
	waitFor(t, 15*time.Second, "delay warning and bounce", func() bool { reps = reports(t, o.ts); return len(reps) >= 2 })
	got := map[dsninfo.Action]string{}
	for _, rep := range reps {
		got[rep.Recipients[0].Action] = finalRecipients(rep)
	}
	if got[dsninfo.Delayed] != "delay@remote.test plain@remote.test" || got[dsninfo.Failed] != "fail@remote.test plain@remote.test" {
		t.Errorf("DSNs %q", got)
	}
}

// NOTIFY=SUCCESS with delivery to the Maildir: a "delivered" DSN to the
// sender, local or remote, and none to the null sender. It is sent
// before the end-of-data reply.
func TestDeliveredDSN(t *testing.T) {
	f := startFake(t, &fakeSMTP{}, "127.0.0.2")
	zone := append([]string{"sender.test. MX 10 mx.remote.test."}, remoteZone...)
	o := startOut(t, f.port, zone, nil)
	sendWith(t, o.ts.addr, "<alice@example.com> ENVID=e1", []string{
		"<bob@example.com> NOTIFY=SUCCESS ORCPT=rfc822;bobby@example.org", "<carol@example.com>",
	}, "Subject: local\n\nbody\n")
	reps := reports(t, o.ts)
	if len(reps) != 1 {
		t.Fatalf("%d DSNs in the Maildir", len(reps))
	}
	rep := reps[0]
	r := rep.Recipients[0]
	if finalRecipients(rep) != "bob@example.com" || r.Action != dsninfo.Delivered || r.Status != "2.0.0" ||
		r.OriginalRecipient != dsninfo.Rfc822("bobby@example.org") || rep.OriginalEnvelopeID != "e1" || rep.To != "alice@example.com" {
		t.Errorf("success DSN %+v, recipient %+v", rep, r)
	}
	if rep.Return != dsninfo.ReturnHeaders || !strings.Contains(string(rep.Original), "Subject: local") || strings.Contains(string(rep.Original), "body") {
		t.Errorf("success DSN returns %v %q, want the header", rep.Return, rep.Original)
	}

	// The null sender gets none.
	before := len(o.ts.files(t, ""))
	sendWith(t, o.ts.addr, "<>", []string{"<bob@example.com> NOTIFY=SUCCESS"}, "Subject: null\n\nx\n")
	if n := len(o.ts.files(t, "")); n != before+1 {
		t.Errorf("%d new messages for a null-sender message, want it alone", n-before)
	}

	// A remote sender's DSN goes out through the queue.
	sendWith(t, o.ts.addr, "<a@sender.test>", []string{"<bob@example.com> NOTIFY=SUCCESS"}, "Subject: remote\n\nx\n")
	waitFor(t, 10*time.Second, "DSN to the remote sender", func() bool { return len(f.messages()) == 1 })
	m := f.messages()[0]
	rep, err := dsninfo.Parse(strings.NewReader(m.data))
	if err != nil {
		t.Fatal(err)
	}
	if m.from != "" || m.rcpts[0] != "a@sender.test" || rep.Recipients[0].Action != dsninfo.Delivered {
		t.Errorf("remote DSN from %q to %v: %+v", m.from, m.rcpts, rep.Recipients)
	}
}

// Delivered to a host without DSN, NOTIFY=SUCCESS gets a "relayed"
// DSN; a host with DSN gets the parameters on MAIL and RCPT, and the
// success DSN is its to send. Never one to the null sender.
func TestRelayedDSN(t *testing.T) {
	t.Run("no DSN", func(t *testing.T) {
		f := startFake(t, &fakeSMTP{}, "127.0.0.2")
		o := startOut(t, f.port, remoteZone, nil)
		sendWith(t, o.ts.addr, "<alice@example.com> RET=HDRS ENVID=r1", []string{"<bob@remote.test> NOTIFY=SUCCESS"}, "Subject: relay\n\nx\n")
		rep, _ := readBounce(t, o.ts)
		r := rep.Recipients[0]
		if r.Action != dsninfo.Relayed || r.FinalRecipient.Value != "bob@remote.test" || r.RemoteMTA != "mx.remote.test" || rep.OriginalEnvelopeID != "r1" {
			t.Errorf("relayed DSN %+v", r)
		}
		m := f.messages()[0]
		if m.mail.Ret != "" || m.mail.EnvID != "" || m.rcptp["bob@remote.test"].Notify != 0 {
			t.Errorf("DSN parameters sent to a host without DSN: %+v %+v", m.mail, m.rcptp)
		}

		// The null sender: nothing, by the time the message is done.
		sendWith(t, o.ts.addr, "<>", []string{"<carl@remote.test> NOTIFY=SUCCESS"}, "Subject: null\n\nx\n")
		waitFor(t, 10*time.Second, "second delivery", func() bool { return len(f.messages()) == 2 })
		waitFor(t, 5*time.Second, "msg:complete", func() bool { return count(o.rec, events.MsgComplete) == 2 })
		if n := len(reports(t, o.ts)); n != 1 {
			t.Errorf("%d DSNs, want the first alone", n)
		}
	})
	t.Run("DSN", func(t *testing.T) {
		f := startFake(t, &fakeSMTP{dsn: true}, "127.0.0.2")
		rw, err := srs.New(srs.Config{Domain: "example.org", Secrets: []string{"s3cret"}})
		if err != nil {
			t.Fatal(err)
		}
		o := startOut(t, f.port, remoteZone, func(c *Config) {
			c.SRS, c.SRSDomain = rw, "example.org"
			c.Forwards = map[string]string{"fwd@example.com": "dan@remote.test"}
		})
		sendWith(t, o.ts.addr, "<alice@example.com> RET=HDRS ENVID=Q+2B1", []string{
			"<bob@remote.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;bobby@example.org", "<fwd@example.com>",
		}, "Subject: relay\n\nx\n")
		// Two spool entries: the forwarded copy has the SRS sender.
		waitFor(t, 10*time.Second, "delivery", func() bool { return len(f.messages()) == 2 })
		waitFor(t, 10*time.Second, "msg:complete", func() bool { return count(o.rec, events.MsgComplete) == 2 })
		var bob, dan smtp.RcptParams
		var mail smtp.MailParams
		for _, m := range f.messages() {
			if p, ok := m.rcptp["bob@remote.test"]; ok {
				bob, mail = p, m.mail
			}
			if p, ok := m.rcptp["dan@remote.test"]; ok {
				dan = p
			}
		}
		if mail.Ret != smtp.RetHeaders || mail.EnvID != "Q+1" {
			t.Errorf("MAIL parameters %+v", mail)
		}
		if bob.Notify != smtp.NotifySuccess|smtp.NotifyDelay || bob.ORCPT != (smtp.OriginalRecipient{Type: "rfc822", Addr: "bobby@example.org"}) {
			t.Errorf("RCPT parameters %+v", bob)
		}
		// A forwarded recipient has the address it was sent to as ORCPT.
		if dan.ORCPT != (smtp.OriginalRecipient{Type: "rfc822", Addr: "fwd@example.com"}) {
			t.Errorf("forwarded RCPT parameters %+v", dan)
		}
		if n := len(reports(t, o.ts)); n != 0 {
			t.Errorf("%d DSNs for a host that offers DSN", n)
		}
	})
}

func count(r *evRecorder, n events.Name) int {
	k := 0
	for _, e := range r.all() {
		if e.Name == n {
			k++
		}
	}
	return k
}

// SMTPUTF8: internationalised addresses are taken with it, refused
// without it, and delivered to the Maildir as they are, the Received
// field saying UTF8SMTP.
func TestSMTPUTF8Local(t *testing.T) {
	ts := start(t, nil)
	c := dial(t, ts.addr)
	ehlo := c.ok("EHLO client.test", 250)
	for _, kw := range []string{"SMTPUTF8", "8BITMIME", "DSN"} {
		if !strings.Contains("\n"+ehlo+"\n", "\n"+kw+"\n") {
			t.Errorf("EHLO lacks %s: %q", kw, ehlo)
		}
	}
	if msg := c.ok("MAIL FROM:<ünï@sender.test>", 550); !strings.HasPrefix(msg, "5.6.7") {
		t.Errorf("without SMTPUTF8: %q", msg)
	}
	c.ok("MAIL FROM:<a@sender.test>", 250)
	if msg := c.ok("RCPT TO:<bøb@example.com>", 553); !strings.HasPrefix(msg, "5.6.7") {
		t.Errorf("without SMTPUTF8: %q", msg)
	}
	c.ok("RSET", 250)
	c.ok("MAIL FROM:<ünï@sender.test> SMTPUTF8", 250)
	c.ok("RCPT TO:<bøb@example.com>", 250)
	c.ok("DATA", 354)
	io.WriteString(c.c, "Subject: h\xc3\xa9llo\r\nTo: b\xc3\xb8b@example.com\r\n\r\nb\xc3\xb8dy\r\n.\r\n")
	if code, msg := c.read(); code != 250 {
		t.Fatalf("DATA: %d %s", code, msg)
	}
	files := ts.files(t, "")
	if len(files) != 1 {
		t.Fatalf("%d messages", len(files))
	}
	m := files[0]
	if headerOf(m, "Return-path") != "<ünï@sender.test>" || headerOf(m, "Envelope-to") != "bøb@example.com" ||
		headerOf(m, "Subject") != "héllo" || !strings.Contains(m, "\nbødy\n") {
		t.Errorf("stored message:\n%s", m)
	}
	if rcv := headerOf(m, "Received"); !strings.Contains(rcv, "with UTF8SMTP\n") && !strings.Contains(rcv, "with UTF8SMTP ") {
		t.Errorf("Received %q, want with UTF8SMTP", rcv)
	}
}

// Relayed with SMTPUTF8: the flag goes on MAIL to a server that offers
// it; one that does not fails the recipients at once (no retry) with a
// 5.6.7 DSN, unless nothing in the message needs it.
func TestSMTPUTF8Relay(t *testing.T) {
	msg := "Subject: hi\n\nx\n"
	t.Run("offered", func(t *testing.T) {
		f := startFake(t, &fakeSMTP{utf8: true}, "127.0.0.2")
		o := startOut(t, f.port, remoteZone, nil)
		sendWith(t, o.ts.addr, "<alice@example.com> SMTPUTF8", []string{"<bøb@remote.test>"}, msg)
		waitFor(t, 10*time.Second, "delivery", func() bool { return len(f.messages()) == 1 })
		m := f.messages()[0]
		if !m.mail.SMTPUTF8 || m.rcpts[0] != "bøb@remote.test" || !strings.Contains(m.data, "with UTF8SMTP") {
			t.Errorf("relayed %+v", m)
		}
	})
	t.Run("not offered", func(t *testing.T) {
		f := startFake(t, &fakeSMTP{}, "127.0.0.2")
		o := startOut(t, f.port, remoteZone, nil)
		sendWith(t, o.ts.addr, "<alice@example.com> SMTPUTF8", []string{"<bøb@remote.test>"}, msg)
		rep, _ := readBounce(t, o.ts)
		r := rep.Recipients[0]
		if r.Action != dsninfo.Failed || r.Status != "5.6.7" || r.FinalRecipient.Type != "utf-8" || r.FinalRecipient.Addr() != "bøb@remote.test" ||
			!strings.Contains(r.Diagnostic, "SMTPUTF8") {
			t.Errorf("bounce %+v", r)
		}
		waitFor(t, 5*time.Second, "msg:complete", func() bool { return count(o.rec, events.MsgComplete) == 1 })
		f.mu.Lock()
		conns := f.conns
		f.mu.Unlock()
		if strings.Contains(f.transcript(), "MAIL FROM") || conns != 1 {
			t.Errorf("%d connections, transcript:\n%s", conns, f.transcript())
		}
	})
	t.Run("not needed", func(t *testing.T) {
		f := startFake(t, &fakeSMTP{}, "127.0.0.2")
		o := startOut(t, f.port, remoteZone, nil)
		sendWith(t, o.ts.addr, "<alice@example.com> SMTPUTF8", []string{"<bob@remote.test>"}, msg)
		waitFor(t, 10*time.Second, "delivery", func() bool { return len(f.messages()) == 1 })
		if m := f.messages()[0]; m.mail.SMTPUTF8 {
			t.Errorf("SMTPUTF8 sent to a server that does not offer it: %+v", m.mail)
		}
	})
}

// Without a spool a local sender still gets its success DSN; a remote
// one gets none (nothing can be relayed), and nothing breaks.
func TestDeliveredDSNWithoutSpool(t *testing.T) {
	ts := start(t, nil)
	sendWith(t, ts.addr, "<alice@example.com>", []string{"<bob@example.com> NOTIFY=SUCCESS"}, "Subject: local\n\nbody\n")
	if reps := reports(t, ts); len(reps) != 1 || reps[0].Recipients[0].Action != dsninfo.Delivered {
		t.Fatalf("DSNs without a spool: %+v", reps)
	}
	sendWith(t, ts.addr, "<a@sender.test>", []string{"<bob@example.com> NOTIFY=SUCCESS"}, "Subject: remote\n\nx\n")
	if reps := reports(t, ts); len(reps) != 1 {
		t.Errorf("%d DSNs, want still 1", len(reps))
	}
}
