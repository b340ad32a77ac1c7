package dmarc

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestFromDomainsSyntax(t *testing.T) {
	for _, c := range []struct {
		value   string
		domains []string
		bad     bool // a *FromError is expected
	}{
		{"ceo@victim.example", []string{"victim.example"}, false},
		{"CEO <ceo@Victim.Example>", []string{"victim.example"}, false},
		// CFWS wherever RFC 5322 allows it, and obsolete forms.
		{"ceo@(c)victim.example", []string{"victim.example"}, false},
		{"ceo(x)@(y)victim(z).(w)example (trailing)", []string{"victim.example"}, false},
		{"ceo @ victim . example", []string{"victim.example"}, false},
		{"(nested (comment) \\) here) <ceo@victim.example>", []string{"victim.example"}, false},
		{"\"Quoted, \\\"Name\\\" <x@evil.example>\" <ceo@victim.example>", []string{"victim.example"}, false},
		{"\"odd local\"@victim.example", []string{"victim.example"}, false},
		{"first.last@victim.example.", []string{"victim.example"}, false},
		{"<@relay.example,@other.example:ceo@victim.example>", []string{"victim.example"}, false},
		{"Mr. J. Doe <ceo@victim.example>", []string{"victim.example"}, false},
		{"=?utf-8?q?Ch=C3=A9f?= <ceo@victim.example>", []string{"victim.example"}, false},
		{"Jörg <jörg@bücher.example>", []string{"bücher.example"}, false},
		{", ceo@victim.example, ,", []string{"victim.example"}, false},
		// Every address of a list counts, in order.
		{"a@one.example, B <b@two.example>, a@ONE.example", []string{"one.example", "two.example"}, false},
		{"team: a@one.example, b@two.example;", []string{"one.example", "two.example"}, false},
		// Unreadable: never silently nothing.
		{"undisclosed-recipients:;", nil, true},
		{"", nil, true},
		{"ceo@[192.0.2.1]", nil, true},
		{"ceo@localhost", nil, true},
		{"ceo", nil, true},
		{"<ceo@victim.example", []string{"victim.example"}, true},
		{"ceo@victim.example (unterminated", []string{"victim.example"}, true},
		{"\"unterminated <ceo@victim.example>", []string{"victim.example"}, true},
		{"good@ok.example, ceo@victim.example>junk", []string{"ok.example", "victim.example"}, true},
		{"ceo@victim.example\x00", []string{"victim.example"}, true},
	} {
		got, err := fromDomains([]string{c.value})
		var fe *FromError
		if !slices.Equal(got, c.domains) || errors.As(err, &fe) != c.bad {
			t.Errorf("%q: domains %q err %v; want %q bad=%v", c.value, got, err, c.domains, c.bad)
		}
		if err != nil && strings.ContainsFunc(err.Error(), func(r rune) bool { return r < ' ' || r > '~' }) {
			t.Errorf("%q: error text not 7-bit: %q", c.value, err)
		}
	}
	if _, err := fromDomains(nil); !errors.Is(err, ErrNoFrom) {
		t.Errorf("no From fields: %v", err)
	}
}

// FromHeaders finds the From field whatever the rest of the header
// holds, and reports the defects beside it.
func TestFromHeadersHostile(t *testing.T) {
	const from = "From: ceo@victim.example"
	for _, c := range []struct {
		name   string
		lines  []string
		defect bool
	}{
		{"clean", []string{from}, false},
		{"obsolete space before colon", []string{"From : ceo@victim.example"}, false},
		{"ESC in another field", []string{"Subject: \x1b$B", from}, false},
		{"DEL in another field", []string{from, "Subject: a\x7fb"}, false},
		{"8-bit value", []string{"Subject: caf\xc3\xa9", from}, false},
		{"CR in another field", []string{"Subject: a\rb", from}, true},
		{"CR after From", []string{from, "Subject: a\rb"}, true},
		{"NUL in another field", []string{"Subject: a\x00b", from}, true},
		{"line without colon", []string{"garbage line", from}, true},
		{"line without colon after", []string{from, "garbage line"}, true},
		{"empty field name", []string{": x", from}, true},
		{"8-bit field name", []string{"X-\xe9: y", from}, true},
		{"continuation first", []string{" folded", from}, true},
		{"two From fields", []string{from, "From: a@other.example"}, true},
	} {
		msg := strings.Join(append(c.lines, "To: x@y.example"), "\r\n") + "\r\n\r\nbody\r\n"
		vals, err := FromHeaders(strings.NewReader(msg))
		if len(vals) == 0 || !strings.Contains(vals[0], "ceo@victim.example") {
			t.Errorf("%s: From values %q", c.name, vals)
		}
		var he *HeaderError
		if errors.As(err, &he) != c.defect || (c.defect && !errors.Is(err, ErrMalformedHeader)) {
			t.Errorf("%s: err %v, want defect=%v", c.name, err, c.defect)
		}
		ds, _ := fromDomains(vals)
		if !slices.Contains(ds, "victim.example") {
			t.Errorf("%s: domains %q", c.name, ds)
		}
	}
	if _, err := FromHeaders(strings.NewReader(strings.Repeat("X: yyyyyyyyyy\r\n", 100000))); err == nil || errors.Is(err, ErrMalformedHeader) {
		t.Errorf("oversized header: %v", err)
	}
}
