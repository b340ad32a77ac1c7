package dsninfo

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testDate = time.Date(2026, 11, 22, 5, 8, 20, 0, time.UTC)

// baseReport is a deterministic report; callers set Recipients.
func baseReport() Report {
	return Report{
		ReportingMTA: "mx.example.org",
		To:           "sender@example.com",
		Date:         testDate,
		MessageID:    "<bounce1@mx.example.org>",
		Boundary:     "dsn-test-boundary",
		HumanText:    "A message could not be delivered.\n",
	}
}

func lf(b []byte) string { return strings.ReplaceAll(string(b), "\r\n", "\n") }

// statusPart returns the text of the message/delivery-status part of a
// composed message (LF line ends).
func statusPartOf(t *testing.T, msg []byte, boundary string) string {
	t.Helper()
	s := lf(msg)
	const head = "Content-Type: message/delivery-status\n\n"
	i := strings.Index(s, head)
	require.True(t, i >= 0, "no delivery-status part in:\n%s", s)
	s = s[i+len(head):]
	j := strings.Index(s, "\n--"+boundary)
	require.True(t, j >= 0)
	return s[:j]
}

func TestComposeGoldenFailureWithHost(t *testing.T) {
	r := baseReport()
	r.OriginalEnvelopeID = "ENV-42"
	r.Return = ReturnHeaders
	r.Original = []byte("From: sender@example.com\nTo: x@y.example\nSubject: hello\n\nbody text\n")
	r.Recipients = []Recipient{{
		OriginalRecipient: Rfc822("X@y.example"),
		FinalRecipient:    Rfc822("x@y.example"),
		Action:            Failed,
		RemoteMTA:         "mx.y.example",
		RemoteIP:          netip.MustParseAddr("192.0.2.1"),
		RemotePort:        587,
		Greeting:          "220 mx.y.example ESMTP Exim 4.96 ready\r\n220 second line",
		HELOResponse:      "250-mx.y.example Hello mx.example.org [192.0.2.9]\n250-SIZE 52428800\n250 HELP",
		Diagnostic:        "SMTP error from remote mail server after RCPT TO:<x@y.example>: 550 hard error",
	}}
	got, err := Compose(r)
	require.NoError(t, err)
	want := `From: Mail Delivery System <Mailer-Daemon@mx.example.org>
To: sender@example.com
Subject: Mail delivery failed: returning message to sender
Date: Sun, 22 Nov 2026 05:08:20 +0000
Message-ID: <bounce1@mx.example.org>
X-Failed-Recipients: x@y.example
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="dsn-test-boundary"

This is a MIME-formatted message.  If you see this text it means that your
E-mail software does not support MIME-formatted messages.

--dsn-test-boundary
Content-Type: text/plain; charset=us-ascii

A message could not be delivered.

--dsn-test-boundary
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
Original-Envelope-ID: ENV-42

Original-Recipient: rfc822;X@y.example
Action: failed
Final-Recipient: rfc822;x@y.example
Status: 5.0.0
Remote-MTA: dns; mx.y.example
Remote-MTA: X-ip; [192.0.2.1]:587
X-Remote-MTA-smtp-greeting: X-str; 220 mx.y.example ESMTP Exim 4.96 ready
X-Remote-MTA-helo-response: X-str; 250-mx.y.example Hello mx.example.org
 [192.0.2.9]
X-Exim-Diagnostic: X-str; SMTP error from remote mail server after RCPT
 TO:<x@y.example>: 550 hard error
Diagnostic-Code: smtp; 550 hard error

--dsn-test-boundary
Content-Type: text/rfc822-headers

From: sender@example.com
To: x@y.example
Subject: hello

--dsn-test-boundary--
`
	assert.Equal(t, want, lf(got))
	assert.NotContains(t, strings.ReplaceAll(string(got), "\r\n", ""), "\n", "bare LF in output")
	assert.Equal(t, strings.Count(string(got), "\n"), strings.Count(string(got), "\r\n"))
}

func TestComposeNoHostAndPort25(t *testing.T) {
	r := baseReport()
	r.Recipients = []Recipient{
		{ // routing failure: no host, only the diagnostic field
			FinalRecipient: Rfc822("nobody@example.org"),
			Action:         Failed,
			Greeting:       "220 ignored without a host",
			Diagnostic:     "Unrouteable address: no such domain",
		},
		{ // host on port 25: no port written, no greeting recorded
			FinalRecipient: Rfc822("rcpt@y.example"),
			Action:         Failed,
			Status:         "5.1.1",
			RemoteMTA:      "mx.y.example",
			RemoteIP:       netip.MustParseAddr("2001:db8::25"),
			RemotePort:     25,
			Diagnostic:     "no colon-space here",
		},
	}
	got, err := Compose(r)
	require.NoError(t, err)
	assert.Equal(t, `Reporting-MTA: dns; mx.example.org

Action: failed
Final-Recipient: rfc822;nobody@example.org
Status: 5.0.0
X-Exim-Diagnostic: X-str; Unrouteable address: no such domain

Action: failed
Final-Recipient: rfc822;rcpt@y.example
Status: 5.1.1
Remote-MTA: dns; mx.y.example
Remote-MTA: X-ip; [2001:db8::25]
X-Exim-Diagnostic: X-str; no colon-space here
`, statusPartOf(t, got, r.Boundary))
	assert.NotContains(t, lf(got), "Content-Type: message/rfc822")
	assert.NotContains(t, lf(got), "Content-Type: text/rfc822-headers")
}

