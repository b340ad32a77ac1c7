package smtpd

// cmdBDAT is RFC 3030's BDAT; CHUNKING is not offered yet.
func (s *session) cmdBDAT(arg string) error {
	return s.synprot(false, 500, "5.5.1", "Unrecognized command")
}
