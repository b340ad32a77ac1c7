package smtpd

import "syscall"

// syscallEMFILE is the "too many open files" error of Accept, which is
// temporary: the server waits and tries again.
const syscallEMFILE = syscall.EMFILE
