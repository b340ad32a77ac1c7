package main

import (
	"testing"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

// A malformed header elsewhere in the message neither hides the forged
// From nor turns the check into a usage error.
func TestDMARCMalformedHeader(t *testing.T) {
	z := resolvertest.NewZone()
	z.MustAdd(t, dmarcZone...)
	ns := resolvertest.Start(t, z).Addr
	for _, hdr := range []string{
		"X-Bad: a\x00b\r\nFrom: ceo@example.org\r\n",
		"no colon\r\nFrom: ceo@example.org\r\n",
		"From : ceo@(comment)example.org\r\n",
		" lead\r\nFrom: ceo@example.org\r\n",
	} {
		msg := hdr + "Subject: pay\r\n\r\nbody\r\n"
		_, vars := dmarcCheck(t, ns, "-ip", "203.0.113.9", "-sender", "x@forger.example", "-helo", "h.example", "-message", writeFile(t, []byte(msg)))
		if vars["dmarc_status"] != "reject" || vars["dmarc_used_domain"] != "example.org" {
			t.Errorf("%q: %v", hdr, vars)
		}
	}
}
