package dsninfo

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sampleDir holds the 36 RFC 3464 bounces of sisimai/set-of-emails
// (maildir/bsd/rfc3464-*.eml, BSD-2-Clause, see the licence file
// there), copied from shared/suites/dsn/sisimai-rfc3464.
const sampleDir = "testdata/sisimai-rfc3464"

type wantRcpt struct {
	action Action
	status string
	final  string // the Final-Recipient address
}

// sampleWant was written by reading each sample, not from the
// parser's output. mta and ret are checked when set.
var sampleWant = map[string]struct {
	rcpts  []wantRcpt
	mta    string
	ret    string
	notDSN bool
	plain  bool
}{
	"01": {rcpts: []wantRcpt{{Failed, "5.1.1", "userunknown@bouncehammer.jp"}}, mta: "smtpgw.example.jp", ret: "full"},
	"03": {rcpts: []wantRcpt{{Failed, "5.0.0", "kijitora@example.com"}}},
	// 04 and 06: multipart/report without boundary lines; the fields
	// are in the text.
	"04": {rcpts: []wantRcpt{{Failed, "5.5.0", "kijitora@mailx-53.neko.example.edu"}}, mta: "mailx-53.neko.example.edu", ret: "none"},
	"06": {rcpts: []wantRcpt{{Failed, "5.5.0", "kijitora@example.net"}}, mta: "mxr45.example.net"}, // "<kijitora@example.net>"
	"07": {rcpts: []wantRcpt{{Delayed, "4.4.0", "kijitora@example.net"}}, mta: "mx54.exmaple.com", ret: "hdrs"},
	"08": {rcpts: []wantRcpt{{Failed, "5.7.1", "kijitora@example.net"}}, ret: "hdrs"},
	// 09: multipart/mixed holding the delivery-status part.
	"09": {rcpts: []wantRcpt{{Delayed, "4.3.0", "kijitora-cat@mx4.gr3.example.jp"}}, mta: "mx4.gr3.example.jp", ret: "hdrs"},
	"10": {rcpts: []wantRcpt{{Failed, "5.1.6", "kijitora@example.jp"}}, mta: "mail-in2.apple.com", ret: "full"},
	"26": {rcpts: []wantRcpt{{Failed, "5.1.1", "kijitora@example.or.jp"}}, mta: "example.net", ret: "full"},
	// 28: two mbox messages; the first is read. "deliverable" is not
	// an RFC 3464 action but is kept.
	"28": {rcpts: []wantRcpt{{"deliverable", "2.1.5", "kijitora@neko.example.jp"}}, mta: "neko-222-2222.vs.example.ne.jp", ret: "hdrs"},
	"29": {rcpts: []wantRcpt{{Failed, "5.5.0", "kijitora@example.com"}}},
	// 34: no MIME at all, the fields are in the text.
	"34": {rcpts: []wantRcpt{{Delayed, "4.4.1", "kijitora@example.com"}}, mta: "smtp.neko.example.org", ret: "none"},
	// 35: an indented boundary line; three recipients.
	"35": {rcpts: []wantRcpt{
		{Failed, "5.0.0", "kijitora@nyaan.example.com"},
		{Delayed, "4.0.0", "sabatora@cat.example.net"},
		{Failed, "5.0.0", "mikeneko@neko.example.or.jp"},
	}, mta: "cs.utk.edu"},
	"36": {rcpts: []wantRcpt{{Failed, "4.0.0", "kijitora@nyaan.example.com"}}, mta: "neko.example.org", ret: "full"},
	// 37, 38, 39: plain-text bounces (Exim 3, sendmail-like, Exchange)
	// without any delivery-status fields.
	// 37-39: plain-text bounces without delivery-status fields (Exim 3,
	// sendmail-like, Exchange): recipients read from the prose, no Status.
	"37": {rcpts: []wantRcpt{{Failed, "", "kijitora@neko.nyaan.example.com"}}, plain: true},
	"38": {rcpts: []wantRcpt{{Failed, "", "kijitora-nyaan@example.jp"}}, plain: true},
	"39": {rcpts: []wantRcpt{{Failed, "", "kijitora@nyaan.example.net"}}, plain: true},
	"40": {rcpts: []wantRcpt{{Failed, "4.4.6", "kijitora@nyaan.neko.example.com"}}, mta: "r3.p8.neko.example.com", ret: "full"},
	"42": {rcpts: []wantRcpt{{Failed, "5.0.0", "jane.doe@some-domain.net"}}, mta: "10.9.37.234", ret: "none"},
	"43": {rcpts: []wantRcpt{{Failed, "4.3.0", "jp1rb6cm3@mozmail.com"}}, mta: "inbound-smtp.us-west-2.amazonaws.com", ret: "hdrs"},
	"51": {rcpts: []wantRcpt{{Failed, "5.0.0", "kijitora@example.de"}}},
	"52": {rcpts: []wantRcpt{{Failed, "4.0.0", "neko@libsisimai.org"}}},
	"53": {rcpts: []wantRcpt{{Failed, "4.0.0", "sironeko@example.jp"}}},
	"54": {rcpts: []wantRcpt{{Failed, "4.0.0", "sotoneko@haineko.org"}}},
	"55": {rcpts: []wantRcpt{{Delayed, "4.4.1", "sotoneko@nora.nyaan.jp"}}},
	"56": {rcpts: []wantRcpt{{Failed, "4.4.1", "siro@neko1.nyaan.jp"}}},
	"57": {rcpts: []wantRcpt{{Failed, "5.0.0", "otsu-sakaba-hunter-neko-nyaaaaaaan@ezweb.ne.jp"}}},
	"58": {rcpts: []wantRcpt{{Failed, "5.0.0", "otsu-sakaba-hunter-neko-nyaaaaaaan@ezweb.ne.jp"}}},
	"59": {rcpts: []wantRcpt{{Failed, "4.0.0", "neko@libsisimai.org"}}},
	"60": {rcpts: []wantRcpt{{Failed, "5.1.8", "kijitora@example.jp"}}},
	"61": {rcpts: []wantRcpt{{Failed, "5.0.0", "kijitora@example.com"}}},
	"62": {rcpts: []wantRcpt{{Failed, "4.0.0", "nekonyaan@gmal.com"}}},
	"63": {rcpts: []wantRcpt{{Failed, "5.1.1", "libsisimai-2@googlegroups.com"}}},
	"64": {rcpts: []wantRcpt{{Failed, "4.0.0", "maildebug@example.jpn"}}},
	"65": {rcpts: []wantRcpt{{Failed, "5.0.0", "kijitora@example.it"}}},
	"66": {rcpts: []wantRcpt{{Failed, "5.0.0", "mikeneko@example.com"}}, mta: "192.0.2.250", ret: "none"},
}

func TestParseSamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(sampleDir, "rfc3464-*.eml"))
	require.NoError(t, err)
	require.Len(t, files, 36)
	require.Len(t, sampleWant, 36)
	for _, f := range files {
		id := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "rfc3464-"), ".eml")
		want, ok := sampleWant[id]
		require.True(t, ok, id)
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, crlf := range []bool{false, true} {
			in := raw
			if crlf {
				in = bytes.ReplaceAll(raw, []byte("\n"), []byte("\r\n"))
			}
			r, err := Parse(bytes.NewReader(in))
			if want.notDSN {
				assert.ErrorIs(t, err, ErrNotDSN, id)
				var pe *ParseError
				assert.ErrorAs(t, err, &pe, id)
				continue
			}
			if !assert.NoError(t, err, id) {
				continue
			}
			if assert.Len(t, r.Recipients, len(want.rcpts), id) {
				for i, w := range want.rcpts {
					rc := r.Recipients[i]
					assert.Equal(t, w.action, rc.Action, "%s rcpt %d", id, i)
					assert.Equal(t, w.status, rc.Status, "%s rcpt %d", id, i)
					assert.Equal(t, Typed{"rfc822", w.final}, rc.FinalRecipient, "%s rcpt %d", id, i)
				}
			}
			assert.Equal(t, want.plain, r.PlainText, id)
			if want.mta != "" {
				assert.Equal(t, want.mta, r.ReportingMTA, id)
				assert.Equal(t, "dns", r.ReportingMTAType, id)
			}
			if want.ret != "" {
				assert.Equal(t, want.ret, r.Return.String(), id)
			}
		}
	}
}

