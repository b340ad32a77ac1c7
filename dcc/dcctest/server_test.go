package dcctest

import (
	"testing"
)

func TestParseRequest(t *testing.T) {
	r, err := ParseRequest([]byte("header query\n192.0.2.1\rhost.example\nhelo\n<>\na@x\ruser\nb@x\n\nSubject: s\r\n\r\nbody"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Options) != 2 || r.ClientIP != "192.0.2.1" || r.ClientName != "host.example" || !r.HasName ||
		r.HELO != "helo" || r.Sender != "<>" || len(r.Recipients) != 2 || r.Recipients[0].User != "user" ||
		r.Recipients[1].Addr != "b@x" || string(r.Message) != "Subject: s\r\n\r\nbody" {
		t.Errorf("got %+v", r)
	}
	for _, bad := range []string{"", "header", "header\n\nhelo\n", "header\n\nhelo\nsender\nrcpt\n"} {
		if _, err := ParseRequest([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestReply(t *testing.T) {
	if got := string(Reply('R', "RA", "X-DCC-x: y\n\n")); got != "R\nRA\nX-DCC-x: y\n\n" {
		t.Errorf("got %q", got)
	}
}
