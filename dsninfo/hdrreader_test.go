package dsninfo

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A CR just before a line end is part of the line end (internal/header's
// rule, the one DKIM and DMARC read headers by), so a folded value
// never keeps it: it used to come back as "550 5.1.1 no\r such user".
func TestParseCRBeforeLineEnd(t *testing.T) {
	msg := "From: MAILER-DAEMON@mx.example\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\n" +
		"Reporting-MTA: dns; mx.example\r\n\r\n" +
		"Final-Recipient: rfc822; a@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
		"Diagnostic-Code: smtp; 550 5.1.1 no\r\r\n such user\r\n" +
		"X-Note: one\r\r\n\ttwo\r\n" +
		"--b--\r\n"
	r, err := Parse(strings.NewReader(msg))
	require.NoError(t, err)
	require.Len(t, r.Recipients, 1)
	rc := r.Recipients[0]
	assert.Equal(t, "550 5.1.1 no such user", rc.DiagnosticCode.Value)
	require.Len(t, rc.Extra, 1)
	assert.Equal(t, Field{Name: "X-Note", Value: "one\ttwo"}, rc.Extra[0])
}

// Stray lines in a delivery-status part are skipped in one pass of the
// shared reader per block, however many there are.
func TestParseManyStrayLines(t *testing.T) {
	stray := strings.Repeat("not a field: x\n", 1<<20) // a space in every "name"
	msg := "Content-Type: message/delivery-status\n\n" +
		"Reporting-MTA: dns; x\n" + stray + "\nFinal-Recipient: rfc822; a@b\n" + stray + "Action: failed\n"
	// No wall-clock bound (it fails on a loaded machine under -race): a
	// reader quadratic in the stray lines would need hours for these
	// two million and fail by the test binary's timeout instead.
	r, err := Parse(strings.NewReader(msg))
	require.NoError(t, err)
	assert.Equal(t, "x", r.ReportingMTA)
	require.Len(t, r.Recipients, 1)
	assert.Equal(t, Failed, r.Recipients[0].Action)
	assert.Empty(t, r.Recipients[0].Extra)
}
