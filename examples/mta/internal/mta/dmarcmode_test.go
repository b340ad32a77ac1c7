package mta

import (
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/dmarc"
)

// TestDMARCMode: Config.DMARCMode reaches the DMARC check. In RFC 9989
// mode the Authentication-Results field names the applied policy
// (policy.dmarc, RFC 9989 §9.2); RFC 7489 mode, the default, does not.
func TestDMARCMode(t *testing.T) {
	for _, c := range []struct {
		mode dmarc.Mode
		want bool
	}{{dmarc.ModeRFC7489, false}, {dmarc.ModeRFC9989, true}} {
		t.Run(c.mode.String(), func(t *testing.T) {
			ts := start(t, func(cfg *Config) { cfg.SPFLocalhostPass, cfg.DMARCMode = false, c.mode })
			cl := dial(t, ts.addr)
			cl.ok("EHLO client.test", 250)
			if code, msg := cl.send("alice@sender.test", []string{"bob@example.com"}, signed(t, plainMsg)); code != 250 {
				t.Fatalf("end of data: %d %s", code, msg)
			}
			cl.ok("QUIT", 221)
			files := ts.files(t, "")
			if len(files) != 1 {
				t.Fatalf("%d files delivered", len(files))
			}
			ar := headerOf(files[0], "Authentication-Results")
			if !strings.Contains(ar, "dmarc=pass header.from=sender.test") {
				t.Fatalf("Authentication-Results %q lacks the dmarc pass", ar)
			}
			if got := strings.Contains(ar, "policy.dmarc=reject"); got != c.want {
				t.Errorf("Authentication-Results %q: policy.dmarc=reject present %v, want %v", ar, got, c.want)
			}
		})
	}
}
