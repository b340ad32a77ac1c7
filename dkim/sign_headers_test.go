package dkim

import (
	"strconv"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/internal/header"
)

func signParseSection(tb testing.TB, text string) *header.Section {
	tb.Helper()
	h, _, err := header.Parse([]byte(text+"\r\n"), header.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func TestSignSelectHeaders(t *testing.T) {
	// Field numbers: 0 From, 1 To, 2 Subject(1), 3 X, 4 Subject(2), 5 x, 6 Date.
	const msg = "From: a@example.com\r\nTo: b@example.org\r\nSubject: one\r\nX: 1\r\nsubject : two\r\nx: 2\r\nDate: now\r\n"
	for _, c := range []struct {
		list   string
		fields string // indices hashed, in order
		names  string // h=
	}{
		// Plain: one instance per mention, the last first; absent ones listed.
		{"From:Subject", "4 0", "subject:From"},
		{"From:Subject:Subject", "4 2 0", "subject:Subject:From"},
		{"From:Subject:Subject:Subject", "4 2 0", "subject:Subject:From:Subject"},
		{"From:Cc", "0", "From:Cc"},
		// h= follows the header, bottom up, not the list.
		{"Subject:Date:From:To", "6 4 1 0", "Date:subject:To:From"},
		// '=': all present, nothing for absence.
		{"From:=Subject:=Cc", "4 2 0", "subject:Subject:From"},
		{"From:=X", "5 3 0", "x:X:From"},
		// '+': all present and one absent.
		{"+From:+Subject:+Cc", "4 2 0", "subject:Subject:From:From:Subject:Cc"},
		// Mixed: the first element that matches takes the field.
		{"From:Subject:+Subject", "4 2 0", "subject:Subject:From:Subject"},
		{"From:=Subject:Subject", "4 2 0", "subject:Subject:From:Subject"},
		// Case-insensitive names; the header's own spelling in h=.
		{"FROM:SUBJECT", "4 0", "subject:From"},
	} {
		specs, _, ok := signParseHeaders(c.list)
		if !ok {
			t.Fatalf("%q: not parsed", c.list)
		}
		fields, names := signSelectHeaders(signParseSection(t, msg), specs, make([]bool, len(specs)))
		var fs []string
		for _, f := range fields {
			fs = append(fs, strconv.Itoa(f))
		}
		if strings.Join(fs, " ") != c.fields || strings.Join(names, ":") != c.names {
			t.Errorf("%q: fields %v h=%s, want %s h=%s", c.list, fs, strings.Join(names, ":"), c.fields, c.names)
		}
	}
}

func TestSignParseHeaders(t *testing.T) {
	specs, _, ok := signParseHeaders("")
	if !ok || len(specs) != 28 || specs[0].name != "From" || specs[0].mode != 0 {
		t.Fatalf("default: %v", specs)
	}
	specs, _, ok = signParseHeaders(OversignHeaders)
	if !ok || len(specs) != 28 || specs[0].mode != '+' || specs[27].name != "List-Archive" {
		t.Fatalf("oversign: %v", specs)
	}
	specs, _, ok = signParseHeaders(" =From :: +To\t: Subject ")
	if !ok || len(specs) != 3 || specs[0] != (signHeaderSpec{"From", '='}) || specs[1] != (signHeaderSpec{"To", '+'}) || specs[2] != (signHeaderSpec{"Subject", 0}) {
		t.Fatalf("%v", specs)
	}
	for _, bad := range []string{"To:Subject", "From:=", "From:+", "From:a b", "From:é", "From:X;y"} {
		if _, _, ok := signParseHeaders(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}
