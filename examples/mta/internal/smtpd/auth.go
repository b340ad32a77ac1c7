package smtpd

// authOffered says whether AUTH is offered to this session now.
func (s *session) authOffered() bool { return false }

func (s *session) cmdAuth(arg string) error {
	return s.synprot(false, 500, "5.5.1", "Unrecognized command")
}
