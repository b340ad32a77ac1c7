package main

// Black-box tests of prdr-send: the policycheck binary against the
// in-process PRDR server of package prdrtest.

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/prdr"
	"github.com/mailpolicy/mailpolicy/prdr/prdrtest"
)

func startPRDR(t *testing.T, cfg prdrtest.Config) string {
	t.Helper()
	cfg.Decide = func(_ int, rcpt string) prdr.Decision {
		switch {
		case strings.HasPrefix(rcpt, "reject"):
			return prdr.Decision{Verdict: prdr.Permanent}
		case strings.HasPrefix(rcpt, "defer"):
			return prdr.Decision{Verdict: prdr.Temporary, Text: "try\nlater"}
		}
		return prdr.Decision{}
	}
	s, err := prdrtest.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.Addr
}

func messageFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "msg.eml")
	if err := os.WriteFile(p, []byte("Subject: x\n\nhello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPRDRSend(t *testing.T) {
	msg := messageFile(t)
	tests := []struct {
		name string
		cfg  prdrtest.Config
		args []string
		want string
	}{
		{"DATA", prdrtest.Config{}, nil, "prdr_offered=yes\nprdr_requested=yes\nprdr_used=yes\ndata_command=DATA\n" +
			"final_reply=250 message accepted for some recipients\nrcpt_count=3\n" +
			"rcpt_1=ok@x.test delivered 250 PRDR R=<ok@x.test> acceptance\n" +
			"rcpt_2=reject@x.test failed 550 PRDR R=<reject@x.test> refusal\n" +
			"rcpt_3=defer@x.test deferred 450 try later\n"},
		{"BDAT", prdrtest.Config{}, []string{"-bdat"}, "prdr_offered=yes\nprdr_requested=yes\nprdr_used=yes\ndata_command=BDAT 21 LAST\n" +
			"final_reply=250 message accepted for some recipients\nrcpt_count=3\n" +
			"rcpt_1=ok@x.test delivered 250 PRDR R=<ok@x.test> acceptance\n" +
			"rcpt_2=reject@x.test failed 550 PRDR R=<reject@x.test> refusal\n" +
			"rcpt_3=defer@x.test deferred 450 try later\n"},
		{"no PRDR", prdrtest.Config{NoPRDR: true}, nil, "prdr_offered=no\nprdr_requested=no\nprdr_used=no\ndata_command=DATA\n" +
			"final_reply=250 message accepted for some recipients\nrcpt_count=3\n" +
			"rcpt_1=ok@x.test delivered 250 message accepted for some recipients\n" +
			"rcpt_2=reject@x.test delivered 250 message accepted for some recipients\n" +
			"rcpt_3=defer@x.test delivered 250 message accepted for some recipients\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startPRDR(t, tt.cfg)
			args := append([]string{"prdr-send", "-server", addr, "-from", "me@y.test",
				"-to", "ok@x.test,reject@x.test, defer@x.test", "-data", msg}, tt.args...)
			code, out, errOut := policycheck(t, args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %s", code, errOut)
			}
			if out != tt.want {
				t.Errorf("output:\n%s\nwant:\n%s", out, tt.want)
			}
		})
	}
}

func TestPRDRSendJSON(t *testing.T) {
	addr := startPRDR(t, prdrtest.Config{})
	code, out, errOut := policycheck(t, "prdr-send", "-server", addr, "-from", "", "-to", "reject1@x,reject2@x", "-data", messageFile(t), "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if m["final_reply"] != "550 message rejected for all recipients" || m["rcpt_2"] != "reject2@x failed 550 message rejected for all recipients" {
		t.Errorf("got %v", m)
	}
}

func TestPRDRSendFailures(t *testing.T) {
	msg := messageFile(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	base := []string{"prdr-send", "-from", "a@x", "-to", "b@x", "-data", msg}
	if code, _, errOut := policycheck(t, append(base, "-server", closed)...); code != 1 || errOut == "" {
		t.Errorf("connection refused: exit %d, stderr %q", code, errOut)
	}
	for _, args := range [][]string{
		{"prdr-send", "-from", "a@x", "-to", "b@x", "-data", msg},                                     // no -server
		{"prdr-send", "-server", closed, "-from", "a@x", "-to", ",", "-data", msg},                    // no recipient
		{"prdr-send", "-server", closed, "-from", "a@x", "-to", "b@x", "-data", msg + ".missing"},     // no file
		{"prdr-send", "-server", closed, "-from", "a@x", "-to", "<b@x>", "-data", msg},                // bad address
		{"prdr-send", "-server", closed, "-from", "a@x", "-to", "b@x", "-data", msg, "-timeout", "0"}, // bad timeout
		{"prdr-send", "-server", closed, "-from", "a@x", "-to", "b@x", "-data", msg, "extra"},         // stray argument
	} {
		if code, _, _ := policycheck(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if code, out, _ := policycheck(t, "prdr-send", "-h"); code != 0 || !strings.Contains(out, "-server") {
		t.Errorf("-h: exit %d, %q", code, out)
	}
}
