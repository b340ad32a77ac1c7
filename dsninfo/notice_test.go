package dsninfo

import (
	"bytes"
	"strings"
	"testing"
)

// A report without failures (RFC 3461's success notices) gets its own
// subject and text; one with a failure keeps the bounce wording.
func TestComposeSuccessNotice(t *testing.T) {
	compose := func(actions ...Action) (*Report, string) {
		t.Helper()
		r := Report{ReportingMTA: "mx.example"}
		for i, a := range actions {
			r.Recipients = append(r.Recipients, Recipient{FinalRecipient: Rfc822(string(rune('a'+i)) + "@x.test"), Action: a})
		}
		msg, err := Compose(r)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Parse(bytes.NewReader(msg))
		if err != nil {
			t.Fatal(err)
		}
		return rep, string(msg)
	}
	rep, msg := compose(Delivered, Relayed)
	if rep.Subject != "Delivery Status Notification" || strings.Contains(msg, "X-Failed-Recipients") {
		t.Errorf("subject %q:\n%s", rep.Subject, msg)
	}
	for _, want := range []string{"  a@x.test\r\n    delivered to the recipient's mailbox\r\n",
		"  b@x.test\r\n    relayed to a mail server that sends no notifications; none will follow\r\n"} {
		if !strings.Contains(rep.HumanText, strings.ReplaceAll(want, "\r\n", "\n")) && !strings.Contains(msg, want) {
			t.Errorf("text lacks %q:\n%s", want, msg)
		}
	}
	if r := rep.Recipients; r[0].Action != Delivered || r[0].Status != "2.0.0" || r[1].Action != Relayed {
		t.Errorf("recipients %+v", r)
	}
	rep, _ = compose(Delivered, Failed)
	if rep.Subject != "Mail delivery failed: returning message to sender" || !strings.Contains(rep.HumanText, "permanent error") {
		t.Errorf("with a failure: %q %q", rep.Subject, rep.HumanText)
	}
	if rep, _ = compose(Delayed); rep.Subject != "Warning: message delayed" || strings.Contains(rep.HumanText, "not yet delivered;") {
		t.Errorf("warning: %q %q", rep.Subject, rep.HumanText)
	}
}
