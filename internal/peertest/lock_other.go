//go:build !unix

package peertest

import "testing"

// Lock is a no-op where flock(2) does not exist; the peers only run on
// Linux.
func Lock(t testing.TB, name string) {}
