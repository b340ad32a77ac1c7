package dsninfo

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// assertWire fails unless every line of msg ends in CRLF, is at most
// 998 octets (RFC 5322 §2.1.1) and holds only printable ASCII and HT.
func assertWire(t *testing.T, msg []byte) {
	t.Helper()
	require.True(t, bytes.HasSuffix(msg, []byte("\r\n")), "no final CRLF")
	for n, line := range bytes.Split(msg[:len(msg)-2], []byte("\r\n")) {
		if len(line) > 998 {
			t.Fatalf("line %d has %d octets: %.80q...", n+1, len(line), line)
		}
		for _, c := range line {
			if (c < 0x20 && c != '\t') || c >= 0x7f {
				t.Fatalf("line %d has byte 0x%02x: %q", n+1, c, line)
			}
		}
	}
}

// remoteReplies are hostile remote SMTP replies as a transport records
// them in Recipient.Diagnostic.
func remoteReplies() map[string]string {
	head := "SMTP error from remote mail server after RCPT TO:<a@b.example>: "
	ws := func(n int) string { return strings.Repeat("550 word ", n/9+1)[:n] }
	return map[string]string{
		"3000":      head + ws(3000),
		"10000":     head + ws(10000),
		"word5000":  head + strings.Repeat("x", 5000),
		"bareword":  strings.Repeat("y", 5000),
		"multiline": head + "550-" + strings.Repeat("a", 1500) + "\r\n550-" + ws(1500) + "\n550 " + strings.Repeat("b", 1200),
		"literalnl": head + "550-" + strings.Repeat("c", 1100) + `\n550-` + strings.Repeat("d", 1100) + `\n550 end`,
	}
}

func TestComposeEveryLineAtMost998(t *testing.T) {
	for name, reply := range remoteReplies() {
		for _, host := range []bool{true, false} {
			for _, action := range []Action{Failed, Delayed} {
				r := baseReport()
				r.HumanText = "" // the default text quotes the reply
				rc := Recipient{FinalRecipient: Rfc822("a@b.example"), Action: action,
					Greeting: "220 " + reply, HELOResponse: reply, Diagnostic: reply}
				if host {
					rc.RemoteMTA, rc.RemoteIP = "mx.b.example", netip.MustParseAddr("192.0.2.7")
				}
				r.Recipients = []Recipient{rc, rc}
				msg, err := Compose(r)
				require.NoError(t, err, name)
				assertWire(t, msg)
				_, err = Parse(bytes.NewReader(msg))
				require.NoError(t, err, name)
			}
		}
	}
}

// The 1028-character line of the issue: 4 spaces and a 1024-byte
// message in the default text; the message is still cut at 1024.
func TestComposeDefaultTextBreaksLongMessage(t *testing.T) {
	r := baseReport()
	r.HumanText = ""
	r.Recipients = []Recipient{{FinalRecipient: Rfc822("a@b.example"), Action: Failed,
		Diagnostic: "SMTP error: 550 " + strings.Repeat("z", 3000)}}
	msg, err := Compose(r)
	require.NoError(t, err)
	assertWire(t, msg)
	assert.Contains(t, lf(msg), "\n    SMTP error: 550 "+strings.Repeat("z", 998-4-16)+"\n    "+strings.Repeat("z", 1024-16-(998-4-16))+"\n")
}

func TestComposeHumanTextControlsBecomeQuestionMarks(t *testing.T) {
	r := baseReport()
	r.Recipients = []Recipient{{FinalRecipient: Rfc822("a@b.example"), Action: Failed}}
	r.HumanText = "nul\x00 del\x7f esc\x1b[31m bell\x07 tab\tok\r\nline2 ff\f\n"
	msg, err := Compose(r)
	require.NoError(t, err)
	assertWire(t, msg)
	assert.Contains(t, lf(msg), "\nnul? del? esc?[31m bell? tab\tok\nline2 ff?\n")

	// UTF-8 stays (quoted-printable); C1 controls, each invalid byte and
	// NUL do not.
	r.HumanText = "caf\u00e9 \u0085next \xff\xfe end\x00\n"
	msg, err = Compose(r)
	require.NoError(t, err)
	assertWire(t, msg)
	p, err := Parse(bytes.NewReader(msg))
	require.NoError(t, err)
	assert.Equal(t, "caf\u00e9 ?next ?? end?\n", strings.ReplaceAll(p.HumanText, "\r\n", "\n"))
}

func TestComposeHumanTextLongLineQuotedPrintable(t *testing.T) {
	r := baseReport()
	r.Recipients = []Recipient{{FinalRecipient: Rfc822("a@b.example"), Action: Failed}}
	long := strings.Repeat("q", 3000)
	r.HumanText = "short\n" + long + "\n"
	msg, err := Compose(r)
	require.NoError(t, err)
	assertWire(t, msg)
	p, err := Parse(bytes.NewReader(msg))
	require.NoError(t, err)
	assert.Equal(t, "short\n"+long+"\n", strings.ReplaceAll(p.HumanText, "\r\n", "\n"))
}

