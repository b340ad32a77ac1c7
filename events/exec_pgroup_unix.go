//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package events

import (
	"os/exec"
	"syscall"
)

// setProcessGroup runs cmd in its own process group and makes the
// context's cancellation kill the whole group, so that children of a
// shell script die with it.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
}
