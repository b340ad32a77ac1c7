package prdr

import (
	"bufio"
	"net/textproto"
	"strings"
	"testing"
)

func FuzzParseReply(f *testing.F) {
	for _, s := range []string{"250 ok\r\n", "250-a\r\n250 b\r\n", "353 x\n", "25", "250-a\r\n251 b\r\n", "554 5.7.1 no"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReply(s)
		if err != nil {
			return
		}
		if r.Code < 200 || r.Code > 599 || len(r.Text) == 0 {
			t.Fatalf("bad reply %+v from %q", r, s)
		}
		// What parsed, written out, parses to the same reply unless a
		// line holds a line end of its own.
		if strings.ContainsAny(strings.Join(r.Text, ""), "\r\n") {
			return
		}
		r2, err := ParseReply(r.Wire())
		if err != nil || r2.String() != r.String() {
			t.Fatalf("round trip of %q: %+v, %v", r.Wire(), r2, err)
		}
	})
}

func FuzzReadReplies(f *testing.F) {
	f.Add("353 go\r\n250 a\r\n550 b\r\n250 fin\r\n", 2)
	f.Add("250 ok\r\n", 3)
	f.Add("353 go\r\n250-a\r\n250 a\r\n451 x\r\n", 1)
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = n & 15
		rcpts := make([]string, n)
		for i := range rcpts {
			rcpts[i] = "r@x"
		}
		tp := textproto.NewReader(bufio.NewReader(strings.NewReader(s)))
		res, err := ReadDataReplies(tp, rcpts, "DATA")
		if res == nil || len(res.Recipients) != n {
			t.Fatalf("result %+v", res)
		}
		for _, o := range res.Recipients {
			if err != nil && (o.Status != Deferred || o.Err == nil) {
				t.Fatalf("after error %v: %+v", err, o)
			}
		}
		tp = textproto.NewReader(bufio.NewReader(strings.NewReader(s)))
		reps, err := ReadReplies(tp, n)
		if err == nil && len(reps) != n {
			t.Fatalf("%d replies, want %d", len(reps), n)
		}
	})
}

func FuzzMailParams(f *testing.F) {
	for _, s := range []string{"", "PRDR", "SIZE=10 PRDR", "PRDR=x", "prdr prdr", "BODY=8BITMIME\tSMTPUTF8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		mp, err := ParseMailParams(s)
		if err != nil {
			return
		}
		for _, p := range mp.Others {
			if p.Keyword == Keyword || !validKeyword(p.Keyword) || p.HasValue != (p.Value != "") {
				t.Fatalf("bad param %+v from %q", p, s)
			}
		}
	})
}
