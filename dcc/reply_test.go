package dcc_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/dcc"
)

func TestParseReplyHeader(t *testing.T) {
	long := "X-DCC-EXAMPLE-Metrics: mx.example.com 1234; bulk Body=many Fuz1=many Fuz2=many IP=1 env_From=2 From=3 Message-ID=4 Received=5"
	tests := []struct {
		name, payload string
		max           int
		want          string
	}{
		{"simple", "X-DCC-x-Metrics: h 1; Body=1\n\n", 0, "X-DCC-x-Metrics: h 1; Body=1\n"},
		{"crlf", "X-DCC-x-Metrics: h 1; Body=1\r\n\r\n", 0, "X-DCC-x-Metrics: h 1; Body=1\n"},
		{"no final newline", "X-DCC-x-Metrics: h 1; whitelist", 0, "X-DCC-x-Metrics: h 1; whitelist\n"},
		{"folded input, refolded", "X-DCC-x-Metrics: h 1;\n\tBody=1\n  Fuz1=2\nNext: x\n", 0, "X-DCC-x-Metrics: h 1; Body=1 Fuz1=2\n"},
		{"long folded", long + "\n", 0,
			"X-DCC-EXAMPLE-Metrics: mx.example.com 1234; bulk Body=many Fuz1=many Fuz2=many\n\tIP=1 env_From=2 From=3 Message-ID=4 Received=5\n"},
		// Exim keeps 120 bytes and may cut mid-word; here the cut is at a word.
		{"limit", long + "\n", 60, "X-DCC-EXAMPLE-Metrics: mx.example.com 1234; bulk Body=many\n"},
		{"not X-DCC", "Subject: x\n", 0, ""},
		{"lower case", "x-dcc-x-Metrics: h 1\n", 0, ""},
		{"empty value", "X-DCC-x-Metrics:   \n", 0, ""},
		{"no colon", "X-DCC-x-Metrics h 1\n", 0, ""},
		{"space in name", "X-DCC x: h 1\n", 0, ""},
		{"8-bit", "X-DCC-x-Metrics: h\xc3\xa9 1\n", 0, ""},
		{"control", "X-DCC-x-Metrics: h\x1b 1\n", 0, ""},
		{"bare CR injection", "X-DCC-x-Metrics: h 1\rBcc: evil@example.com\n", 0, ""},
		{"blank first", "\nX-DCC-x-Metrics: h 1\n", 0, ""},
	}
	for _, tt := range tests {
		res, err := dcc.ParseReply([]byte("A\nA\n"+tt.payload), 1, tt.max)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if res.Header != tt.want {
			t.Errorf("%s: Header\n got %q\nwant %q", tt.name, res.Header, tt.want)
		}
		if string(res.Payload) != tt.payload {
			t.Errorf("%s: Payload %q", tt.name, res.Payload)
		}
	}
}

func TestParseReplyZeroRecipients(t *testing.T) {
	for _, reply := range []string{"A\n", "A\n\n", "A\n\nX-DCC-x: h 1\n"} {
		res, err := dcc.ParseReply([]byte(reply), 0, 0)
		if err != nil || res.Outcome != dcc.OK || res.Recipients != nil {
			t.Errorf("%q: %+v %v", reply, res, err)
		}
	}
}

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in, network, addr, str string
	}{
		{"/var/dcc/dccifd", "unix", "/var/dcc/dccifd", "/var/dcc/dccifd"},
		{"/path with space", "unix", "/path with space", "/path with space"},
		{"127.0.0.1 1234", "tcp", "127.0.0.1:1234", "127.0.0.1 1234"},
		{"  127.0.0.1\t\t1234  ", "tcp", "127.0.0.1:1234", "127.0.0.1 1234"},
		{"::1 1234", "tcp", "[::1]:1234", "::1 1234"},
		{"[2001:db8::1] 1234", "tcp", "[2001:db8::1]:1234", "2001:db8::1 1234"},
		{"dcc.example.net 01234", "tcp", "dcc.example.net:1234", "dcc.example.net 1234"},
		{"a-very-long-host-name-longer-than-thirty-nine-bytes.example.net 1", "tcp",
			"a-very-long-host-name-longer-than-thirty-nine-bytes.example.net:1", "a-very-long-host-name-longer-than-thirty-nine-bytes.example.net 1"},
	}
	for _, tt := range tests {
		a, err := dcc.ParseAddress(tt.in)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if a.Network != tt.network || a.Addr != tt.addr || a.String() != tt.str {
			t.Errorf("%q: got %+v %q", tt.in, a, a.String())
		}
	}
	for _, bad := range []string{"", "   ", "localhost", "localhost 0", "localhost 65536", "localhost x",
		"localhost +1", "a b c", "127.0.0.1:1234", "::1:: 1", "[] 1", "relative/path 1", "/a\nb", "[::1 1"} {
		_, err := dcc.ParseAddress(bad)
		var ae *dcc.AddressError
		if !errors.As(err, &ae) {
			t.Errorf("%q: got %v, want *AddressError", bad, err)
		}
	}
}

