package smtp

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseMailParams(t *testing.T) {
	tests := []struct {
		in   string
		want MailParams
		bad  bool
	}{
		{"", MailParams{}, false},
		{" PRDR", MailParams{PRDR: true}, false},
		{"prdr", MailParams{PRDR: true}, false},
		{"SIZE=100 PRDR body=8bitmime", MailParams{Size: 100, PRDR: true, Body: Body8BitMIME}, false},
		{"SIZE=100\tSMTPUTF8", MailParams{Size: 100, SMTPUTF8: true}, false},
		{"BODY=BINARYMIME RET=hdrs ENVID=QQ+2B1 AUTH=<>", MailParams{Body: BodyBinaryMIME, Ret: RetHeaders, EnvID: "QQ+1", Auth: "<>"}, false},
		{"AUTH=e+3Dmc2@example.com", MailParams{Auth: "e=mc2@example.com"}, false},
		{"X-FOO XYZ=1", MailParams{Others: []Param{{"X-FOO", "", false}, {"XYZ", "1", true}}}, false},
		{"XYZ=é", MailParams{Others: []Param{{"XYZ", "é", true}}}, false},
		{"PRDR=yes", MailParams{}, true},
		{"PRDR PRDR", MailParams{}, true},
		{"SMTPUTF8=1", MailParams{}, true},
		{"SIZE=1 size=2", MailParams{}, true},
		{"X=1 x=2", MailParams{}, true},
		{"SIZE=", MailParams{}, true},
		{"SIZE", MailParams{}, true},
		{"SIZE=-1", MailParams{}, true},
		{"SIZE=99999999999999999999", MailParams{}, true},
		{"BODY=9BIT", MailParams{}, true},
		{"RET=ALL", MailParams{}, true},
		{"ENVID=a+zz", MailParams{}, true},
		{"ENVID", MailParams{}, true},
		{"AUTH=", MailParams{}, true},
		{"-X", MailParams{}, true},
		{"A=b=c", MailParams{}, true},
		{"X_Y", MailParams{}, true},
		{"X=\x01", MailParams{}, true},
		{"X=\xff", MailParams{}, true},
	}
	for _, tt := range tests {
		mp, err := ParseMailParams(tt.in)
		if tt.bad {
			var pe *ParamError
			if !errors.As(err, &pe) {
				t.Errorf("%q: err = %v, want *ParamError", tt.in, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(mp, tt.want) {
			t.Errorf("%q: got %+v, %v", tt.in, mp, err)
		}
	}
}

func TestParseRcptParams(t *testing.T) {
	tests := []struct {
		in   string
		want RcptParams
		bad  bool
	}{
		{"", RcptParams{}, false},
		{"NOTIFY=never", RcptParams{Notify: NotifyNever}, false},
		{"NOTIFY=SUCCESS,delay ORCPT=rfc822;a+2Bb@x", RcptParams{Notify: NotifySuccess | NotifyDelay, ORCPT: OriginalRecipient{"rfc822", "a+b@x"}}, false},
		{"SIZE=1", RcptParams{Others: []Param{{"SIZE", "1", true}}}, false},
		{"NOTIFY=NEVER,SUCCESS", RcptParams{}, true},
		{"NOTIFY=SUCCESS,SUCCESS", RcptParams{}, true},
		{"NOTIFY=", RcptParams{}, true},
		{"NOTIFY=SUCCESS NOTIFY=DELAY", RcptParams{}, true},
		{"ORCPT=a@x", RcptParams{}, true},
		{"ORCPT=rfc822;", RcptParams{}, true},
		{"ORCPT=rfc822;a@x ORCPT=rfc822;b@x", RcptParams{}, true},
	}
	for _, tt := range tests {
		rp, err := ParseRcptParams(tt.in)
		if tt.bad {
			var pe *ParamError
			if !errors.As(err, &pe) {
				t.Errorf("%q: err = %v, want *ParamError", tt.in, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(rp, tt.want) {
			t.Errorf("%q: got %+v, %v", tt.in, rp, err)
		}
	}
}

func TestParamsString(t *testing.T) {
	mp := MailParams{Size: 12, Body: Body8BitMIME, PRDR: true, SMTPUTF8: true, Ret: RetFull, EnvID: "a b+c", Auth: "x=y@z",
		Others: []Param{{Keyword: "X-A"}, {Keyword: "XB", Value: "1", HasValue: true}}}
	s := mp.String()
	if s != "SIZE=12 BODY=8BITMIME SMTPUTF8 PRDR RET=FULL ENVID=a+20b+2Bc AUTH=x+3Dy@z X-A XB=1" {
		t.Errorf("MailParams.String = %q", s)
	}
	if back, err := ParseMailParams(s); err != nil || !reflect.DeepEqual(back, mp) {
		t.Errorf("round trip: %+v %v", back, err)
	}
	rp := RcptParams{Notify: NotifyFailure | NotifyDelay, ORCPT: OriginalRecipient{"rfc822", "a;b@c"}}
	if s := rp.String(); s != "NOTIFY=FAILURE,DELAY ORCPT=rfc822;a;b@c" {
		t.Errorf("RcptParams.String = %q", s)
	}
	if (MailParams{}).String() != "" || (RcptParams{}).String() != "" {
		t.Error("empty params")
	}
	if err := (&RcptParams{Notify: NotifyNever | NotifyDelay}).check(); err == nil {
		t.Error("NEVER with DELAY")
	}
	if err := (&MailParams{Body: "9BIT"}).check(); err == nil {
		t.Error("bad BODY")
	}
}

func TestXtext(t *testing.T) {
	for dec, enc := range map[string]string{"": "", "abc": "abc", "a+b": "a+2Bb", "a=b": "a+3Db", "a b\r\n": "a+20b+0D+0A", "é": "+C3+A9"} {
		if got := EncodeXtext(dec); got != enc {
			t.Errorf("EncodeXtext(%q) = %q, want %q", dec, got, enc)
		}
		if got, err := DecodeXtext(enc); err != nil || got != dec {
			t.Errorf("DecodeXtext(%q) = %q, %v", enc, got, err)
		}
	}
	if got, _ := DecodeXtext("a+2bb"); got != "a+b" {
		t.Errorf("lower-case hex: %q", got)
	}
	for _, s := range []string{"a+", "a+2", "a+zz", "a b", "a=b", "\x7f"} {
		if _, err := DecodeXtext(s); !errors.Is(err, ErrXtext) {
			t.Errorf("DecodeXtext(%q) accepted", s)
		}
	}
}
