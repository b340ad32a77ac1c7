package peertest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// Exim is the shared Exim peer (peer-exim.sh, ../shared/peers/README.md
// §1): SMTP on Addr, state under State, and a relay transport that
// sends every domain but exim.test to 127.0.0.1:<relay port>.
type Exim struct {
	Script string // peer-exim.sh
	State  string // $EXIM_STATE
	Addr   string // 127.0.0.1:$EXIM_PORT
}

// EximPeer describes the shared Exim from the environment.
func EximPeer() Exim {
	return Exim{
		Script: SharedScript("peer-exim.sh"),
		State:  Env("EXIM_STATE", "/tmp/peers/exim"),
		Addr:   net.JoinHostPort("127.0.0.1", Env("EXIM_PORT", "2525")),
	}
}

// Use locks the Exim peer for t (tests that restart it or read its
// maildir must not overlap, even across packages) and makes sure it
// listens, starting it if need be and stopping it on cleanup when t
// started it: Ensure with the peer name "Exim".
func (e Exim) Use(t testing.TB) {
	t.Helper()
	Ensure(t, "Exim", e.Addr, e.Script)
}

// Bin returns the exim4 binary.
func (e Exim) Bin() string {
	if p, err := exec.LookPath("exim4"); err == nil {
		return p
	}
	return "/usr/sbin/exim4"
}

// Conf returns the path of the running peer's configuration.
func (e Exim) Conf() string { return filepath.Join(e.State, "exim.conf") }

var relayPortRE = regexp.MustCompile(`(?m)^relay_smtp:\n(?:.*\n)*?\s*port = (\d+)`)

// RelayPort returns the port Exim's relay transport sends to, or "".
func (e Exim) RelayPort() string {
	b, err := os.ReadFile(e.Conf())
	if err != nil {
		return ""
	}
	m := relayPortRE.FindSubmatch(b)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// ListenRelay returns a listener that receives what Exim relays: on
// Exim's relay port when it is free, else on a port of its own, with
// Exim restarted to relay there (and restarted with its default relay
// port on cleanup). Call Use first.
func (e Exim) ListenRelay(t testing.TB) net.Listener {
	t.Helper()
	if p := e.RelayPort(); p != "" {
		if ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", p)); err == nil {
			t.Cleanup(func() { ln.Close() })
			return ln
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	if _, err := Run(e.Script, nil, "stop"); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(e.Script, []string{"EXIM_RELAY_PORT=" + port}, "start"); err != nil {
		Unavailable(t, "Exim", "restart relaying to %s: %v", port, err)
	}
	t.Cleanup(func() {
		Run(e.Script, nil, "stop")
		Run(e.Script, nil, "start")
	})
	return ln
}

// Flush makes Exim deliver its queue now (exim4 -qff).
func (e Exim) Flush() error {
	_, err := exec.Command(e.Bin(), "-C", e.Conf(), "-qff").CombinedOutput()
	return err
}
