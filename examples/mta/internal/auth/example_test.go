package auth_test

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/auth"
)

// A users file, then one AUTH PLAIN without an initial response and
// one AUTH LOGIN, as a session drives them.
func Example() {
	dir, err := os.MkdirTemp("", "auth-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	hash, err := auth.HashPassword("s3cret", auth.KindBcrypt)
	if err != nil {
		fmt.Println(err)
		return
	}
	path := filepath.Join(dir, "users")
	if err := os.WriteFile(path, []byte("# name:hash\nalice:"+hash+"\n"), 0o600); err != nil {
		fmt.Println(err)
		return
	}
	users, err := auth.LoadUsers(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	var limiter auth.Limiter
	client := netip.MustParseAddr("192.0.2.10")
	b64 := base64.StdEncoding.EncodeToString

	run := func(mech string, lines ...string) {
		if !auth.Permitted(true, client, false) || !limiter.Allowed(client) {
			fmt.Println("S: 454 4.7.0 try later")
			return
		}
		ex, err := auth.Start(mech, "", false)
		for err == nil && !ex.Done() {
			ch := ex.Challenge()
			if ch == "" {
				ch = "(empty)" // PLAIN's challenge: "334 " and nothing more
			}
			fmt.Printf("S: 334 %s\n", ch)
			fmt.Printf("C: %s\n", lines[0])
			_, _, err = ex.Next(lines[0])
			lines = lines[1:]
		}
		if err != nil {
			fmt.Println("S: 501", err)
			return
		}
		cred := ex.Credentials()
		if users.Verify(cred.Authcid, cred.Password) {
			limiter.Succeeded(client)
			fmt.Printf("S: 235 2.7.0 authenticated as %s with %s\n", cred.Authcid, cred.Mechanism)
			return
		}
		limiter.Failed(client)
		fmt.Println("S: 535 5.7.8 Incorrect authentication data")
	}

	run("PLAIN", b64([]byte("\x00alice\x00s3cret")))
	run("LOGIN", b64([]byte("alice")), b64([]byte("wrong")))
	run("LOGIN", "*")
	// Output:
	// S: 334 (empty)
	// C: AGFsaWNlAHMzY3JldA==
	// S: 235 2.7.0 authenticated as alice with PLAIN
	// S: 334 VXNlcm5hbWU6
	// C: YWxpY2U=
	// S: 334 UGFzc3dvcmQ6
	// C: d3Jvbmc=
	// S: 535 5.7.8 Incorrect authentication data
	// S: 334 VXNlcm5hbWU6
	// C: *
	// S: 501 auth: exchange cancelled by the client
}