// Details of a few samples, read from the files.
func TestParseSampleDetails(t *testing.T) {
	read := func(id string) *Report {
		t.Helper()
		fh, err := os.Open(filepath.Join(sampleDir, "rfc3464-"+id+".eml"))
		require.NoError(t, err)
		defer fh.Close()
		r, err := Parse(fh)
		require.NoError(t, err)
		return r
	}
	r := read("01")
	assert.Equal(t, "Returned mail: see transcript for details", r.Subject)
	assert.Equal(t, "<201310160515.r9G5FZh9018575@smtpgw.example.jp>", r.MessageID)
	assert.Equal(t, time.Date(2013, 10, 16, 14, 15, 34, 0, time.FixedZone("", 9*3600)).Unix(), r.ArrivalDate.Unix())
	assert.Equal(t, []Field{{"Received-From-MTA", "DNS; p0000-ipbfpfx00kyoto.kyoto.example.co.jp"}}, r.Extra)
	rc := r.Recipients[0]
	assert.Equal(t, "mx.bouncehammer.jp", rc.RemoteMTA)
	assert.Equal(t, Typed{"smtp", "550 5.1.1 <userunknown@bouncehammer.jp>... User Unknown"}, rc.DiagnosticCode)
	assert.Equal(t, "Your message to <nekochan> was automatically rejected:\nNot enough disk space\n", r.HumanText)
	assert.True(t, bytes.HasPrefix(r.Original, []byte("Return-Path: <kijitora@example.org>\n")))
	assert.Equal(t, "r9G5FZh9018575.1381900535/smtpgw.example.jp", r.Boundary)

	r = read("09") // folded Diagnostic-Code, Will-Retry-Until, Original-Recipient
	rc = r.Recipients[0]
	assert.Equal(t, Rfc822("kijitora-nyaaaaaan@example.co.jp"), rc.OriginalRecipient)
	assert.Equal(t, Typed{"x-unix", "Quota exceeded message delivery failed to\t/var/mail/box/u/00/f/kijitora/INBOX"}, rc.DiagnosticCode)
	assert.Equal(t, 2009, rc.WillRetryUntil.Year())
	assert.Equal(t, []Field{{"X-Postfix-Queue-ID", "F0000000000"}, {"X-Postfix-Sender", "rfc822; shironeko@example.org"}}, r.Extra)

	r = read("35") // Status comment dropped
	assert.Equal(t, Typed{"smtp", "550 'kijitora@nyaan.example.com' is not a registered gateway user"}, r.Recipients[0].DiagnosticCode)
	assert.Equal(t, "nyaan.example.com", r.Recipients[0].RemoteMTA)

	r = read("42") // Diagnostic-Code without a type
	assert.Equal(t, Typed{Value: "The email account that you tried to reach does not exist."}, r.Recipients[0].DiagnosticCode)

	r = read("04") // a field the parser does not know, kept
	assert.Equal(t, []Field{{"X-Actual-Recipient", "RFC822; |IFS=' ' && exec /usr/local/bin/procmail -f- || exit 75 #kijitora@mailx-53.neko.example.edu"}}, r.Recipients[0].Extra)
}

func fullReport() Report {
	r := baseReport()
	r.From = "Mail Delivery System <Mailer-Daemon@mx.example.org>"
	r.Subject = "Mail delivery failed: returning message to sender"
	r.OriginalEnvelopeID = "QQ314159"
	r.ReportingMTAType = "dns"
	r.ArrivalDate = testDate.Add(-time.Hour)
	r.Extra = []Field{{"X-Queue-ID", "1vXYZ-000abc-7Q"}}
	r.Return = ReturnFull
	r.Original = []byte("From: sender@example.com\nTo: a@y.example, b@z.example\nSubject: test\n\nHello.\n")
	r.Recipients = []Recipient{
		{
			OriginalRecipient: Rfc822("A@y.example"),
			FinalRecipient:    Rfc822("a@y.example"),
			Action:            Failed,
			Status:            "5.0.0",
			RemoteMTA:         "mx.y.example",
			RemoteIP:          netip.MustParseAddr("192.0.2.1"),
			RemotePort:        2525,
			Greeting:          "220 mx.y.example ESMTP service ready with a rather long greeting line that wraps",
			HELOResponse:      "250-mx.y.example Hello mx.example.org [192.0.2.9]",
			Diagnostic:        "SMTP error from remote mail server after RCPT TO:<a@y.example>: 550 5.1.1 <a@y.example>: Recipient address rejected: User unknown in virtual mailbox table",
			LastAttemptDate:   testDate.Add(-time.Minute),
			Extra:             []Field{{"X-Note", "kept"}},
		},
		{
			FinalRecipient: Rfc822("b@z.example"),
			Action:         Failed,
			Status:         "5.0.0",
			Diagnostic:     "Unrouteable address",
		},
		{
			FinalRecipient: Rfc822("c@w.example"),
			Action:         Delayed,
			Status:         "4.0.0",
			RemoteMTA:      "mx.w.example",
			DiagnosticCode: Typed{"smtp", "451 4.7.1 greylisted"},
			WillRetryUntil: testDate.Add(96 * time.Hour),
		},
	}
	return r
}