func TestComposeDelay(t *testing.T) {
	r := baseReport()
	r.ArrivalDate = testDate.Add(-2 * time.Hour)
	r.Recipients = []Recipient{{
		FinalRecipient:  Rfc822("slow@y.example"),
		Action:          Delayed,
		RemoteMTA:       "mx.y.example",
		RemoteIP:        netip.MustParseAddr("192.0.2.1"),
		Greeting:        "220 hello",
		HELOResponse:    "250 ok",
		Diagnostic:      "SMTP error from remote mail server after RCPT TO:<slow@y.example>: 451 try later",
		LastAttemptDate: testDate.Add(-time.Minute),
		WillRetryUntil:  testDate.Add(4 * 24 * time.Hour),
	}}
	got, err := Compose(r)
	require.NoError(t, err)
	assert.Equal(t, `Reporting-MTA: dns; mx.example.org
Arrival-Date: Sun, 22 Nov 2026 03:08:20 +0000

Action: delayed
Final-Recipient: rfc822;slow@y.example
Status: 4.0.0
Remote-MTA: dns; mx.y.example
Diagnostic-Code: smtp; 451 try later
Last-Attempt-Date: Sun, 22 Nov 2026 05:07:20 +0000
Will-Retry-Until: Thu, 26 Nov 2026 05:08:20 +0000
`, statusPartOf(t, got, r.Boundary))
	s := lf(got)
	assert.Contains(t, s, "Subject: Warning: message delayed\n")
	assert.NotContains(t, s, "X-Failed-Recipients")
	assert.NotContains(t, s, "X-str")
	assert.NotContains(t, s, "X-ip")

	// Will-Retry-Until is for delays only.
	r.Recipients[0].Action = Failed
	got, err = Compose(r)
	require.NoError(t, err)
	assert.NotContains(t, lf(got), "Will-Retry-Until")
}

func TestComposeReturn(t *testing.T) {
	orig := "Received: from a\r\nSubject: hi\r\n\r\nbody line\r\n"
	for _, tc := range []struct {
		ret  Return
		want string
	}{
		{ReturnHeaders, "Content-Type: text/rfc822-headers\n\nReceived: from a\nSubject: hi\n\n--dsn-test-boundary--\n"},
		{ReturnFull, "Content-Type: message/rfc822\n\nReceived: from a\nSubject: hi\n\nbody line\n\n--dsn-test-boundary--\n"},
	} {
		r := baseReport()
		r.Recipients = []Recipient{{FinalRecipient: Rfc822("a@b.example"), Action: Failed}}
		r.Return, r.Original = tc.ret, []byte(orig)
		got, err := Compose(r)
		require.NoError(t, err)
		assert.True(t, strings.HasSuffix(lf(got), tc.want), "%v:\n%s", tc.ret, got)
		p, err := Parse(bytes.NewReader(got))
		require.NoError(t, err)
		assert.Equal(t, tc.ret, p.Return)
	}
	// 8-bit original: declared 8bit.
	r := baseReport()
	r.Recipients = []Recipient{{FinalRecipient: Rfc822("a@b.example"), Action: Failed}}
	r.Return, r.Original = ReturnFull, []byte("Subject: caf\xc3\xa9\n\nna\xc3\xafve\n")
	got, err := Compose(r)
	require.NoError(t, err)
	assert.Contains(t, lf(got), "Content-Type: message/rfc822\nContent-Transfer-Encoding: 8bit\n")
}

