package mta

import (
	"context"
	"errors"
	"testing"

	"github.com/mailpolicy/mailpolicy/bmi"
)

var failingScanner = bmi.ScannerFunc(func(context.Context, *bmi.Message) (bmi.Verdicts, error) {
	return nil, errors.New("spamd: connection refused")
})

// A scanner that fails defers the message unless the operator chose
// defer_ok: scanner trouble never lets mail through unjudged.
func TestScannerFailureDefers(t *testing.T) {
	for _, ok := range []bool{false, true} {
		ts := start(t, func(c *Config) { c.Scanner = failingScanner; c.ScanDeferOK = ok })
		c := dial(t, ts.addr)
		c.ok("EHLO client.test", 250)
		code, text := c.send("alice@sender.test", []string{"bob@example.com"}, plainMsg)
		want := 451
		if ok {
			want = 250
		}
		if code != want {
			t.Errorf("defer_ok=%v: %d %q, want %d", ok, code, text, want)
		}
		if n := len(ts.files(t, "")); (n == 1) != ok {
			t.Errorf("defer_ok=%v: %d delivered", ok, n)
		}
	}
}
