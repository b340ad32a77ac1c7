package config

import "github.com/mailpolicy/mailpolicy/dmarc"

// DMARC gives the dmarc.Mode dmarc_mode names; "" is the library's
// default (RFC 7489).
func (s *Settings) DMARC() (dmarc.Mode, error) {
	if s.DMARCMode == "" {
		return dmarc.ModeRFC7489, nil
	}
	return dmarc.ParseMode(s.DMARCMode)
}

func (c *checker) dmarcMode() {
	if _, err := c.s.DMARC(); err != nil {
		c.bad("dmarc_mode", "%q: want rfc7489 or rfc9989", c.s.DMARCMode)
	}
}
