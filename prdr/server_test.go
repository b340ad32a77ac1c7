package prdr

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestFinalReply(t *testing.T) {
	A, T, P := Accept, Temporary, Permanent
	tests := []struct {
		name string
		v    []Verdict
		want string
	}{
		{"all accepted", []Verdict{A, A}, "250 message accepted"},
		{"accept+perm", []Verdict{A, P}, "250 message accepted for some recipients"},
		{"accept+temp", []Verdict{T, A}, "250 message accepted for some recipients"},
		{"accept+temp+perm", []Verdict{P, T, A}, "250 message accepted for some recipients"},
		// Exim's bit trick says 250 "accepted for some" for these two.
		{"all temporary", []Verdict{T, T}, "450 message temporarily rejected for all recipients"},
		{"temp+perm", []Verdict{T, P}, "450 message temporarily rejected for all recipients"},
		{"all permanent", []Verdict{P, P, P}, "550 message rejected for all recipients"},
		{"none", nil, "550 message rejected for all recipients"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FinalReply("", tt.v).String(); got != tt.want {
				t.Errorf("FinalReply = %q, want %q", got, tt.want)
			}
		})
	}
	if got := FinalReply("1abc-000001-AB", []Verdict{A}).String(); got != "250 id=1abc-000001-AB message accepted" {
		t.Errorf("with id: %q", got)
	}
}

func TestDecisionReply(t *testing.T) {
	tests := []struct {
		d    Decision
		want string
	}{
		{Decision{}, "250 PRDR R=<a@x> acceptance\r\n"},
		{Decision{Verdict: Temporary}, "450 PRDR R=<a@x> temporary refusal\r\n"},
		{Decision{Verdict: Permanent}, "550 PRDR R=<a@x> refusal\r\n"},
		{Decision{Verdict: Verdict(9)}, "550 PRDR R=<a@x> refusal\r\n"},
		{Decision{Verdict: Permanent, Code: 554, Enhanced: "5.7.1", Text: "no\nthanks"}, "554-5.7.1 no\r\n554 5.7.1 thanks\r\n"},
		// A code or enhanced code of another class is ignored.
		{Decision{Verdict: Temporary, Code: 550, Enhanced: "5.7.1", Text: "later"}, "450 later\r\n"},
		{Decision{Verdict: Accept, Code: 251, Text: "ok\r\nfine\x00"}, "251-ok\r\n251 fine \r\n"},
	}
	for _, tt := range tests {
		if got := tt.d.Reply("a@x").Wire(); got != tt.want {
			t.Errorf("%+v: got %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestRespond(t *testing.T) {
	decide := func(i int, rcpt string) Decision {
		switch {
		case strings.HasPrefix(rcpt, "rej"):
			return Decision{Verdict: Permanent}
		case strings.HasPrefix(rcpt, "def"):
			return Decision{Verdict: Temporary, Text: "busy\nlater"}
		}
		return Decision{}
	}
	tests := []struct {
		name     string
		t        Transaction
		wire     string
		prdr     bool
		accepted []string
	}{
		{"prdr mixed", Transaction{Requested: true, Recipients: []string{"ok@x", "rej@x", "def@x"}, MessageID: "ID1"},
			"353 PRDR content analysis beginning\r\n" +
				"250 PRDR R=<ok@x> acceptance\r\n" +
				"550 PRDR R=<rej@x> refusal\r\n" +
				"450-busy\r\n450 later\r\n" +
				"250 id=ID1 message accepted for some recipients\r\n", true, []string{"ok@x"}},
		{"prdr none", Transaction{Requested: true, Recipients: []string{"rej@x", "rej2@x"}},
			"353 PRDR content analysis beginning\r\n" +
				"550 PRDR R=<rej@x> refusal\r\n550 PRDR R=<rej2@x> refusal\r\n" +
				"550 message rejected for all recipients\r\n", true, nil},
		{"single recipient", Transaction{Requested: true, Recipients: []string{"ok@x"}},
			"250 message accepted\r\n", false, []string{"ok@x"}},
		{"single refused", Transaction{Requested: true, Recipients: []string{"rej@x"}},
			"550 PRDR R=<rej@x> refusal\r\n", false, nil},
		{"not requested", Transaction{Recipients: []string{"ok@x", "rej@x"}},
			"250 message accepted for some recipients\r\n", false, []string{"ok@x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			out, err := Respond(&b, &tt.t, decide)
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.wire {
				t.Errorf("wire:\n%q\nwant\n%q", b.String(), tt.wire)
			}
			if out.PRDR != tt.prdr {
				t.Errorf("PRDR = %v", out.PRDR)
			}
			if got := strings.Join(out.Accepted(), ","); got != strings.Join(tt.accepted, ",") {
				t.Errorf("Accepted = %q, want %q", got, tt.accepted)
			}
			if len(out.Results) != len(tt.t.Recipients) {
				t.Errorf("%d results", len(out.Results))
			}
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("boom") }

func TestRespondWriteError(t *testing.T) {
	out, err := Respond(failWriter{}, &Transaction{Recipients: []string{"a@x"}}, func(int, string) Decision { return Decision{} })
	if err == nil || out == nil || len(out.Results) != 1 {
		t.Fatalf("got %v, %v", out, err)
	}
}
