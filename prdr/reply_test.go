package prdr

import (
	"bufio"
	"errors"
	"io"
	"net/textproto"
	"strings"
	"testing"
)

func TestParseReply(t *testing.T) {
	tests := []struct {
		in   string
		want Reply
		err  error
	}{
		{"250 ok\r\n", Reply{250, []string{"ok"}}, nil},
		{"250 ok", Reply{250, []string{"ok"}}, nil},
		{"250\r\n", Reply{250, []string{""}}, nil},
		{"250-a\r\n250-b\r\n250 c\r\n", Reply{250, []string{"a", "b", "c"}}, nil},
		{"250-a\n250 b\n", Reply{250, []string{"a", "b"}}, nil},
		{"250-a\r\n", Reply{}, io.ErrUnexpectedEOF},
		{"250-a\r\n251 b\r\n", Reply{}, ErrMalformed},
		{"25\r\n", Reply{}, ErrMalformed},
		{"2x0 ok\r\n", Reply{}, ErrMalformed},
		{"650 ok\r\n", Reply{}, ErrMalformed},
		{"250_ok\r\n", Reply{}, ErrMalformed},
		{"250 a\r\n250 b\r\n", Reply{}, ErrMalformed},
		{"", Reply{}, io.EOF},
	}
	for _, tt := range tests {
		got, err := ParseReply(tt.in)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%q: err = %v, want %v", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got.Code != tt.want.Code || strings.Join(got.Text, "|") != strings.Join(tt.want.Text, "|") {
			t.Errorf("%q: got %+v, %v", tt.in, got, err)
		}
	}
}

func TestReplyMethods(t *testing.T) {
	r := Reply{Code: 550, Text: []string{"5.7.1 no", "5.7.1 thanks"}}
	if r.Enhanced() != "5.7.1" || r.Class() != 5 || r.String() != "550 5.7.1 no 5.7.1 thanks" {
		t.Errorf("%q %d %q", r.Enhanced(), r.Class(), r.String())
	}
	if (Reply{Code: 450, Text: []string{"5.7.1 x"}}).Enhanced() != "" {
		t.Error("enhanced code of another class accepted")
	}
	if w := (Reply{Code: 250}).Wire(); w != "250\r\n" {
		t.Errorf("bare: %q", w)
	}
	if p, err := ParseReply(r.Wire()); err != nil || p.String() != r.String() {
		t.Errorf("round trip: %v %v", p, err)
	}
}

func TestReadReplies(t *testing.T) {
	tp := textproto.NewReader(bufio.NewReader(strings.NewReader("250 a\r\n250-b\r\n250 c\r\n")))
	reps, err := ReadReplies(tp, 3)
	if len(reps) != 2 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v, %v", reps, err)
	}
}
