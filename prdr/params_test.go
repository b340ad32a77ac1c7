package prdr

import (
	"testing"

	"github.com/mailpolicy/mailpolicy/smtp"
)

func TestOfferedAndSuffix(t *testing.T) {
	ehlo := smtp.Reply{Code: 250, Text: []string{"mx.test Hello", "SIZE 52428800", "PRDR", "CHUNKING"}}
	if !smtp.ParseEHLO(ehlo).Has(Keyword) {
		t.Error("PRDR not found")
	}
	for _, r := range []smtp.Reply{
		{Code: 250, Text: []string{"PRDR"}}, // greeting line only
		{Code: 250, Text: []string{"mx", "PRDRX"}},
		{Code: 250, Text: []string{"mx", "XPRDR"}},
		{Code: 550, Text: []string{"mx", "PRDR"}},
	} {
		if smtp.ParseEHLO(r).Has(Keyword) {
			t.Errorf("offered in %v", r)
		}
	}
	if MailSuffix(true, 1) != "" || MailSuffix(false, 3) != "" || MailSuffix(true, 2) != " PRDR" {
		t.Error("MailSuffix")
	}
}
