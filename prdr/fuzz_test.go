package prdr

import (
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/smtp"
)

// The reply, EHLO and parameter parsers are fuzzed in package smtp;
// this is the combination of the end-of-data replies.
func FuzzReadDataReplies(f *testing.F) {
	f.Add("353 go\r\n250 a\r\n550 b\r\n250 fin\r\n", 2)
	f.Add("250 ok\r\n", 3)
	f.Add("353 go\r\n250-a\r\n250 a\r\n451 x\r\n", 1)
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = n & 15
		rcpts := make([]string, n)
		for i := range rcpts {
			rcpts[i] = "r@x"
		}
		res, err := ReadDataReplies(smtp.NewReplyReader(strings.NewReader(s)), rcpts, "DATA")
		if res == nil || len(res.Recipients) != n {
			t.Fatalf("result %+v", res)
		}
		for _, o := range res.Recipients {
			if err != nil && (o.Status != Deferred || o.Err == nil) {
				t.Fatalf("after error %v: %+v", err, o)
			}
			if err == nil && (o.Err != nil || o.Reply.Code == 0 || o.Message == "") {
				t.Fatalf("without error: %+v", o)
			}
		}
		if err == nil && res.Final.Code == 0 {
			t.Fatalf("no final reply: %+v", res)
		}
	})
}
