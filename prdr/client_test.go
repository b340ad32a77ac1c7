package prdr

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/smtp"
)

func reader(s string) *smtp.ReplyReader {
	return smtp.NewReplyReader(strings.NewReader(s))
}

func TestReadDataReplies(t *testing.T) {
	rcpts := []string{"a@x", "b@x", "c@x"}
	intro := "353 PRDR content analysis beginning\r\n"
	tests := []struct {
		name   string
		in     string
		status string // one letter per recipient: D delivered, T deferred, F failed
		prdr   bool
		msgs   []string // Message per recipient, "" not checked
		err    error
	}{
		{"no prdr 250", "250 OK id=1\r\n", "DDD", false, []string{"250 OK id=1"}, nil},
		{"no prdr 450", "450 try later\r\n", "TTT", false, nil, nil},
		{"no prdr 554 multi-line", "554-5.7.1 no\r\n554 5.7.1 way\r\n", "FFF", false, []string{"554 5.7.1 no 5.7.1 way"}, nil},
		{"all ok", intro + "250 a\r\n250 b\r\n250 c\r\n250 done\r\n", "DDD", true, []string{`250 a\n250 done`}, nil},
		{"mixed", intro + "250 a\r\n550 5.7.1 b\r\n450 c\r\n250 some\r\n", "DFT", true,
			[]string{`250 a\n250 some`, "PRDR error after DATA: 550 5.7.1 b", "PRDR error after DATA: 450 c"}, nil},
		{"multi-line per-recipient", intro + "250-a1\r\n250 a2\r\n550-b1\r\n550 b2\r\n250 c\r\n250-fin\r\n250 al\r\n", "DFD", true,
			[]string{`250 a1 a2\n250 fin al`, "PRDR error after DATA: 550 b1 b2"}, nil},
		{"final 5xx fails all", intro + "250 a\r\n450 b\r\n550 c\r\n554 nope\r\n", "FFF", true,
			[]string{"554 nope", "554 nope", "554 nope"}, nil},
		{"final 4xx defers ok ones", intro + "250 a\r\n550 b\r\n450 c\r\n451 later\r\n", "TFT", true,
			[]string{"451 later", "PRDR error after DATA: 550 b", "PRDR error after DATA: 450 c"}, nil},
		{"any 3xx intro", "354 x\r\n250 a\r\n250 b\r\n250 c\r\n250 fin\r\n", "DDD", true, nil, nil},
		{"truncated in block", intro + "250 a\r\n550 b\r\n", "TTT", true, nil, io.ErrUnexpectedEOF},
		{"truncated final", intro + "250 a\r\n550 b\r\n250 c\r\n250-fin\r\n", "TTT", true, nil, io.ErrUnexpectedEOF},
		{"truncated mid-line", intro + "250 a\r\n25", "TTT", true, nil, io.ErrUnexpectedEOF},
		{"bare LF", intro + "250 a\n250 b\r\n", "TTT", true, nil, smtp.ErrMalformed},
		{"empty", "", "TTT", false, nil, io.ErrUnexpectedEOF},
		{"garbage", "hello\r\n", "TTT", false, nil, smtp.ErrMalformed},
		{"3xx per-recipient", intro + "250 a\r\n353 b\r\n", "TTT", true, nil, nil},
		{"3xx final", intro + "250 a\r\n250 b\r\n250 c\r\n354 x\r\n", "TTT", true, nil, nil},
	}
	letter := map[Status]byte{Delivered: 'D', Deferred: 'T', Failed: 'F'}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ReadDataReplies(reader(tt.in), rcpts, "DATA")
			wantErr := tt.err != nil || strings.HasPrefix(tt.name, "3xx")
			switch {
			case !wantErr && err != nil:
				t.Fatalf("err = %v", err)
			case wantErr && err == nil:
				t.Fatalf("no error")
			case tt.err != nil && !errors.Is(err, tt.err):
				t.Fatalf("err = %v, want %v", err, tt.err)
			case strings.HasPrefix(tt.name, "3xx"):
				var pe *smtp.ProtocolError
				if !errors.As(err, &pe) {
					t.Fatalf("err = %v, want *smtp.ProtocolError", err)
				}
			}
			if res.PRDR != tt.prdr {
				t.Errorf("PRDR = %v", res.PRDR)
			}
			var st []byte
			for _, o := range res.Recipients {
				st = append(st, letter[o.Status])
				if wantErr && o.Err == nil {
					t.Errorf("%s: Err not set", o.Recipient)
				}
			}
			if string(st) != tt.status {
				t.Errorf("statuses %s, want %s", st, tt.status)
			}
			for i, m := range tt.msgs {
				if m != "" && res.Recipients[i].Message != m {
					t.Errorf("%s: Message %q, want %q", rcpts[i], res.Recipients[i].Message, m)
				}
			}
		})
	}
}

func TestReadDataRepliesBDATText(t *testing.T) {
	in := "353 go\r\n550 no\r\n250 yes\r\n250 fin\r\n"
	res, err := ReadDataReplies(reader(in), []string{"a@x", "b@x"}, "BDAT 457 LAST")
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Recipients[0].Message; got != "PRDR error after BDAT 457 LAST: 550 no" {
		t.Errorf("Message = %q", got)
	}
}