func TestWrapHeader(t *testing.T) {
	// Soft break at the last whitespace before column 79.
	assert.Equal(t, "X-Exim-Diagnostic: X-str; SMTP error from remote mail server after RCPT\n TO:<x@y.example>: 550 hard error",
		wrapHeader("X-Exim-Diagnostic: X-str; SMTP error from remote mail server after RCPT TO:<x@y.example>: 550 hard error", 79, 1023))
	// No whitespace after column 10 on a line: hard break at 79 columns.
	long := "220-" + strings.Repeat("a", 100)
	assert.Equal(t, "X-Remote-MTA-smtp-greeting: X-str;\n 220-"+strings.Repeat("a", 74)+"\n "+strings.Repeat("a", 26),
		wrapHeader("X-Remote-MTA-smtp-greeting: X-str; "+long, 79, 1023))
	// \n (two characters) and a real newline start an indented line.
	assert.Equal(t, "N: X-str; one\n two\n three", wrapHeader(`N: X-str; one\ntwo`+"\nthree", 79, 1023))
	// Whitespace before column 11 does not count.
	assert.Equal(t, "ab cdefghij"+strings.Repeat("k", 68)+"\n "+strings.Repeat("k", 10),
		wrapHeader("ab cdefghij"+strings.Repeat("k", 78), 79, 1023))
	// Empty lines are dropped.
	assert.Equal(t, "N: a\n b", wrapHeader("N: a\n\n\\n\nb", 79, 1023))

	// The 1023 cap: the text is cut once it reaches 1023 characters.
	msg := strings.Repeat("abcdefghi ", 110)
	full := wrapHeader("X-Exim-Diagnostic: X-str; "+msg, 79, 0)
	capped := wrapHeader("X-Exim-Diagnostic: X-str; "+msg, 79, 1023)
	assert.Greater(t, len(full), 1023)
	assert.LessOrEqual(t, len(capped), 1023)
	assert.Greater(t, len(capped), 1023-12)
	assert.True(t, strings.HasPrefix(full, capped))
	for _, line := range strings.Split(full, "\n") {
		assert.LessOrEqual(t, len(line), 79)
	}
}

func TestComposeTruncation(t *testing.T) {
	r := baseReport()
	r.Recipients = []Recipient{{
		FinalRecipient: Rfc822("a@b.example"),
		Action:         Failed,
		RemoteMTA:      "mx.b.example",
		Greeting:       "220 " + strings.Repeat("g", 200),
		HELOResponse:   strings.Repeat("h", 127) + "XYZ\nsecond",
		Diagnostic:     "SMTP error from remote mail server after RCPT TO:<a@b.example>: " + strings.Repeat("d", 2000),
	}}
	got, err := Compose(r)
	require.NoError(t, err)
	p, err := Parse(bytes.NewReader(got))
	require.NoError(t, err)
	rc := p.Recipients[0]
	// Hard-broken lines gain a space where the fold was.
	assert.Equal(t, "220"+strings.Repeat("g", 124), strings.ReplaceAll(rc.Greeting, " ", ""))
	assert.Equal(t, strings.Repeat("h", 127)+"X", strings.ReplaceAll(rc.HELOResponse, " ", ""))
	// The diagnostic field is capped near 1023 characters.
	s := lf(got)
	i := strings.Index(s, "X-Exim-Diagnostic:")
	j := strings.Index(s, "\nDiagnostic-Code:")
	assert.LessOrEqual(t, j-i, 1023)
	assert.Greater(t, j-i, 1000)
	// Diagnostic-Code: 950 columns, then [truncated].
	dc := s[j+1 : j+1+strings.Index(s[j+1:], "\n")]
	assert.Equal(t, "Diagnostic-Code: smtp; "+strings.Repeat("d", 928)+"[truncated]", dc)
	want, ok := EximDiagnosticCode(r.Recipients[0].Diagnostic)
	assert.True(t, ok)
	assert.Equal(t, want, rc.DiagnosticCode)
}

func TestEximDiagnosticCode(t *testing.T) {
	c, ok := EximDiagnosticCode(`SMTP error from remote mail server after end of data: 550-first\n550 second`)
	assert.True(t, ok)
	assert.Equal(t, Typed{"smtp", "550-first 550 second"}, c)
	assert.Equal(t, "550-first\n 550 second", diagnosticCode(`550-first\n550 second`))
	_, ok = EximDiagnosticCode("retry time not reached")
	assert.False(t, ok)
	assert.Equal(t, strings.Repeat("a", 928)+"[truncated]", diagnosticCode(strings.Repeat("a", 928)))
	assert.Equal(t, strings.Repeat("a", 927), diagnosticCode(strings.Repeat("a", 927)))
}

