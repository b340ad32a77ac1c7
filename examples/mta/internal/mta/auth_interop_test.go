//go:build interop

// AUTH and TLS with swaks (the shared swaks.sh, ../../../../shared/peers
// README §7): PLAIN over STARTTLS, LOGIN over implicit TLS
// (submissions), a wrong password refused, and no AUTH in clear text.

package mta

import (
	"net"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/internal/peertest"
)

func swaks(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return peertest.Run(peertest.SharedScript("swaks.sh"), nil, append([]string{"--hide-informational", "--timeout", "20"}, args...)...)
}

func TestInteropSwaksAUTH(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.InboundTLS = inboundTLS(t)
		c.AuthUsers = usersFile(t)
	})
	sub, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ts.srv.ServeTLS(sub)

	// PLAIN after STARTTLS.
	out, err := swaks(t, "--server", ts.addr, "--ehlo", "client.test", "--from", "alice@example.com", "--to", "bob@example.com",
		"--tls", "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "secret", "--header", "Subject: swaks plain")
	if err != nil {
		if strings.Contains(err.Error(), "executable file not found") || strings.Contains(out, "command not found") {
			peertest.Unavailable(t, "swaks", "%v", err)
		}
		t.Fatalf("swaks PLAIN over STARTTLS: %v\n%s", err, out)
	}
	// LOGIN over implicit TLS (argon2id user).
	if out, err := swaks(t, "--server", sub.Addr().String(), "--ehlo", "client.test", "--from", "bob@example.com", "--to", "bob@example.com",
		"--tlsc", "--auth", "LOGIN", "--auth-user", "bob", "--auth-password", "hunter2", "--header", "Subject: swaks login"); err != nil {
		t.Fatalf("swaks LOGIN over implicit TLS: %v\n%s", err, out)
	}
	// A wrong password: 535, nothing sent.
	out, err = swaks(t, "--server", ts.addr, "--ehlo", "client.test", "--from", "alice@example.com", "--to", "bob@example.com",
		"--tls", "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "nope")
	if err == nil || !strings.Contains(out, "535 5.7.8") {
		t.Errorf("wrong password: %v\n%s", err, out)
	}
	// In clear text AUTH is not offered: swaks refuses to go on.
	out, err = swaks(t, "--server", ts.addr, "--ehlo", "client.test", "--from", "alice@example.com", "--to", "bob@example.com",
		"--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "secret")
	if err == nil || strings.Contains(out, "235 ") {
		t.Errorf("AUTH in clear text: %v\n%s", err, out)
	}

	files := ts.files(t, "")
	if len(files) != 2 {
		t.Fatalf("%d messages delivered, want 2", len(files))
	}
	var got []string
	for _, f := range files {
		got = append(got, headerOf(f, "Authentication-Results")+" | "+headerOf(f, "Received"))
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{"auth=pass (PLAIN) smtp.auth=alice", "auth=pass (LOGIN) smtp.auth=bob", "with ESMTPSA (TLS1.3) tls TLS_"} {
		if !strings.Contains(joined, want) {
			t.Errorf("delivered messages lack %q:\n%s", want, joined)
		}
	}
}
