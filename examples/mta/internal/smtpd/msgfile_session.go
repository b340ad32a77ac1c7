package smtpd

import (
	"os"
	"syscall"
)

// newMsgFile starts the file of a message for this session; nil when
// it cannot be had (the budget is exhausted, or the file cannot be
// created), with the reason logged.
func (s *session) newMsgFile() *msgFile {
	mf, err := newMsgFile(s.srv.cfg.TempDir, s.srv.budget, s.srv.cfg.MaxHeaderSize)
	switch {
	case err != nil:
		s.log().Warn("message file", "err", err)
	case mf == nil:
		s.log().Warn("data memory exhausted", "limit", s.srv.budget.limit)
	}
	return mf
}

// spaceFor reports whether the file system of TempDir has room for n
// more octets now (a snapshot, as RFC 1870 §6.1 asks of SIZE=); true
// when it cannot be told.
func (srv *Server) spaceFor(n int64) bool {
	dir := srv.cfg.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return true
	}
	return int64(st.Bavail)*int64(st.Bsize) >= n
}