func TestComposeFieldNameLength(t *testing.T) {
	ok := strings.Repeat("X", maxFieldName)
	for _, tc := range []struct {
		set   func(*Report, string)
		field string
	}{
		{func(r *Report, n string) { r.DiagnosticField = n }, "DiagnosticField"},
		{func(r *Report, n string) { r.Extra = []Field{{n, "v"}} }, "Extra"},
		{func(r *Report, n string) { r.Recipients[0].Extra = []Field{{n, "v"}} }, "Recipients[0].Extra"},
	} {
		for _, bad := range []string{strings.Repeat("X", 5000), ok + "Y", "X-Bad Name", "X-\u00e9"} {
			r := baseReport()
			r.Recipients = []Recipient{{FinalRecipient: Rfc822("a@b.example"), Action: Failed, Diagnostic: "x"}}
			tc.set(&r, bad)
			_, err := Compose(r)
			var ce *ComposeError
			require.True(t, errors.As(err, &ce), "%s %.20q: %v", tc.field, bad, err)
			assert.Equal(t, tc.field, ce.Field)
		}
		r := baseReport()
		r.Recipients = []Recipient{{FinalRecipient: Rfc822("a@b.example"), Action: Failed, Diagnostic: "x"}}
		tc.set(&r, ok)
		msg, err := Compose(r)
		require.NoError(t, err, tc.field)
		assertWire(t, msg)
	}
}

// Caller-given one-line values fold at white space; a word that cannot
// fit on a line is refused, never written as an over-long line.
func TestComposeFoldsOrRefusesLongValues(t *testing.T) {
	r := baseReport()
	r.Recipients = []Recipient{{FinalRecipient: Rfc822("a@b.example"), Action: Failed}}
	subject := strings.TrimSpace(strings.Repeat("long subject ", 300))
	r.Subject = subject
	msg, err := Compose(r)
	require.NoError(t, err)
	assertWire(t, msg)
	p, err := Parse(bytes.NewReader(msg))
	require.NoError(t, err)
	assert.Equal(t, subject, p.Subject)

	for _, tc := range []struct {
		field string
		set   func(*Report)
	}{
		{"Subject", func(r *Report) { r.Subject = strings.Repeat("s", 2000) }},
		{"ReportingMTA", func(r *Report) { r.ReportingMTA = strings.Repeat("m", 2000) }},
		{"OriginalEnvelopeID", func(r *Report) { r.OriginalEnvelopeID = strings.Repeat("e", 2000) }},
		{"Recipients[0].FinalRecipient", func(r *Report) { r.Recipients[0].FinalRecipient = Rfc822(strings.Repeat("f", 2000) + "@x") }},
		{"Recipients[0].FinalRecipient", func(r *Report) { r.Recipients[0].FinalRecipient = Typed{strings.Repeat("t", 2000), "a@x"} }},
		{"Recipients[0].DiagnosticCode", func(r *Report) { r.Recipients[0].DiagnosticCode = Typed{strings.Repeat("t", 2000), "550 x"} }},
	} {
		r := baseReport()
		r.Recipients = []Recipient{{FinalRecipient: Rfc822("a@b.example"), Action: Failed}}
		tc.set(&r)
		msg, err := Compose(r)
		var ce *ComposeError
		require.True(t, errors.As(err, &ce), "%s: %v\n%.2000s", tc.field, err, msg)
		assert.Equal(t, tc.field, ce.Field)
	}
}

// A DiagnosticCode with a long but valid type still stops before 998.
func TestComposeDiagnosticCodeLimitCountsType(t *testing.T) {
	r := baseReport()
	r.Recipients = []Recipient{{FinalRecipient: Rfc822("a@b.example"), Action: Failed,
		DiagnosticCode: Typed{"x-" + strings.Repeat("t", maxTypeLen-2), strings.Repeat("d", 3000)}}}
	msg, err := Compose(r)
	require.NoError(t, err)
	assertWire(t, msg)
}

func TestComposeReturnedMessageLongLines(t *testing.T) {
	r := baseReport()
	r.Recipients = []Recipient{{FinalRecipient: Rfc822("a@b.example"), Action: Failed}}
	r.Return = ReturnFull
	r.Original = []byte("Subject: hi\n\n" + strings.Repeat("b", 2000) + "\n")
	msg, err := Compose(r)
	require.NoError(t, err)
	assertWire(t, msg)
	assert.Contains(t, lf(msg), "Content-Type: text/rfc822-headers\n\nSubject: hi\n")
	assert.NotContains(t, lf(msg), "message/rfc822")

	r.Original = []byte("Subject: " + strings.Repeat("h", 2000) + "\n\nbody\n")
	for _, ret := range []Return{ReturnFull, ReturnHeaders} {
		r.Return = ret
		msg, err = Compose(r)
		require.NoError(t, err)
		assertWire(t, msg)
		assert.NotContains(t, lf(msg), "rfc822-headers")
		assert.NotContains(t, lf(msg), "message/rfc822")
	}
}

// FuzzComposeLineLimit: whatever the remote side sent and whatever
// text the caller gives, a report without a returned message is 7-bit
// with no line over 998 octets.
func FuzzComposeLineLimit(f *testing.F) {
	for _, v := range remoteReplies() {
		f.Add(v, "220 hi", "text\x00\x7f\n", uint16(0), true)
	}
	f.Add("a: b\\n\\n c", "\xff\xfe", "caf\u00e9 \u0085\u202e", uint16(3000), false)
	f.Fuzz(func(t *testing.T, reply, greeting, text string, pad uint16, withHost bool) {
		reply += strings.Repeat("r", int(pad%12000))
		r := baseReport()
		r.Boundary = "" // a random one: the fixed one may occur in reply
		rc := Recipient{FinalRecipient: Rfc822("a@b.example"), Action: Failed,
			Greeting: greeting, HELOResponse: reply, Diagnostic: reply,
			Extra: []Field{{"X-Reply", reply}}}
		if withHost {
			rc.RemoteMTA = "mx.b.example"
		}
		r.Recipients = []Recipient{rc, {FinalRecipient: Rfc822("c@d.example"), Action: Delayed, Diagnostic: reply}}
		for _, human := range []string{text, ""} {
			r.HumanText = human
			msg, err := Compose(r)
			if err != nil {
				t.Fatalf("Compose: %v", err)
			}
			assertWire(t, msg)
		}
	})
}
