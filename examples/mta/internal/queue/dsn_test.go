package queue

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dsninfo"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/maildir"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// The DSN parameters and the SMTPUTF8 flag survive the spool; an
// envelope written before they existed still loads, without them.
func TestEnvelopeDSNFields(t *testing.T) {
	s, err := OpenSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rp, _ := smtp.ParseRcptParams("NOTIFY=SUCCESS,DELAY ORCPT=rfc822;orig+2Bx@example.org")
	p, err := s.PrepareEnvelope(&Envelope{ID: "m1", From: "a@b.test", Ret: "FULL", EnvID: "env 1", SMTPUTF8: true,
		Rcpts: []*Recipient{NewRecipient("c@d.test", &rp), NewRecipient("e@f.test", nil)}}, []byte("x\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	env, err := s.Load(p.ID())
	if err != nil {
		t.Fatal(err)
	}
	if env.Ret != "FULL" || env.EnvID != "env 1" || !env.SMTPUTF8 || env.Arrival.IsZero() || len(env.Rcpts) != 2 {
		t.Fatalf("envelope %+v", env)
	}
	r0, r1 := env.Rcpts[0], env.Rcpts[1]
	if r0.State != Pending || r0.Notify != "SUCCESS,DELAY" || r0.ORCPT != "rfc822;orig+x@example.org" || r1.Notify != "" || r1.ORCPT != "" {
		t.Errorf("recipients %+v %+v", r0, r1)
	}
	if got := r0.RcptParams().String(); got != "NOTIFY=SUCCESS,DELAY ORCPT=rfc822;orig+2Bx@example.org" {
		t.Errorf("passed on as %q", got)
	}
	if got := r1.RcptParams().String(); got != "" {
		t.Errorf("no parameters passed on as %q", got)
	}
	raw, _ := os.ReadFile(filepath.Join(s.Dir(), p.ID()+".env"))
	for _, key := range []string{`"ret": "FULL"`, `"envid": "env 1"`, `"smtputf8": true`, `"notify": "SUCCESS,DELAY"`} {
		if !strings.Contains(string(raw), key) {
			t.Errorf("envelope JSON lacks %s:\n%s", key, raw)
		}
	}

	plain, err := s.Enqueue("m2", "a@b.test", []string{"c@d.test"}, []byte("x\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = os.ReadFile(filepath.Join(s.Dir(), plain+".env"))
	for _, key := range []string{"ret", "envid", "smtputf8", "notify", "orcpt", "dsn_passed"} {
		if strings.Contains(string(raw), `"`+key+`"`) {
			t.Errorf("%s written without a value:\n%s", key, raw)
		}
	}
	old := `{"id":"old1","from":"a@b.test","arrival":"2026-01-01T00:00:00Z","attempts":1,"next":"2026-01-01T00:00:00Z","warned":false,"rcpts":[{"addr":"c@d.test","state":"pending"}]}`
	if err := os.WriteFile(filepath.Join(s.Dir(), "old1.env"), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	env, err = s.Load("old1")
	if err != nil || env.Ret != "" || env.SMTPUTF8 || env.Rcpts[0].Notify != "" || !env.Rcpts[0].Notifies(smtp.NotifyFailure) {
		t.Errorf("old envelope: %+v %v", env, err)
	}
}

func TestNotifies(t *testing.T) {
	for notify, want := range map[string][3]bool{ // success, failure, delay
		"":                        {false, true, true},
		"NEVER":                   {false, false, false},
		"SUCCESS":                 {true, false, false},
		"FAILURE":                 {false, true, false},
		"DELAY":                   {false, false, true},
		"SUCCESS,FAILURE,DELAY":   {true, true, true},
		"garbage, not from smtpd": {false, true, true},
	} {
		r := &Recipient{Notify: notify}
		got := [3]bool{r.Notifies(smtp.NotifySuccess), r.Notifies(smtp.NotifyFailure), r.Notifies(smtp.NotifyDelay)}
		if got != want {
			t.Errorf("NOTIFY=%s: %v, want %v", notify, got, want)
		}
	}
}

func TestUTF8Status(t *testing.T) {
	ascii := []byte("Subject: hi\r\n\r\nbody \xc3\xa9\r\n")
	utf8Header := []byte("Subject: h\xc3\xa9\r\n\r\nx\r\n")
	rc := []*Recipient{{Addr: "b@x.test"}}
	for _, tc := range []struct {
		env   Envelope
		rcpts []*Recipient
		data  []byte
		want  string
	}{
		{Envelope{From: "ä@x.test"}, rc, ascii, ""}, // no SMTPUTF8: nothing to check
		{Envelope{SMTPUTF8: true, From: "a@x.test"}, rc, ascii, ""},
		{Envelope{SMTPUTF8: true, From: "ä@x.test"}, rc, ascii, "5.6.7"},
		{Envelope{SMTPUTF8: true, From: "a@x.test"}, []*Recipient{{Addr: "b@x.test"}, {Addr: "b@ü.test"}}, ascii, "5.6.7"},
		{Envelope{SMTPUTF8: true, From: "a@x.test"}, rc, utf8Header, "5.6.9"},
	} {
		if got := tc.env.UTF8Status(tc.rcpts, sec(tc.data)); got != tc.want {
			t.Errorf("%+v %v: %q, want %q", tc.env, tc.rcpts, got, tc.want)
		}
	}
}

// bouncerFor is a Bouncer delivering every DSN to a Maildir in a
// temporary directory, the remote ones into a spool.
func bouncerFor(t *testing.T, localSender string) (*Bouncer, string, *Spool) {
	t.Helper()
	dir := t.TempDir()
	md, err := maildir.Open(dir, "mx.example")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := OpenSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := &Bouncer{Hostname: "mx.example", RetryMaxAge: time.Hour, Maildir: md, Spool: sp,
		Route: func(a string) (string, bool, string) { return a, a == localSender, "" }}
	return b, dir, sp
}

// dsns reads every DSN in the Maildir.
func dsns(t *testing.T, dir string) []*dsninfo.Report {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "new", "*"))
	var out []*dsninfo.Report
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := dsninfo.Parse(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		out = append(out, rep)
	}
	return out
}

var spooled = []byte("Subject: dsn test\r\nFrom: a@example.com\r\n\r\nthe body\r\n")

func TestBounceHonoursNotifyRetEnvid(t *testing.T) {
	b, dir, _ := bouncerFor(t, "a@example.com")
	env := &Envelope{ID: "m1", From: "a@example.com", Arrival: time.Now(), Ret: "FULL", EnvID: "QQ+1 x"}
	never := &Recipient{Addr: "never@remote.test", Notify: "NEVER", State: Failed}
	delay := &Recipient{Addr: "delay@remote.test", Notify: "DELAY", State: Failed}
	both := &Recipient{Addr: "both@remote.test", Notify: "FAILURE,DELAY", ORCPT: "rfc822;first@example.org", State: Failed, Status: "5.1.1", Message: "no such user"}
	plain := &Recipient{Addr: "plain@remote.test", State: Failed}
	rcpts := []*Recipient{never, delay, both, plain}

	b.Bounce(env, sec(spooled), rcpts, false)
	reps := dsns(t, dir)
	if len(reps) != 1 {
		t.Fatalf("%d DSNs", len(reps))
	}
	rep := reps[0]
	if got := finals(rep); got != "both@remote.test plain@remote.test" {
		t.Errorf("failure DSN for %s, want the ones with FAILURE or no NOTIFY", got)
	}
	if rep.OriginalEnvelopeID != "QQ+2B1+20x" {
		t.Errorf("Original-Envelope-ID %q, want the ENVID in xtext", rep.OriginalEnvelopeID)
	}
	if o := rep.Recipients[0].OriginalRecipient; o != (dsninfo.Typed{Type: "rfc822", Value: "first@example.org"}) || !rep.Recipients[1].OriginalRecipient.IsZero() {
		t.Errorf("Original-Recipient %+v, %+v", o, rep.Recipients[1].OriginalRecipient)
	}
	if rep.Return != dsninfo.ReturnFull || !strings.Contains(string(rep.Original), "the body") {
		t.Errorf("RET=FULL returned %v %q", rep.Return, rep.Original)
	}
	if rep.Recipients[0].Status != "5.1.1" || rep.To != "a@example.com" {
		t.Errorf("status %q to %q", rep.Recipients[0].Status, rep.To)
	}

	// Delay warnings go to DELAY and to no NOTIFY; they return the
	// header only, whatever RET says.
	b2, dir2, _ := bouncerFor(t, "a@example.com")
	b2.Bounce(env, sec(spooled), rcpts, true)
	rep = dsns(t, dir2)[0]
	if got := finals(rep); got != "delay@remote.test both@remote.test plain@remote.test" {
		t.Errorf("delay warning for %s", got)
	}
	if rep.Return != dsninfo.ReturnHeaders || strings.Contains(string(rep.Original), "the body") || rep.Recipients[0].Action != dsninfo.Delayed {
		t.Errorf("delay warning returned %v %q", rep.Return, rep.Original)
	}

	// RET=HDRS, or none: the header.
	b3, dir3, _ := bouncerFor(t, "a@example.com")
	env.Ret = ""
	b3.Bounce(env, sec(spooled), []*Recipient{plain}, false)
	if rep = dsns(t, dir3)[0]; rep.Return != dsninfo.ReturnHeaders || strings.Contains(string(rep.Original), "the body") {
		t.Errorf("no RET returned %v %q", rep.Return, rep.Original)
	}
}

func TestSuccessDSNs(t *testing.T) {
	b, dir, _ := bouncerFor(t, "a@example.com")
	env := &Envelope{ID: "m1", From: "a@example.com", Arrival: time.Now(), Ret: "FULL", EnvID: "id1"}
	asked := &Recipient{Addr: "bob@example.com", Notify: "SUCCESS", ORCPT: "rfc822;bob@example.com", State: Delivered}
	notAsked := &Recipient{Addr: "carol@example.com", State: Delivered}
	b.Delivered(env, []byte("Subject: lf\n\nbody\n"), []*Recipient{asked, notAsked})
	reps := dsns(t, dir)
	if len(reps) != 1 {
		t.Fatalf("%d DSNs", len(reps))
	}
	rep := reps[0]
	r := rep.Recipients[0]
	if finals(rep) != "bob@example.com" || r.Action != dsninfo.Delivered || r.Status != "2.0.0" || rep.OriginalEnvelopeID != "id1" ||
		rep.Subject != "Delivery Status Notification" {
		t.Errorf("success DSN %+v %+v", rep, r)
	}
	if rep.Return != dsninfo.ReturnHeaders || strings.Contains(string(rep.Original), "body") || !strings.Contains(string(rep.Original), "Subject: lf") {
		t.Errorf("success DSN returns %v %q, want the header only", rep.Return, rep.Original)
	}

	// Relayed: only where the host took no DSN parameters.
	b2, dir2, _ := bouncerFor(t, "a@example.com")
	passed := &Recipient{Addr: "p@remote.test", Notify: "SUCCESS", DSNPassed: true, State: Delivered, Host: "mx.remote.test", IP: "192.0.2.1", Port: 25}
	dropped := &Recipient{Addr: "d@remote.test", Notify: "SUCCESS,FAILURE", State: Delivered, Host: "mx.remote.test", IP: "192.0.2.1", Port: 25}
	b2.Relayed(env, sec(spooled), []*Recipient{passed, dropped, notAsked})
	reps = dsns(t, dir2)
	if len(reps) != 1 || finals(reps[0]) != "d@remote.test" || reps[0].Recipients[0].Action != dsninfo.Relayed ||
		reps[0].Recipients[0].RemoteMTA != "mx.remote.test" {
		t.Fatalf("relayed DSNs %+v", reps)
	}

	// None at all for the null sender.
	b3, dir3, sp := bouncerFor(t, "")
	nul := &Envelope{ID: "m2", From: "", Arrival: time.Now()}
	b3.Delivered(nul, spooled, []*Recipient{asked})
	b3.Relayed(nul, sec(spooled), []*Recipient{dropped})
	b3.Bounce(nul, sec(spooled), []*Recipient{{Addr: "x@remote.test", State: Failed}}, false)
	if n := len(dsns(t, dir3)); n != 0 {
		t.Errorf("%d DSNs for the null sender", n)
	}
	if envs, _, _ := sp.List(); len(envs) != 0 {
		t.Errorf("%d DSNs queued for the null sender", len(envs))
	}
}

// A DSN to a remote, internationalised sender is queued with SMTPUTF8
// and names the internationalised recipient in RFC 6533's utf-8 form.
func TestDSNToUTF8Sender(t *testing.T) {
	b, _, sp := bouncerFor(t, "")
	env := &Envelope{ID: "m1", From: "ünïcode@sender.test", Arrival: time.Now(), SMTPUTF8: true}
	b.Bounce(env, sec(spooled), []*Recipient{{Addr: "bøb@remote.test", State: Failed, Status: "5.6.7"}}, false)
	envs, _, _ := sp.List()
	if len(envs) != 1 || !envs[0].SMTPUTF8 || envs[0].From != "" || envs[0].Rcpts[0].Addr != "ünïcode@sender.test" {
		t.Fatalf("queued %+v", envs)
	}
	msg, _ := sp.Message(envs[0].ID)
	rep, err := dsninfo.Parse(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Recipients[0]
	if r.FinalRecipient.Type != "utf-8" || r.FinalRecipient.Addr() != "bøb@remote.test" || r.Status != "5.6.7" || rep.To != "" {
		t.Errorf("DSN %+v to %q", r, rep.To)
	}
}

func finals(rep *dsninfo.Report) string {
	var out []string
	for _, r := range rep.Recipients {
		out = append(out, r.FinalRecipient.Addr())
	}
	return strings.Join(out, " ")
}
