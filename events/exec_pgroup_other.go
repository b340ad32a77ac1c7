//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package events

import "os/exec"

// setProcessGroup does nothing here: only the command itself is killed
// at the timeout (WaitDelay then closes its pipes).
func setProcessGroup(*exec.Cmd) {}
