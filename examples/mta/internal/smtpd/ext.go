package smtpd

import (
	"strconv"

	"github.com/mailpolicy/mailpolicy/prdr"
)

// extensions are the EHLO keywords offered to this session, in the
// order they are listed.
func (s *session) extensions() []string {
	cfg := &s.srv.cfg
	ext := []string{
		"SIZE " + strconv.FormatInt(cfg.MaxSize, 10),
		"8BITMIME",
		"PIPELINING",
	}
	ext = append(ext, s.securityExtensions()...)
	ext = append(ext, "CHUNKING") // RFC 3030's BDAT (bdat.go); not BINARYMIME
	ext = append(ext, s.transferExtensions()...)
	return append(ext, prdr.Keyword, "ENHANCEDSTATUSCODES", "HELP")
}
