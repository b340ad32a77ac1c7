package smtpd

// securityExtensions are STARTTLS and AUTH, when offered.
func (s *session) securityExtensions() []string { return nil }

func (s *session) cmdStartTLS(arg string) error {
	return s.synprot(false, 500, "5.5.1", "Unrecognized command")
}
