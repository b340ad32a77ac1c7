package mta

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
)

// Mail to the report inbox is delivered to the Maildir like any other
// and then handed, as it came, to ReceiveReport; mail to anyone else
// is not.
func TestReportInboxHook(t *testing.T) {
	var mu sync.Mutex
	var got []string
	ts := start(t, func(c *Config) {
		c.ReportInbox = "reports@example.com"
		c.ReceiveReport = func(ctx context.Context, msg io.Reader) {
			b, err := io.ReadAll(msg)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			got = append(got, string(b))
			mu.Unlock()
		}
	})
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	if code, msg := c.send("a@sender.test", []string{"bob@example.com"}, "Subject: not a report\n\nx\n"); code != 250 {
		t.Fatalf("%d %s", code, msg)
	}
	if code, msg := c.send("a@sender.test", []string{"bob@example.com", "Reports@Example.COM"}, "Subject: a report\n\nrua\n"); code != 250 {
		t.Fatalf("%d %s", code, msg)
	}
	c.ok("QUIT", 221)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || !strings.HasPrefix(got[0], "Subject: a report\n") || !strings.HasSuffix(got[0], "rua\n") {
		t.Fatalf("hook got %q", got)
	}
	if n := len(ts.files(t, "")); n != 3 {
		t.Fatalf("%d messages in the Maildir, want 3", n)
	}
}