// TestComposeInjection: CR, LF and other controls in any value never
// make a new header line, recipient or MIME part.
func TestComposeInjection(t *testing.T) {
	evil := "x\r\nX-Injected: 1\r\n\r\nFinal-Recipient: rfc822;evil@example\n--dsn-test-boundary\n"
	r := baseReport()
	r.Boundary = "" // the fixed one is in evil: Compose would refuse it
	r.From = "MAILER-DAEMON" + evil
	r.Subject = "s" + evil
	r.OriginalEnvelopeID = "env" + evil
	r.ReportingMTA = "mx" + evil
	r.Extra = []Field{{"X-Note", "n" + evil}}
	r.Recipients = []Recipient{{
		OriginalRecipient: Rfc822("o@b" + evil),
		FinalRecipient:    Rfc822("a@b" + evil),
		Action:            Failed,
		Status:            "5.1.1" + evil,
		RemoteMTA:         "mx.b" + evil,
		RemoteIP:          netip.MustParseAddr("192.0.2.7"),
		Greeting:          "220 g\x00\x1b" + evil,
		HELOResponse:      "250 h" + evil,
		Diagnostic:        "SMTP error: 550 d" + evil + "\\n" + evil,
		Extra:             []Field{{"X-Other", "o" + evil}},
	}}
	got, err := Compose(r)
	require.NoError(t, err)
	s := lf(got)
	assert.NotContains(t, s, "\nX-Injected")
	assert.NotContains(t, s, "\nFinal-Recipient: rfc822;evil")
	p, err := Parse(bytes.NewReader(got))
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(s, "\n--"+p.Boundary+"\n"))
	assert.Equal(t, 1, strings.Count(s, "\n--"+p.Boundary+"--\n"))
	assert.NotContains(t, s, "\x00")
	assert.NotContains(t, s, "\x1b")
	for _, c := range got {
		assert.Less(t, c, byte(0x80))
	}
	require.Len(t, p.Recipients, 1)
	assert.Equal(t, "a@bx  X-Injected: 1    Final-Recipient: rfc822;evil@example --dsn-test-boundary", p.Recipients[0].FinalRecipient.Value)
	assert.Equal(t, "5.1.1x", p.Recipients[0].Status) // one word: the rest is lost

	// The boundary inside the returned message is refused, a random
	// one is chosen around it.
	r = baseReport()
	r.Recipients = []Recipient{{FinalRecipient: Rfc822("a@b"), Action: Failed}}
	r.Return, r.Original = ReturnFull, []byte("Subject: x\n\n--dsn-test-boundary\n")
	_, err = Compose(r)
	var ce *ComposeError
	require.True(t, errors.As(err, &ce))
	assert.Equal(t, "Boundary", ce.Field)
	r.Boundary = ""
	got, err = Compose(r)
	require.NoError(t, err)
	p, err = Parse(bytes.NewReader(got))
	require.NoError(t, err)
	assert.Equal(t, "Subject: x\n\n--dsn-test-boundary\n", string(p.Original))
}

func TestComposer(t *testing.T) {
	r := Report{ReportingMTA: "mx.example.org", Recipients: []Recipient{{FinalRecipient: Rfc822("a@b"), Action: Failed}}}
	c := Composer{Now: func() time.Time { return testDate }, Rand: bytes.NewReader(bytes.Repeat([]byte{0xab}, 22))}
	got, err := c.Compose(r)
	require.NoError(t, err)
	s := lf(got)
	assert.Contains(t, s, "\nDate: Sun, 22 Nov 2026 05:08:20 +0000\n")
	assert.Contains(t, s, "\nMessage-ID: <abababababababababab@mx.example.org>\n")
	assert.Contains(t, s, "boundary=\"dsn-abababababababababababab\"")
	c.Rand = bytes.NewReader(nil)
	_, err = c.Compose(r)
	var ce *ComposeError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "Rand", ce.Field)
}

func TestComposeErrors(t *testing.T) {
	ok := Recipient{FinalRecipient: Rfc822("a@b"), Action: Failed}
	for name, r := range map[string]Report{
		"ReportingMTA":                    {Recipients: []Recipient{ok}},
		"Recipients":                      {ReportingMTA: "mx"},
		"Recipients[0].FinalRecipient":    {ReportingMTA: "mx", Recipients: []Recipient{{Action: Failed}}},
		"Recipients[0].Action":            {ReportingMTA: "mx", Recipients: []Recipient{{FinalRecipient: Rfc822("a@b"), Action: "two words"}}},
		"Recipients[0].RemoteIP":          {ReportingMTA: "mx", Recipients: []Recipient{{FinalRecipient: Rfc822("a@b"), Action: Failed, RemoteIP: netip.MustParseAddr("192.0.2.1")}}},
		"Recipients[0].OriginalRecipient": {ReportingMTA: "mx", Recipients: []Recipient{{FinalRecipient: Rfc822("a@b"), OriginalRecipient: Typed{"rfc 822", "x"}, Action: Failed}}},
		"DiagnosticField":                 {ReportingMTA: "mx", Recipients: []Recipient{ok}, DiagnosticField: "X-Bad Name"},
		"Boundary":                        {ReportingMTA: "mx", Recipients: []Recipient{ok}, Boundary: "bad\nboundary"},
		"Extra":                           {ReportingMTA: "mx", Recipients: []Recipient{ok}, Extra: []Field{{"A:B", "x"}}},
	} {
		_, err := Compose(r)
		var ce *ComposeError
		if assert.True(t, errors.As(err, &ce), name) {
			assert.Equal(t, name, ce.Field)
		}
	}
}
