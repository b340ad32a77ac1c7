package dsninfo

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A line that starts with a space or tab continues the field before
// it, as internal/header (and so DKIM and DMARC) read it, even when
// the rest of it is other white space: the header used to end there,
// hiding the Content-Type after it, so the bounce was read from its
// text rather than its MIME structure. A line of other white space
// alone still ends the header.
func TestParseWhiteSpaceLines(t *testing.T) {
	const dsn = "--b\nContent-Type: message/delivery-status\n\n" +
		"Reporting-MTA: dns; mx.example\n\n" +
		"Final-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.1.1\n" +
		"--b--\n"
	for _, c := range []struct {
		name, line string
		mime       bool
	}{
		{"space and VT continues", " \v", true},
		{"tab and NBSP continues", "\t\u00a0", true},
		{"VT alone ends the header", "\v", false},
		{"NBSP alone ends the header", "\u00a0", false},
	} {
		msg := "From: MAILER-DAEMON@mx.example\nSubject: x\n" + c.line + "\n" +
			"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n" + dsn
		r, err := Parse(strings.NewReader(msg))
		require.NoError(t, err, c.name)
		assert.Equal(t, "x", r.Subject, c.name)
		require.Len(t, r.Recipients, 1, c.name)
		if c.mime {
			assert.Equal(t, "b", r.Boundary, c.name)
		} else {
			assert.Empty(t, r.Boundary, c.name)
		}
	}
}