// expectParsed is what Parse must return for Compose(r): the derived
// Diagnostic-Code filled in, port 0 as 25, times as read back.
func expectParsed(r Report) Report {
	r.Recipients = append([]Recipient(nil), r.Recipients...)
	for i := range r.Recipients {
		rc := &r.Recipients[i]
		if rc.RemoteMTA != "" && rc.DiagnosticCode.IsZero() {
			rc.DiagnosticCode, _ = EximDiagnosticCode(rc.Diagnostic)
		}
		if rc.RemoteIP.IsValid() && rc.RemotePort == 0 {
			rc.RemotePort = 25
		}
		if rc.Action != Failed {
			rc.RemoteIP, rc.RemotePort, rc.Greeting, rc.HELOResponse, rc.Diagnostic = netip.Addr{}, 0, "", "", ""
		}
		if rc.RemoteMTA == "" {
			rc.Greeting, rc.HELOResponse = "", ""
		}
	}
	r.HumanText = strings.TrimSuffix(r.HumanText, "\n") + "\n"
	return r
}

func sameTimes(t *testing.T, want, got Report) (Report, Report) {
	t.Helper()
	eq := func(a, b *time.Time) {
		assert.True(t, a.Equal(*b), "%v != %v", *a, *b)
		*a, *b = time.Time{}, time.Time{}
	}
	eq(&want.Date, &got.Date)
	eq(&want.ArrivalDate, &got.ArrivalDate)
	require.Equal(t, len(want.Recipients), len(got.Recipients))
	for i := range want.Recipients {
		eq(&want.Recipients[i].LastAttemptDate, &got.Recipients[i].LastAttemptDate)
		eq(&want.Recipients[i].WillRetryUntil, &got.Recipients[i].WillRetryUntil)
	}
	return want, got
}

func TestRoundTrip(t *testing.T) {
	r := fullReport()
	msg, err := Compose(r)
	require.NoError(t, err)
	got, err := Parse(bytes.NewReader(msg))
	require.NoError(t, err)
	want := expectParsed(r)
	want.Original = bytes.ReplaceAll(want.Original, []byte("\n"), []byte("\n"))
	want, g := sameTimes(t, want, *got)
	assert.Equal(t, want, g)

	// Headers only, and LF line ends.
	r.Return = ReturnHeaders
	msg, err = Compose(r)
	require.NoError(t, err)
	got, err = Parse(strings.NewReader(lf(msg)))
	require.NoError(t, err)
	assert.Equal(t, "From: sender@example.com\nTo: a@y.example, b@z.example\nSubject: test\n", string(got.Original))
	assert.Equal(t, ReturnHeaders, got.Return)
}

func TestRoundTripDiagnosticField(t *testing.T) {
	r := fullReport()
	r.DiagnosticField = "X-Our-Diagnostic"
	msg, err := Compose(r)
	require.NoError(t, err)
	assert.Contains(t, lf(msg), "\nX-Our-Diagnostic: X-str; SMTP error")
	p := Parser{DiagnosticField: "x-our-diagnostic"}
	got, err := p.Parse(bytes.NewReader(msg))
	require.NoError(t, err)
	assert.Equal(t, r.Recipients[0].Diagnostic, got.Recipients[0].Diagnostic)
	assert.Equal(t, "x-our-diagnostic", got.DiagnosticField)
	// The default parser keeps the field as an unknown one.
	got, err = Parse(bytes.NewReader(msg))
	require.NoError(t, err)
	assert.Empty(t, got.Recipients[0].Diagnostic)
	assert.Equal(t, "X-Our-Diagnostic", got.Recipients[0].Extra[0].Name)
}

