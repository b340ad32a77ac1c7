package smtp

import (
	"errors"
	"io"
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
		{"250-\r\n250 \r\n", Reply{250, []string{"", ""}}, nil},
		{"250-a\r\n", Reply{}, io.ErrUnexpectedEOF},
		{"250-a\r\n251 b\r\n", Reply{}, ErrMalformed},
		{"25\r\n", Reply{}, ErrMalformed},
		{"2x0 ok\r\n", Reply{}, ErrMalformed},
		{"650 ok\r\n", Reply{}, ErrMalformed},
		{"150 ok\r\n", Reply{}, ErrMalformed},
		{"250_ok\r\n", Reply{}, ErrMalformed},
		{"250 a\r\n250 b\r\n", Reply{}, ErrMalformed},
		// Only CRLF ends a line.
		{"250-a\n250 b\r\n", Reply{}, ErrMalformed},
		{"250 a\rb\r\n", Reply{}, ErrMalformed},
		{"250 a\n", Reply{}, ErrMalformed},
		{"", Reply{}, io.EOF},
	}
	for _, tt := range tests {
		got, err := ParseReply(tt.in)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%q: err = %v, want %v", tt.in, err, tt.err)
			}
			if tt.err != io.EOF {
				var re *ReplyError
				if !errors.As(err, &re) {
					t.Errorf("%q: %T is not a *ReplyError", tt.in, err)
				}
			}
			continue
		}
		if err != nil || got.Code != tt.want.Code || strings.Join(got.Text, "|") != strings.Join(tt.want.Text, "|") {
			t.Errorf("%q: got %+v, %v", tt.in, got, err)
		}
	}
}

func TestReplyReaderStream(t *testing.T) {
	// Replies split at every possible point still read the same.
	wire := "220 mx ESMTP\r\n250-mx\r\n250-PRDR\r\n250 SIZE 10\r\n354 go\r\n"
	rr := NewReplyReader(iotestOneByte(strings.NewReader(wire)))
	reps, err := rr.ReadReplies(3)
	if err != nil || len(reps) != 3 || reps[1].Text[2] != "SIZE 10" || reps[2].Code != 354 {
		t.Fatalf("%+v %v", reps, err)
	}
	if _, err := rr.ReadReply(); err != io.EOF {
		t.Errorf("at the end: %v", err)
	}
	if _, err := NewReplyReader(strings.NewReader("250 a\r\n250-b\r\n")).ReadReplies(3); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short: %v", err)
	}
}

func TestReplyReaderLimits(t *testing.T) {
	rr := NewReplyReader(strings.NewReader("250 " + strings.Repeat("x", 100) + "\r\n"))
	rr.Limits.MaxLineLength = 104
	if _, err := rr.ReadReply(); err != nil {
		t.Errorf("line at the limit: %v", err)
	}
	rr = NewReplyReader(strings.NewReader("250 " + strings.Repeat("x", 101) + "\r\n"))
	rr.Limits.MaxLineLength = 104
	if _, err := rr.ReadReply(); !errors.Is(err, ErrLineTooLong) {
		t.Errorf("line over the limit: %v", err)
	}
	rr = NewReplyReader(strings.NewReader(strings.Repeat("250-x\r\n", 5) + "250 x\r\n"))
	rr.Limits.MaxLines = 5
	if _, err := rr.ReadReply(); !errors.Is(err, ErrReplyTooLarge) {
		t.Errorf("lines: %v", err)
	}
	rr = NewReplyReader(strings.NewReader(strings.Repeat("250-xxxxxxxxxx\r\n", 5) + "250 x\r\n"))
	rr.Limits.MaxSize = 40
	if _, err := rr.ReadReply(); !errors.Is(err, ErrReplyTooLarge) {
		t.Errorf("size: %v", err)
	}
	// The default line limit holds across buffer refills.
	rr = NewReplyReader(strings.NewReader("250 " + strings.Repeat("x", DefaultMaxLineLength) + "\r\n"))
	if _, err := rr.ReadReply(); !errors.Is(err, ErrLineTooLong) {
		t.Errorf("default limit: %v", err)
	}
}

func TestReplyMethods(t *testing.T) {
	r := Reply{Code: 550, Text: []string{"5.7.1 no", "5.7.1 thanks"}}
	if r.Enhanced() != (EnhancedCode{5, 7, 1}) || r.Class() != 5 || r.String() != "550 5.7.1 no 5.7.1 thanks" {
		t.Errorf("%v %d %q", r.Enhanced(), r.Class(), r.String())
	}
	if !(Reply{Code: 450, Text: []string{"5.7.1 x"}}).Enhanced().IsZero() {
		t.Error("enhanced code of another class accepted")
	}
	if w := (Reply{Code: 250}).Wire(); w != "250\r\n" {
		t.Errorf("bare: %q", w)
	}
	if w := (Reply{Code: 250, Text: []string{"a\r\n250 b"}}).Wire(); w != "250 a  250 b\r\n" {
		t.Errorf("CRLF in text: %q", w)
	}
	if p, err := ParseReply(r.Wire()); err != nil || p.String() != r.String() {
		t.Errorf("round trip: %v %v", p, err)
	}
}

func TestEnhancedCode(t *testing.T) {
	for _, s := range []string{"2.0.0", "5.7.1", "4.999.999", "5.1.10"} {
		e, err := ParseEnhancedCode(s)
		if err != nil || e.String() != s {
			t.Errorf("%q: %v %v", s, e, err)
		}
	}
	for _, s := range []string{"", "3.0.0", "5.7", "5.7.1.1", "5.1000.1", "5..1", "5.7.x", "55.1.1", "5.01.1a"} {
		if _, err := ParseEnhancedCode(s); !errors.Is(err, ErrEnhancedCode) {
			t.Errorf("%q accepted", s)
		}
	}
	if (EnhancedCode{}).String() != "" || (EnhancedCode{3, 1, 1}).String() != "" {
		t.Error("invalid code formatted")
	}
}

// iotestOneByte returns a reader that reads one byte at a time.
func iotestOneByte(r io.Reader) io.Reader { return oneByte{r} }

type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}