func TestCheckAddHeader(t *testing.T) {
	good := []struct{ in, want string }{
		{"", ""},
		{"\n", ""},
		{"X-Test: 1", "X-Test: 1\n"},
		{"X-Test: 1\r\n", "X-Test: 1\n"},
		{"X-A: 1\nX-B: 2\n\tcontinued\n", "X-A: 1\nX-B: 2\n\tcontinued\n"},
	}
	for _, tt := range good {
		got, err := dcc.CheckAddHeader(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("%q: got %q, %v", tt.in, got, err)
		}
	}
	bad := []struct {
		in   string
		line int
	}{
		{" leading: space", 1},
		{"X-A: 1\n\nX-B: 2", 2},
		{"no colon here", 1},
		{"X-A: 1\nBad Name: 2", 2},
		{"X-A: a\rBcc: x", 1},
		{"X-A: \x00", 1},
		{": empty name", 1},
	}
	for _, tt := range bad {
		_, err := dcc.CheckAddHeader(tt.in)
		var he *dcc.HeaderError
		if !errors.As(err, &he) || he.Line != tt.line {
			t.Errorf("%q: got %v", tt.in, err)
		}
	}
	res := &dcc.Result{Header: "X-DCC-x: h 1\n"}
	got, err := res.HeadersToAdd("X-Extra: yes")
	if err != nil || got != "X-DCC-x: h 1\nX-Extra: yes\n" {
		t.Errorf("HeadersToAdd: %q %v", got, err)
	}
	if _, err := res.HeadersToAdd("bad"); err == nil {
		t.Error("HeadersToAdd accepted a bad header")
	}
}

func TestEnabled(t *testing.T) {
	tests := []struct {
		arg          string
		run, deferOK bool
	}{
		{"*", true, false},
		{"*/defer_ok", true, true},
		{"*/DEFER_OK", true, true},
		{"", false, false},
		{"0", false, false},
		{"false", false, false},
		{"FALSE/defer_ok", false, true},
		{"false:yes", false, false},
		{"yes:false", true, false},
		{"1/other/defer_ok", true, true},
	}
	for _, tt := range tests {
		run, d := dcc.Enabled(tt.arg)
		if run != tt.run || d != tt.deferOK {
			t.Errorf("%q: got %v %v", tt.arg, run, d)
		}
	}
}

func TestSplitMessage(t *testing.T) {
	h, body := dcc.SplitMessage([]byte("From: a\r\nSubject: x\r\n\ty\r\n\r\nbody\r\n"))
	if len(h) != 2 || h[0].Text != "From: a\r\n" || h[1].Text != "Subject: x\r\n\ty\r\n" || string(body) != "body\r\n" {
		t.Errorf("got %+v %q", h, body)
	}
	h, body = dcc.SplitMessage([]byte("From: a"))
	if len(h) != 1 || h[0].Text != "From: a" || body != nil {
		t.Errorf("got %+v %q", h, body)
	}
	h, body = dcc.SplitMessage([]byte("\nbody"))
	if len(h) != 0 || string(body) != "body" {
		t.Errorf("got %+v %q", h, body)
	}
	if o := dcc.Outcome(7).String(); !strings.Contains(o, "unknown") {
		t.Error(o)
	}
}