func TestParseVariants(t *testing.T) {
	// A forwarded bounce: the DSN inside message/rfc822; a text/plain
	// status is not taken for the delivery-status part; a folded
	// Final-Recipient; case and comments.
	msg := "From: someone@example.net\nSubject: Fwd: bounce\nContent-Type: multipart/mixed; boundary=outer\n\n" +
		"--outer\nContent-Type: text/plain\n\nsee attached\n" +
		"--outer\nContent-Type: message/rfc822\n\n" +
		"From: MAILER-DAEMON@mx.example.org\nSubject: Undelivered Mail\nMIME-Version: 1.0\n" +
		"Content-Type: MULTIPART/REPORT; REPORT-TYPE=delivery-status; BOUNDARY=\"in ner\"\n\n" +
		"--in ner\ncontent-type: text/plain; charset=us-ascii\n\nsorry\n" +
		"--in ner\ncontent-type: message/delivery-status\n\n" +
		"reporting-mta: DNS; mx.example.org (comment)\n\n" +
		"final-recipient: RFC822;\n  <a@b.example>\naction: FAILED (permanent)\nstatus: 5.1.1 (bad mailbox)\n" +
		"remote-mta: X-IP; [2001:db8::1]:26\n\n" +
		"--in ner--\n" +
		"--outer--\n"
	r, err := Parse(strings.NewReader(msg))
	require.NoError(t, err)
	assert.Equal(t, "Undelivered Mail", r.Subject)
	assert.Equal(t, "sorry", r.HumanText) // the LF before a boundary belongs to it
	assert.Equal(t, "mx.example.org (comment)", r.ReportingMTA)
	require.Len(t, r.Recipients, 1)
	rc := r.Recipients[0]
	assert.Equal(t, Rfc822("a@b.example"), rc.FinalRecipient)
	assert.Equal(t, Failed, rc.Action)
	assert.Equal(t, "5.1.1", rc.Status)
	assert.Equal(t, netip.MustParseAddr("2001:db8::1"), rc.RemoteIP)
	assert.Equal(t, 26, rc.RemotePort)

	// A bare message/delivery-status message.
	r, err = Parse(strings.NewReader("Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\nFinal-Recipient: rfc822; q@r\r\nAction: relayed\r\nStatus: 2.0.0\r\n"))
	require.NoError(t, err)
	assert.Equal(t, Relayed, r.Recipients[0].Action)
	assert.True(t, r.Recipients[0].Action.Valid())

	// A bad X-ip and a bad date are kept as they are.
	r, err = Parse(strings.NewReader("Content-Type: message/delivery-status\n\nReporting-MTA: dns; x\nArrival-Date: yesterday\n\nFinal-Recipient: rfc822; q@r\nAction: failed\nStatus: 5.0.0\nRemote-MTA: X-ip; 1.2.3.4\n"))
	require.NoError(t, err)
	assert.Equal(t, []Field{{"Arrival-Date", "yesterday"}}, r.Extra)
	assert.Equal(t, []Field{{"Remote-MTA", "X-ip; 1.2.3.4"}}, r.Recipients[0].Extra)
}

