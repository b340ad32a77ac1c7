package prdr

import (
	"errors"
	"testing"
)

func TestParseMailParams(t *testing.T) {
	tests := []struct {
		in     string
		prdr   bool
		others int
		bad    bool
	}{
		{"", false, 0, false},
		{" PRDR", true, 0, false},
		{"prdr", true, 0, false},
		{"SIZE=100 PRDR BODY=8BITMIME", true, 2, false},
		{"SIZE=100\tSMTPUTF8", false, 2, false},
		{"PRDR=yes", false, 0, true},
		{"PRDR PRDR", false, 0, true},
		{"-X", false, 0, true},
		{"SIZE=", false, 0, true},
		{"A=b=c", false, 0, true},
		{"X_Y", false, 0, true},
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
		if err != nil || mp.PRDR != tt.prdr || len(mp.Others) != tt.others {
			t.Errorf("%q: got %+v, %v", tt.in, mp, err)
		}
	}
}

func TestOfferedAndSuffix(t *testing.T) {
	ehlo := Reply{Code: 250, Text: []string{"mx.test Hello", "SIZE 52428800", "PRDR", "CHUNKING"}}
	if !Offered(ehlo) {
		t.Error("PRDR not found")
	}
	for _, r := range []Reply{
		{Code: 250, Text: []string{"PRDR"}}, // greeting line only
		{Code: 250, Text: []string{"mx", "PRDRX"}},
		{Code: 250, Text: []string{"mx", "XPRDR"}},
		{Code: 550, Text: []string{"mx", "PRDR"}},
	} {
		if Offered(r) {
			t.Errorf("Offered(%v) = true", r)
		}
	}
	if MailSuffix(true, 1) != "" || MailSuffix(false, 3) != "" || MailSuffix(true, 2) != " PRDR" {
		t.Error("MailSuffix")
	}
}