func TestParseErrors(t *testing.T) {
	for name, in := range map[string]string{
		"empty":                 "",
		"garbage":               "\x00\x01\x02 not a message",
		"plain":                 "From: a@b\nSubject: hi\n\nhello\n",
		"person, not a daemon":  "From: a@b\nSubject: re\n\nThe following addresses failed:\n  c@d.example\n",
		"daemon, no address":    "From: MAILER-DAEMON@x.example\nSubject: hi\n\nUser unknown: <nobody>\n",
		"daemon, html":          "From: MAILER-DAEMON@x.example\nContent-Type: text/html\n\nfailed: <c@d.example>\n",
		"no recipients":         "Content-Type: message/delivery-status\n\nReporting-MTA: dns; x\n",
		"report without status": "Content-Type: multipart/report; boundary=b\n\n--b\nContent-Type: text/plain\n\nx\n--b--\n",
	} {
		_, err := Parse(strings.NewReader(in))
		assert.ErrorIs(t, err, ErrNotDSN, name)
		var pe *ParseError
		assert.ErrorAs(t, err, &pe, name)
	}

	r := fullReport()
	msg, err := Compose(r)
	require.NoError(t, err)
	for name, p := range map[string]Parser{
		"size":       {MaxSize: 100},
		"header":     {MaxHeaderBytes: 50},
		"recipients": {MaxRecipients: 2},
		"parts":      {MaxParts: 2},
	} {
		_, err := p.Parse(bytes.NewReader(msg))
		assert.ErrorIs(t, err, ErrLimit, name)
	}
	deep := strings.Repeat("Content-Type: message/rfc822\n\n", 40) + "Content-Type: message/delivery-status\n\nFinal-Recipient: rfc822;a@b\nAction: failed\n"
	_, err = Parse(strings.NewReader(deep))
	assert.ErrorIs(t, err, ErrLimit)
	p := Parser{MaxDepth: 50}
	_, err = p.Parse(strings.NewReader(deep))
	assert.NoError(t, err)

	// A failing reader's error comes back as is.
	_, err = Parse(errReader{})
	assert.True(t, errors.Is(err, errBoom))
}

// Long runs of continuation lines cost linear time: a quadratic
// unfolding of these 900,000 lines would not finish before the test
// binary's timeout (no wall-clock bound here; it fails on a loaded
// machine under -race).
func TestParseManyContinuations(t *testing.T) {
	fold := strings.Repeat(" x\n", 300000)
	msg := "Subject: a\n" + fold + "Content-Type: message/delivery-status\n\n" +
		"Reporting-MTA: dns; x\n" + fold + "\nFinal-Recipient: rfc822; a@b\n" + fold + "Action: failed\n"
	p := Parser{MaxHeaderBytes: 4 << 20}
	r, err := p.Parse(strings.NewReader(msg))
	require.NoError(t, err)
	assert.Equal(t, Failed, r.Recipients[0].Action)
	assert.Len(t, r.Recipients[0].FinalRecipient.Value, len("a@b")+2*300000)
}

var errBoom = errors.New("boom")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBoom }

func TestParsePlainBounces(t *testing.T) {
	exim4 := "Return-Path: <>\nFrom: Mail Delivery System <Mailer-Daemon@mx.example>\nSubject: Mail delivery failed: returning message to sender\n\n" +
		"This message was created automatically by mail delivery software.\n\n" +
		"A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n" +
		"  alice@example.org\n    host mx.example.org [192.0.2.1]\n    SMTP error from remote mail server after RCPT TO:<alice@example.org>:\n    550 5.1.1 no such user\n" +
		"  bob@example.net\n    Unrouteable address\n\n" +
		"------ This is a copy of the message, including all the headers. ------\nTo: carol@example.com\nFrom: x@y.example\n\nhi\n"
	r, err := Parse(strings.NewReader(exim4))
	require.NoError(t, err)
	assert.True(t, r.PlainText)
	var got []string
	for _, rc := range r.Recipients {
		got = append(got, rc.FinalRecipient.Value)
		assert.Equal(t, Failed, rc.Action)
		assert.Empty(t, rc.Status)
	}
	// The indented detail lines name alice again (deduplicated); carol
	// is in the returned message, after the end mark.
	assert.Equal(t, []string{"alice@example.org", "bob@example.net"}, got)
	assert.NotContains(t, r.HumanText, "carol@")

	delayed := "From: MAILER-DAEMON@mx.example\nSubject: Warning: message delayed\n\nUser's mailbox is full: <dora@example.com>\n"
	r, err = Parse(strings.NewReader(delayed))
	require.NoError(t, err)
	require.Len(t, r.Recipients, 1)
	assert.Equal(t, Delayed, r.Recipients[0].Action)
	assert.Equal(t, Typed{Value: "User's mailbox is full"}, r.Recipients[0].DiagnosticCode)

	qp := "From: postmaster@mx.example\nContent-Transfer-Encoding: quoted-printable\n\nDid not reach the following recipient: e=\n@example.com\n"
	r, err = Parse(strings.NewReader(qp))
	require.NoError(t, err)
	assert.Equal(t, "e@example.com", r.Recipients[0].FinalRecipient.Value)
}
